"""Scheduling: per-session order, the database threads, rate limits, the worker registry."""
