"""The session manager: client ids, session tokens, the worker pool and per-session ordering."""
