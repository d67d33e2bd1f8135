"""Account instructions: create, login, logout, switch, view, edit, unlink, login/logout
records; and the system's account cleaner."""

from __future__ import annotations

from datetime import timedelta

from ewallet.domain import account_cleaner, account_edit, accounts, views
from ewallet.domain.account_edit import AccountChanges
from ewallet.domain.password_work import EditCheck, EditVerdict, HashedPassword, LoginCheck, LoginVerdict, NewHash
from ewallet.domain.session_views import summarise
from ewallet.handlers.context import Context
from ewallet.routes import Access, client_route, system_route
from ewallet.schemas.accounts import (
    AccountCreated,
    AccountEdited,
    AccountSession,
    AccountUnlinked,
    AccountView,
    EditAccountParams,
    LoginParams,
    LoginRecords,
    LogoutRecords,
    NewAccountParams,
    SwitchAccountParams,
)
from ewallet.schemas.base import NoParams
from ewallet.schemas.system import AccountsCleaned
from ewallet.storage.models import Account


def account_info(ctx: Context, account: Account) -> views.AccountInfo:
    return views.account_data(ctx.db, account, ctx.now, ctx.services.lifetimes)


def session_reply(ctx: Context, account: Account) -> AccountSession:
    return AccountSession.of(account.email, summarise(ctx.db, ctx.load_session()))


def _new_account(params: NewAccountParams) -> accounts.NewAccount:
    return accounts.NewAccount(
        name=params.user_name,
        password=params.user_pass,
        email=params.user_email,
        phone=params.user_phone,
        alias=params.user_alias,
    )


def prepare_create(params: NewAccountParams, ctx: Context) -> NewHash:
    return accounts.prepare_account(ctx.db, _new_account(params), ctx.settings.system_name)


def create(params: NewAccountParams, ctx: Context) -> AccountCreated:
    hashed = ctx.prepared_as(HashedPassword)
    account = accounts.create_account(ctx.db, _new_account(params), hashed, ctx.now, ctx.settings.system_name)
    return AccountCreated.of(account_info(ctx, account))


def _attempt(params: LoginParams, ctx: Context) -> accounts.LoginAttempt:
    return accounts.LoginAttempt(
        password=params.user_pass, peer=ctx.peer, email=params.user_email, name=params.user_name
    )


def _login_limits(ctx: Context) -> accounts.LoginLimits:
    return accounts.LoginLimits(ctx.settings.login_failure_limit, ctx.settings.peer_login_rate)


def prepare_login(params: LoginParams, ctx: Context) -> LoginCheck:
    return accounts.prepare_login(ctx.db, _attempt(params, ctx), ctx.now, _login_limits(ctx))


def login(params: LoginParams, ctx: Context) -> AccountSession:
    verdict = ctx.prepared_as(LoginVerdict)
    account = accounts.login(
        ctx.db, ctx.load_session(), _attempt(params, ctx), verdict, ctx.now, ctx.services.lifetimes, _login_limits(ctx)
    )
    return session_reply(ctx, account)


def logout(_: NoParams, ctx: Context) -> AccountSession:
    account = accounts.logout(ctx.db, ctx.load_session(), ctx.now, ctx.services.lifetimes)
    return session_reply(ctx, account)


def switch(params: SwitchAccountParams, ctx: Context) -> AccountSession:
    account = accounts.switch_account(ctx.db, ctx.load_session(), params.account, ctx.now, ctx.services.lifetimes)
    return session_reply(ctx, account)


def view(_: NoParams, ctx: Context) -> AccountView:
    return AccountView.of(account_info(ctx, ctx.load_account()))


def _changes(params: EditAccountParams) -> AccountChanges:
    return AccountChanges(
        name=params.user_name,
        password=params.user_pass,
        email=params.user_email,
        phone=params.user_phone,
        alias=params.user_alias,
        current_password=params.current_pass,
    )


def prepare_edit(params: EditAccountParams, ctx: Context) -> EditCheck:
    return account_edit.prepare_edit(ctx.db, ctx.user.id, _changes(params), ctx.now)


def edit(params: EditAccountParams, ctx: Context) -> AccountEdited:
    verdict = ctx.prepared_as(EditVerdict)
    account = ctx.load_account()
    editor = account_edit.Editor(ctx.peer, ctx.settings.login_failure_limit, ctx.settings.system_name)
    outcome = account_edit.edit_account(ctx.db, account, _changes(params), verdict, ctx.now, editor)
    return AccountEdited.of(outcome, account_info(ctx, account))


def unlink(_: NoParams, ctx: Context) -> AccountUnlinked:
    account = ctx.load_account()
    accounts.order_deletion(ctx.db, account, ctx.now, timedelta(days=ctx.settings.unlink_grace_days))
    return AccountUnlinked(account=account.email)


def login_records(_: NoParams, ctx: Context) -> LoginRecords:
    return LoginRecords(
        account=ctx.user.email, login_records=views.login_stamps(ctx.db, ctx.user.id, ctx.settings.max_listed_records)
    )


def logout_records(_: NoParams, ctx: Context) -> LogoutRecords:
    return LogoutRecords(
        account=ctx.user.email, logout_records=views.logout_stamps(ctx.db, ctx.user.id, ctx.settings.max_listed_records)
    )


def cleanup_accounts(_: NoParams, ctx: Context) -> AccountsCleaned:
    return AccountsCleaned(accounts_cleaned=account_cleaner.clean_accounts(ctx.db, ctx.now))


ROUTES = [
    client_route(
        "new",
        "account",
        create,
        Access.SESSION,
        NewAccountParams,
        "Create an account",
        prepare=prepare_create,
        counts_as_anonymous=True,
    ),
    client_route(
        "login", None, login, Access.SESSION, LoginParams, "Log an account in on this session", prepare=prepare_login
    ),
    client_route("logout", None, logout, Access.USER, summary="Log the active account out"),
    client_route("switch", "account", switch, Access.USER, SwitchAccountParams, "Make a stacked account active"),
    client_route("view", "account", view, Access.USER, summary="View the active account", read_only=True),
    client_route(
        "edit", "account", edit, Access.USER, EditAccountParams, "Edit the active account", prepare=prepare_edit
    ),
    client_route("unlink", "account", unlink, Access.USER, summary="Order the active account's deletion"),
    client_route("view", "login", login_records, Access.USER, summary="View login records", read_only=True),
    client_route("view", "logout", logout_records, Access.USER, summary="View logout records", read_only=True),
    system_route("cleanup", "accounts", cleanup_accounts, summary="Anonymise accounts past deletion"),
]
