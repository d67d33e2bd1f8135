"""The shell's live events: on a terminal, incoming payments, clock warnings and timers that
stopped by themselves are printed above the prompt as they happen.

They come on a second connection (the shell's own is used request by request, and nobody reads it
while the prompt waits for the user), read by a thread, with the shell's client id and session
token: a subscription is bound to the session's active account, so the watcher subscribes again
whenever the shell sees another account become active (login, switch, logout), and stops when
none is. Scripts (no terminal) get no events: their stdout is the answers to their commands, in
order, which events arriving at any moment would make timing-dependent (`ewallet call --follow`
is the tool for a script that wants them)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any

from ewallet.client import Client, EWalletError

#: The kinds the shell shows (its own logins would only echo the `login` command).
SHOWN = ["credits_received", "clock_low", "timer_stopped"]
#: Seconds the prompt waits for the watcher's subscription at most (a slow server delays it no more).
SUBSCRIBE_WAIT = 3.0


def describe(event: dict[str, Any]) -> str | None:
    """One line for an event, or None for a kind the shell does not show."""
    data = event.get("data", {})
    kind = event.get("event")
    if kind == "credits_received":
        record = data["record"]
        return f"+{record['credits']} credits from {record['transfer_from']} (balance {data['ewallet_credits']})"
    if kind == "clock_low":
        return f"clock {data['clock']}: {data['remaining_minutes']:.2f} minutes left, stops at {data['expected_stop']}"
    if kind == "timer_stopped":
        spent = data["record_data"]["time_spent"]
        return f"clock {data['clock']}: the timer stopped by itself, the clock ran out ({spent:.2f} minutes billed)"
    return None


class Watcher:
    """`follow(client_id, session_token, account)` after each command; `stop()` at the end.
    `show` is called from the watcher's thread with each line."""

    def __init__(self, host: str, port: int, show: Callable[[str], None]) -> None:
        self.host, self.port, self.show = host, port, show
        self._following: tuple[str | None, str | None, str | None] = (None, None, None)
        self._client: Client | None = None
        self._thread: threading.Thread | None = None

    def follow(self, client_id: str | None, session_token: str | None, account: str | None) -> None:
        wanted = (client_id, session_token, account)
        if wanted == self._following and (account is None or self._alive()):
            return
        self.stop()
        self._following = wanted
        if account is None or session_token is None:
            return
        client = Client(self.host, self.port)
        client.client_id, client.session_token = client_id, session_token
        self._client = client
        subscribed = threading.Event()
        self._thread = threading.Thread(
            target=self._watch, args=(client, account, subscribed), name="ewallet-events", daemon=True
        )
        self._thread.start()
        # The prompt comes once the subscription holds: what happens from then on is shown.
        subscribed.wait(timeout=SUBSCRIBE_WAIT)

    def _alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _watch(self, client: Client, account: str, subscribed: threading.Event) -> None:
        try:
            events = client.subscribe(kinds=SHOWN)
            subscribed.set()
            if events.terms.account != account:
                return  # another account became active meanwhile: the next follow() subscribes again
            for event in events:
                line = describe(event)
                if line is not None:
                    self.show(line)
        except EWalletError:
            pass  # the session or the server is gone: the shell's own connection tells the user
        except Exception:
            if self._client is client:
                raise
            # stop() closed the client under a call in progress: what it raised does not matter
        finally:
            subscribed.set()
            with contextlib.suppress(OSError):
                client.close()

    def stop(self) -> None:
        client, thread = self._client, self._thread
        self._client = self._thread = None
        self._following = (None, None, None)
        if client is not None:
            client.close()  # wakes the thread's read
        if thread is not None:
            thread.join(timeout=2.0)
