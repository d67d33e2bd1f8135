"""The HTTP face: the same instruction set, route table, permission sheet and scheduler
as the TCP server, over HTTP (FastAPI on uvicorn)."""
