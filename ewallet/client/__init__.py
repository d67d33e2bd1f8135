"""The ewallet client library: `Client` (blocking) and `AsyncClient` (asyncio), each keeping
one connection and the caller's client id and session token. It speaks only the wire protocol
and never imports the server."""

from ewallet.client.aio import AsyncClient
from ewallet.client.errors import ConnectionFailed, EWalletError
from ewallet.client.events import SubscriptionLost
from ewallet.client.sync import Client

__all__ = ["AsyncClient", "Client", "ConnectionFailed", "EWalletError", "SubscriptionLost"]
