"""One method per instruction, shared by the blocking and the asyncio client: each builds the
instruction set and hands it to `_send`, which returns the response data (a coroutine of it in
AsyncClient) or raises EWalletError."""

from __future__ import annotations

import abc
from typing import Any

from ewallet.client.events import UNSUBSCRIBE, subscribe_instruction

SHEET_KINDS = ("transfer", "invoice", "time", "conversion")


def _given(**values: Any) -> dict[str, Any]:
    """Optional parameters that were given."""
    return {key: value for key, value in values.items() if value is not None}


def _kind(kind: str) -> str:
    if kind not in SHEET_KINDS:
        raise ValueError(f"kind must be one of {', '.join(SHEET_KINDS)}")
    return kind


class Instructions(abc.ABC):
    @abc.abstractmethod
    def _send(self, instruction: dict[str, Any], *, session: bool = True) -> Any:
        """Send one instruction set; the response data, or (asyncio client) a coroutine of it."""

    def _client(self, action: str, /, **fields: Any) -> Any:
        return self._send({"controller": "client", "ctype": "action", "action": action, **fields})

    def _system(self, action: str, /, **fields: Any) -> Any:
        return self._send({"controller": "system", "ctype": "action", "action": action, **fields})

    # -- session ---------------------------------------------------------------------------------

    def ping(self) -> Any:
        """Whether the server is alive and its database answers: pong, database, version."""
        return self._send({"controller": "client", "ctype": "action", "action": "ping"}, session=False)

    def request_client_id(self) -> Any:
        return self._send(
            {"controller": "client", "ctype": "action", "action": "request", "request": "client_id"}, session=False
        )

    def request_session_token(self, client_id: str, expiration_date: str | None = None) -> Any:
        instruction = {"controller": "client", "ctype": "action", "action": "request", "request": "session_token"}
        return self._send(
            instruction | {"client_id": client_id} | _given(expiration_date=expiration_date), session=False
        )

    # -- accounts --------------------------------------------------------------------------------

    def create_account(
        self,
        user_name: str,
        user_pass: str,
        user_email: str,
        user_phone: str | None = None,
        user_alias: str | None = None,
    ) -> Any:
        return self._client(
            "new",
            new="account",
            user_name=user_name,
            user_pass=user_pass,
            user_email=user_email,
            **_given(user_phone=user_phone, user_alias=user_alias),
        )

    def login(self, email_or_name: str, password: str) -> Any:
        who = {"user_email": email_or_name} if "@" in email_or_name else {"user_name": email_or_name}
        return self._client("login", **who, user_pass=password)

    def logout(self) -> Any:
        return self._client("logout")

    def switch_account(self, email: str) -> Any:
        return self._client("switch", switch="account", account=email)

    def view_account(self) -> Any:
        return self._client("view", view="account")

    def edit_account(self, **fields: Any) -> Any:
        """Any of user_name, user_pass, user_email, user_phone, user_alias, current_pass."""
        return self._client("edit", edit="account", **fields)

    def unlink_account(self) -> Any:
        return self._client("unlink", unlink="account")

    def view_login_records(self) -> Any:
        return self._client("view", view="login")

    def view_logout_records(self) -> Any:
        return self._client("view", view="logout")

    # -- credits ---------------------------------------------------------------------------------

    def supply_credits(self, credits: int, **invoice: Any) -> Any:
        """invoice: currency, cost, notes, idempotency_key."""
        return self._client("supply", supply="credits", credits=credits, **invoice)

    def pay(self, partner: str, credits: int, **invoice: Any) -> Any:
        return self._client("pay", pay=partner, credits=credits, **invoice)

    def transfer(self, to: str, credits: int, idempotency_key: str | None = None) -> Any:
        return self._client(
            "transfer", transfer="credits", transfer_to=to, credits=credits, **_given(idempotency_key=idempotency_key)
        )

    def convert_credits_to_clock(self, credits: int, **options: Any) -> Any:
        return self._client("convert", convert="credits2clock", credits=credits, **options)

    def convert_clock_to_credits(self, minutes: float, **options: Any) -> Any:
        return self._client("convert", convert="clock2credits", minutes=minutes, **options)

    # -- the clock timer -------------------------------------------------------------------------

    def start_timer(self) -> Any:
        return self._client("start", start="clock_timer")

    def pause_timer(self) -> Any:
        return self._client("pause", pause="clock_timer")

    def resume_timer(self) -> Any:
        return self._client("resume", resume="clock_timer")

    def stop_timer(self) -> Any:
        return self._client("stop", stop="clock_timer")

    def view_timer(self) -> Any:
        """The active clock's timer now: clock_state, credit_clock, remaining_minutes (what a stop
        now would leave), elapsed_minutes, pending_minutes, start_timestamp, expected_stop."""
        return self._client("view", view="clock_timer")

    # -- ewallets and clocks ---------------------------------------------------------------------

    def new_credit_ewallet(self, reference: str | None = None) -> Any:
        return self._client("new", new="credit", credit="ewallet", **_given(reference=reference))

    def new_credit_clock(self, reference: str | None = None) -> Any:
        return self._client("new", new="credit", credit="clock", **_given(reference=reference))

    def view_credit_ewallet(self) -> Any:
        return self._client("view", view="credit", credit="ewallet")

    def view_credit_clock(self) -> Any:
        return self._client("view", view="credit", credit="clock")

    def switch_credit_ewallet(self, ewallet_id: int) -> Any:
        return self._client("switch", switch="credit", credit="ewallet", ewallet_id=ewallet_id)

    def switch_credit_clock(self, clock_id: int) -> Any:
        return self._client("switch", switch="credit", credit="clock", clock_id=clock_id)

    def unlink_credit_ewallet(self, ewallet_id: int) -> Any:
        return self._client("unlink", unlink="credit", credit="ewallet", ewallet_id=ewallet_id)

    def unlink_credit_clock(self, clock_id: int) -> Any:
        return self._client("unlink", unlink="credit", credit="clock", clock_id=clock_id)

    # -- sheets and records (kind: transfer, invoice, time, conversion) --------------------------

    def new_sheet(self, kind: str, reference: str | None = None) -> Any:
        return self._client("new", new=_kind(kind), **{kind: "list"}, **_given(reference=reference))

    def view_sheet(self, kind: str) -> Any:
        return self._client("view", view=_kind(kind), **{kind: "list"})

    def switch_sheet(self, kind: str, sheet_id: int) -> Any:
        return self._client("switch", switch=f"{_kind(kind)}_sheet", sheet_id=sheet_id)

    def unlink_sheet(self, kind: str, list_id: int) -> Any:
        return self._client("unlink", unlink=_kind(kind), **{kind: "list"}, list_id=list_id)

    def view_record(self, kind: str, record_id: int) -> Any:
        return self._client("view", view=_kind(kind), **{kind: "record"}, record_id=record_id)

    def unlink_record(self, kind: str, record_id: int) -> Any:
        return self._client("unlink", unlink=_kind(kind), **{kind: "record"}, record_id=record_id)

    def history_page(
        self,
        kind: str,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        sheet_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
        transfer_type: str | None = None,
        partner: str | None = None,
        min_credits: int | None = None,
        max_credits: int | None = None,
    ) -> Any:
        """One page of `history`: records (newest first) and next_cursor. `history(kind, ...)`
        of Client and AsyncClient follows the cursors for you."""
        return self._client(
            "history",
            history=_kind(kind),
            **_given(
                limit=limit,
                cursor=cursor,
                sheet_id=sheet_id,
                since=since,
                until=until,
                transfer_type=transfer_type,
                partner=partner,
                min_credits=min_credits,
                max_credits=max_credits,
            ),
        )

    # -- contacts --------------------------------------------------------------------------------

    def new_contact_list(self, reference: str | None = None) -> Any:
        return self._client("new", new="contact", contact="list", **_given(reference=reference))

    def new_contact_record(self, user_name: str, **fields: Any) -> Any:
        """fields: user_email, user_phone, user_reference, notes, contact_list."""
        return self._client("new", new="contact", contact="record", user_name=user_name, **fields)

    def view_contact_list(self) -> Any:
        return self._client("view", view="contact", contact="list")

    def view_contact_record(self, record_id: int) -> Any:
        return self._client("view", view="contact", contact="record", record_id=record_id)

    def switch_contact_list(self, list_id: int) -> Any:
        return self._client("switch", switch="contact_list", list_id=list_id)

    def unlink_contact_list(self, list_id: int) -> Any:
        return self._client("unlink", unlink="contact", contact="list", list_id=list_id)

    def unlink_contact_record(self, record_id: int) -> Any:
        return self._client("unlink", unlink="contact", contact="record", record_id=record_id)

    # -- events (the clients override these: the events come after the answer) --------------------

    def subscribe(
        self, after: int | None = None, kinds: list[str] | None = None, clock_low_minutes: float | None = None
    ) -> Any:
        """Receive the active account's events on this connection (PROTOCOL §12)."""
        return self._send(subscribe_instruction(after, kinds, clock_low_minutes))

    def unsubscribe(self) -> Any:
        return self._send(dict(UNSUBSCRIBE))

    # -- system (needs the client's system_key) --------------------------------------------------

    def new_worker(self) -> Any:
        return self._system("new", new="worker")

    def new_session(self, reference: str | None = None) -> Any:
        return self._system("new", new="session", **_given(reference=reference))

    def interrogate_session(self, session_id: int) -> Any:
        return self._system("interogate", interogate="session", session_id=session_id)

    def interrogate_workers(self) -> Any:
        return self._system("interogate", interogate="workers")

    def cleanup_sessions(self, **target: Any) -> Any:
        """target: at most one of session_id, session_token, client_id (none: the expired)."""
        return self._system("cleanup", cleanup="sessions", **target)

    def cleanup_workers(self) -> Any:
        return self._system("cleanup", cleanup="workers")

    def cleanup_accounts(self) -> Any:
        return self._system("cleanup", cleanup="accounts")

    def system_supply(self, account: str, credits: int, **invoice: Any) -> Any:
        return self._system("supply", supply="credits", account=account, credits=credits, **invoice)
