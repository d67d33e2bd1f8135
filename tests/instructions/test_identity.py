"""Identity (PROTOCOL §11): user names and emails are unique under NFKC normalisation followed
by case folding, a name that folds to the system name is refused, and a value within the length
limits whose folded form is longer still works (never `internal_error`), on both backends."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from tests.answers import ok, refused
from tests.instructions.expect import call
from tests.support import PASSWORD, LineClient, Running


def create(client: LineClient, name: str, email: str) -> Any:
    return call(client, "new=account", user_name=name, user_pass=PASSWORD, user_email=email)


def login(client: LineClient, **who: str) -> Any:
    return client.call(action="login", user_pass=PASSWORD, **who)


class TestEquivalentNames:
    @pytest.mark.parametrize(
        "twin",
        [
            "\uff41\uff4c\uff49\uff43\uff45",  # full-width "alice"
            "ALICE",
            "\u1d2c\u1d38\u1d35\u1d9c\u1d31",  # modifier letters that NFKC makes "ALICE"
        ],
        ids=["full-width", "upper-case", "modifier-letters"],
    )
    async def test_refuses_a_name_equivalent_to_a_taken_one(self, any_server: Running, twin: str) -> None:
        client = await any_server.session()
        ok(await create(client, "alice", "alice@example.com"), "account", "account_data")
        if unicodedata.normalize("NFKC", twin).casefold() != "alice":
            pytest.skip("this Python's Unicode data folds the twin differently")
        refused(await create(client, twin, "other@example.com"), "already_exists")

    async def test_refuses_a_decomposed_spelling_of_a_taken_name(self, any_server: Running) -> None:
        client = await any_server.session()
        composed, decomposed = "Jos\u00e9", "Jose\u0301"
        ok(await create(client, composed, "jose@example.com"), "account", "account_data")
        refused(await create(client, decomposed, "jose2@example.com"), "already_exists")

    async def test_logs_in_by_any_equivalent_spelling_of_the_name(self, any_server: Running) -> None:
        client = await any_server.session()
        ok(await create(client, "Jos\u00e9", "jose@example.com"), "account", "account_data")
        ok(await login(client, user_name="JOSE\u0301"), "account", "session_data")

    @pytest.mark.parametrize(
        "name",
        ["\uff45wallet-system", "\uff25\uff37allet-\uff33ystem", "ewallet\ufe63system"],
        ids=["one-full-width-letter", "full-width-capitals", "small-hyphen-minus"],
    )
    async def test_refuses_a_name_that_folds_to_the_system_name(self, any_server: Running, name: str) -> None:
        client = await any_server.session()
        refused(await create(client, name, "imitator@example.com"), "already_exists")


class TestEquivalentEmails:
    async def test_refuses_an_email_equivalent_to_a_taken_one(self, any_server: Running) -> None:
        client = await any_server.session()
        ok(await create(client, "alice", "alice@example.com"), "account", "account_data")
        refused(await create(client, "alice2", "\uff41lice@example.com"), "already_exists")

    async def test_moves_credits_to_an_equivalent_spelling_of_the_partners_email(self, any_server: Running) -> None:
        alice = await any_server.user("alice")
        bob = await any_server.user("bob")
        assert (await call(alice, "supply=credits", credits=10))["failed"] is False
        answer = ok(
            await call(alice, "transfer=credits", transfer_to="\uff42OB@example.com", credits=4),
            "transfered_to",
            "ewallet_credits",
            "transfered_credits",
            "transfer_record",
        )
        assert answer["transfered_to"] == bob.email  # type: ignore[attr-defined]


class TestFoldedFormsLongerThanTheColumn:
    """255 characters is the limit of the value as given; folding may make it several times
    longer (`ß` -> `ss`, `ﷺ` -> 18 characters). PostgreSQL answered internal_error here."""

    @pytest.mark.parametrize("letter", ["\u00df", "\ufb03", "\ufdfa"], ids=["sharp-s", "ffi-ligature", "ligature-18"])
    async def test_registers_and_logs_in_a_name_that_folds_longer(self, any_server: Running, letter: str) -> None:
        client = await any_server.session()
        name = letter * 255
        assert len(unicodedata.normalize("NFKC", name).casefold()) > 255
        ok(await create(client, name, "long@example.com"), "account", "account_data")
        ok(await login(client, user_name=name), "account", "session_data")
        refused(await create(client, name, "long2@example.com"), "already_exists")

    async def test_registers_an_email_that_folds_longer(self, any_server: Running) -> None:
        client = await any_server.session()
        email = "\u00df" * 60 + "@example.com"
        ok(await create(client, "sharp", email), "account", "account_data")
        ok(await login(client, user_email=email.upper()), "account", "session_data")

    async def test_edits_the_name_to_one_that_folds_longer(self, any_server: Running) -> None:
        client = await any_server.user("plain")
        answer = ok(await call(client, "edit=account", user_name="\ufb03" * 255), "account", "edit", "account_data")
        assert answer["edit"]["name"] is True
