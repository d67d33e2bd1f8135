"""Errors a client raises."""

from __future__ import annotations


class EWalletError(Exception):
    """The server answered `failed: true`; `code` is the protocol's error code."""

    def __init__(self, code: str, message: str, response: dict | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.response = response or {}


class ConnectionFailed(EWalletError):
    """The server could not be reached, or closed the connection."""

    def __init__(self, message: str) -> None:
        super().__init__("connection_failed", message)
