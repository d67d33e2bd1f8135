"""pydantic models at the edge: request parameters in, reply shapes out."""
