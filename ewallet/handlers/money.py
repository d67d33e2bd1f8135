"""Supply, pay, transfer and convert: thin wrappers over the ledger, all idempotent."""

from __future__ import annotations

from typing import Any

from ewallet.domain import conversion, ledger
from ewallet.domain.errors import Forbidden, InvalidValue, NotFound
from ewallet.domain.units import minutes_of
from ewallet.domain.validation import find_account
from ewallet.handlers.context import Context
from ewallet.routes import Access, client_route, system_route
from ewallet.schemas.money import (
    ClockToCreditsParams,
    ConvertedToClock,
    ConvertedToCredits,
    CreditsToClockParams,
    Paid,
    PayParams,
    Supplied,
    SupplyParams,
    SystemSupplyParams,
    TransferParams,
    Transferred,
)
from ewallet.storage.models import Account


def _user(_: Any, ctx: Context) -> int:
    return ctx.user.id


def _supply_target(params: SystemSupplyParams, ctx: Context) -> int:
    return _target_account(params, ctx).id


def _target_account(params: SystemSupplyParams, ctx: Context) -> Account:
    account = find_account(ctx.db, email=params.account)
    if account is None or account.deletion_date is not None:
        raise NotFound("no account with that email")
    return account


def _invoice_terms(params: SupplyParams | SystemSupplyParams | PayParams) -> ledger.InvoiceTerms:
    return ledger.InvoiceTerms(currency=params.currency, cost=params.cost, notes=params.notes)


def _check_supply(credits: int, ctx: Context) -> None:
    if credits > ctx.settings.max_supply:
        raise InvalidValue(f"credits: at most {ctx.settings.max_supply} per supply")


def _supplied(movement: ledger.Movement, credits: int) -> Supplied:
    assert movement.invoice_id is not None
    return Supplied(
        supplied_credits=credits,
        ewallet_credits=movement.balance,
        transfer_record=movement.record_id,
        invoice_record=movement.invoice_id,
    )


def supply(params: SupplyParams, ctx: Context) -> Supplied:
    if not ctx.settings.user_supply:
        raise Forbidden("credits are supplied by the operator on this server")
    _check_supply(params.credits, ctx)
    terms = _invoice_terms(params)
    movement = ledger.supply(ctx.db, ctx.user.id, params.credits, terms, ctx.settings.system_name, ctx.now)
    return _supplied(movement, params.credits)


def system_supply(params: SystemSupplyParams, ctx: Context) -> Supplied:
    _check_supply(params.credits, ctx)
    account = _target_account(params, ctx)
    terms = _invoice_terms(params)
    movement = ledger.supply(ctx.db, account.id, params.credits, terms, ctx.settings.system_name, ctx.now)
    return _supplied(movement, params.credits)


def pay(params: PayParams, ctx: Context) -> Paid:
    partner = ledger.find_partner(ctx.db, ctx.user.email, params.pay, ctx.settings.system_name)
    movement = ledger.move(
        ctx.db, ctx.user.id, partner, params.credits, ctx.now, kind=ledger.PAYMENT, terms=_invoice_terms(params)
    )
    assert movement.invoice_id is not None
    return Paid(
        paid_to=movement.partner_email,
        ewallet_credits=movement.balance,
        spent_credits=params.credits,
        transfer_record=movement.record_id,
        invoice_record=movement.invoice_id,
    )


def transfer(params: TransferParams, ctx: Context) -> Transferred:
    partner = ledger.find_partner(ctx.db, ctx.user.email, params.transfer_to, ctx.settings.system_name)
    movement = ledger.move(ctx.db, ctx.user.id, partner, params.credits, ctx.now, kind=ledger.TRANSFER_TYPE)
    return Transferred(
        transferred_to=movement.partner_email,
        ewallet_credits=movement.balance,
        transferred_credits=params.credits,
        transfer_record=movement.record_id,
    )


def credits_to_clock(params: CreditsToClockParams, ctx: Context) -> ConvertedToClock:
    done = conversion.credits_to_clock(
        ctx.db, ctx.user.id, params.credits, ctx.settings.conversion_rate, params.notes, ctx.now
    )
    return ConvertedToClock(
        conversion_record=done.record.id,
        ewallet_credits=done.ewallet_credits,
        credit_clock=minutes_of(done.clock_hundredths),
        converted_credits=params.credits,
    )


def clock_to_credits(params: ClockToCreditsParams, ctx: Context) -> ConvertedToCredits:
    done = conversion.clock_to_credits(
        ctx.db, ctx.user.id, params.minutes, ctx.settings.conversion_rate, params.notes, ctx.now
    )
    return ConvertedToCredits(
        conversion_record=done.record.id,
        ewallet_credits=done.ewallet_credits,
        credit_clock=minutes_of(done.clock_hundredths),
        converted_minutes=minutes_of(params.minutes),
    )


ROUTES = [
    client_route("supply", "credits", supply, Access.USER, SupplyParams, "Buy credits", idempotency_owner=_user),
    client_route("pay", None, pay, Access.USER, PayParams, "Pay credits to a partner", idempotency_owner=_user),
    client_route(
        "transfer", "credits", transfer, Access.USER, TransferParams, "Transfer credits", idempotency_owner=_user
    ),
    client_route(
        "convert", "credits2clock", credits_to_clock, Access.USER, CreditsToClockParams,
        "Convert credits to clock minutes", idempotency_owner=_user,
    ),
    client_route(
        "convert", "clock2credits", clock_to_credits, Access.USER, ClockToCreditsParams,
        "Convert clock minutes to credits", idempotency_owner=_user,
    ),
    system_route(
        "supply", "credits", system_supply, SystemSupplyParams, "Supply credits to an account",
        idempotency_owner=_supply_target,
    ),
]  # fmt: skip
