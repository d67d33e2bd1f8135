"""Domain logic: synchronous, free of sockets, JSON and pydantic."""
