"""Operator drills and tools; the drills are also driven by the tests."""
