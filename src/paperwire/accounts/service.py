"""Account use cases: what the pages, the JSON API and the CLI call."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine

from paperwire.accounts.secrets import (
    check_new_password,
    hash_password,
    needs_rehash,
    new_token,
    token_hash,
    verify_password,
)
from paperwire.clock import as_utc
from paperwire.errors import Conflict, NotFound, UserError
from paperwire.models import Role, User
from paperwire.store import profiles as profile_store
from paperwire.store import users as user_store
from paperwire.store.state import bump_content_version

USERNAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_-]{0,38}[A-Za-z0-9])?")
# Names that would read as the site speaking, or clash with paths.
RESERVED_NAMES = frozenset(
    {"admin", "administrator", "api", "root", "paperwire", "system", "support", "staff", "me"}
)
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")
API_TOKEN_PREFIX = "pw_"  # noqa: S105 - a prefix, not a secret
MAX_TOKEN_NAME = 100


def now_utc() -> datetime:
    return datetime.now(UTC)


def check_username(username: str) -> str:
    username = username.strip()
    if not USERNAME.fullmatch(username):
        raise UserError(
            "A username has 1 to 40 letters, digits, '-' or '_', "
            "and starts and ends with a letter or digit."
        )
    if username.casefold() in RESERVED_NAMES:
        raise UserError(f"The username {username!r} is reserved.")
    return username


def check_email(email: str) -> str:
    email = email.strip()
    if len(email) > 320 or not EMAIL.fullmatch(email) or not email.isprintable():
        raise UserError("Enter a valid email address, like name@example.org.")
    return email.lower()


MAX_DISPLAY_NAME = 100


def check_display_name(display_name: str | None) -> str | None:
    """A display name as stored: one line of at most 100 characters, or None for none."""
    name = " ".join((display_name or "").split())
    if len(name) > MAX_DISPLAY_NAME:
        raise UserError(f"A display name has at most {MAX_DISPLAY_NAME} characters.")
    if any(not c.isprintable() for c in name):
        raise UserError("A display name cannot hold control characters.")
    return name or None


def sign_up(
    conn: Connection,
    *,
    username: str,
    email: str,
    password: str,
    role: Role = Role.MEMBER,
    display_name: str | None = None,
) -> User:
    """Create an account. Raises :class:`UserError` (bad input) or :class:`Conflict`."""
    username = check_username(username)
    email = check_email(email)
    check_new_password(password)
    display_name = check_display_name(display_name)
    try:
        return user_store.create_user(
            conn,
            username=username,
            email=email,
            password_hash=hash_password(password),
            role=role,
            now=now_utc(),
            display_name=display_name,
        )
    except user_store.NameTaken as error:
        taken = "email address" if "email" in str(error) else "username"
        raise Conflict(f"That {taken} is already registered.") from error


def authenticate(conn: Connection, login: str, password: str) -> User | None:
    """The user whose username or email and password these are; None otherwise."""
    # a control character is in no username or email (and PostgreSQL refuses NUL)
    found = user_store.user_and_hash_for_login(conn, login[:320]) if login.isprintable() else None
    stored_hash = found[1] if found else None
    if not verify_password(stored_hash, password[:1024]) or found is None:
        return None
    user, password_hash = found
    if needs_rehash(password_hash):  # parameters were raised since this hash was made
        user_store.set_password_hash(conn, user.id, hash_password(password))
    return user


def start_session(conn: Connection, user: User, days: int) -> str:
    """A new session for ``user``; the returned token goes into the cookie only."""
    token = new_token()
    now = now_utc()
    user_store.delete_expired_sessions(conn, user.id, now)  # sessions end; rows should too
    user_store.create_session(conn, token_hash(token), user.id, now, now + timedelta(days=days))
    return token


def session_user(conn: Connection, token: str) -> User | None:
    return user_store.session_user(conn, token_hash(token), now_utc())


def end_session(conn: Connection, token: str) -> None:
    user_store.delete_session(conn, token_hash(token))


@dataclass(frozen=True, slots=True)
class NewApiToken:
    id: int
    name: str
    token: str  # shown once, never stored


def create_api_token(conn: Connection, user: User, name: str) -> NewApiToken:
    printable = "".join(c if c.isprintable() else " " for c in name)
    name = " ".join(printable.split())[:MAX_TOKEN_NAME] or "token"
    token = new_token(API_TOKEN_PREFIX)
    token_id = user_store.create_api_token(
        conn,
        user_id=user.id,
        name=name,
        token_hash=token_hash(token),
        prefix=token[: len(API_TOKEN_PREFIX) + 4],
        now=now_utc(),
    )
    return NewApiToken(id=token_id, name=name, token=token)


def api_token_user(engine: Engine, token: str) -> User | None:
    with engine.begin() as conn:
        found = user_store.api_token_user(conn, token_hash(token))
        if found is None:
            return None
        user, token_id = found
        user_store.touch_api_token(conn, token_id, now_utc())
        return user


def request_password_reset(conn: Connection, email: str, minutes: int) -> tuple[User, str] | None:
    """A single-use reset token for the account with this email (None if there is none)."""
    user = user_store.user_by_email(conn, email)
    if user is None:
        return None
    token = new_token()
    user_store.create_password_reset(
        conn, token_hash(token), user.id, now_utc() + timedelta(minutes=minutes)
    )
    return user, token


def reset_password(conn: Connection, token: str, new_password: str) -> User:
    """Set a new password from an emailed token; every existing session ends."""
    check_new_password(new_password)
    # hashed before the token is claimed: the claim starts the write, keep it short
    new_hash = hash_password(new_password)
    user_id = user_store.use_password_reset(conn, token_hash(token), now_utc())
    user = user_store.get_user(conn, user_id) if user_id is not None else None
    if user is None:
        raise UserError("This password-reset link is invalid, used or expired. Ask for a new one.")
    user_store.set_password_hash(conn, user.id, new_hash)
    user_store.delete_sessions_of(conn, user.id)
    return user


def change_password(conn: Connection, user: User, current: str, new_password: str) -> None:
    found = user_store.user_and_hash_for_login(conn, user.username)
    if found is None or not verify_password(found[1], current):
        raise UserError("The current password is not right.")
    check_new_password(new_password)
    user_store.set_password_hash(conn, user.id, hash_password(new_password))


def end_all_sessions(conn: Connection, user: User) -> None:
    """Sign ``user`` out everywhere (after a password change, say)."""
    user_store.delete_sessions_of(conn, user.id)


MAX_API_TOKENS = 50  # per account: plenty for scripts, and a bound on what one can pile up


def set_display_name(conn: Connection, user: User, display_name: str | None) -> User:
    """Change the name shown beside the username; pages showing it change too."""
    name = check_display_name(display_name)
    profile_store.set_display_name(conn, user.id, name)
    bump_content_version(conn)
    return replace(user, display_name=name)


@dataclass(frozen=True, slots=True)
class ApiTokenInfo:
    """A token as its owner's list shows it: never the secret, only its first characters."""

    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None


def api_tokens(conn: Connection, user: User) -> list[ApiTokenInfo]:
    return [
        ApiTokenInfo(
            id=row["id"],
            name=row["name"],
            prefix=row["prefix"],
            created_at=as_utc(row["created_at"]) or row["created_at"],
            last_used_at=as_utc(row["last_used_at"]),
        )
        for row in user_store.api_tokens_of(conn, user.id)
    ]


def create_limited_api_token(conn: Connection, user: User, name: str) -> NewApiToken:
    """:func:`create_api_token`, refused once the account holds :data:`MAX_API_TOKENS`."""
    if len(user_store.api_tokens_of(conn, user.id)) >= MAX_API_TOKENS:
        raise Conflict(
            f"An account can hold at most {MAX_API_TOKENS} API tokens; revoke one first."
        )
    return create_api_token(conn, user, name)


def revoke_api_token(conn: Connection, user: User, token_id: int) -> None:
    """Delete one of ``user``'s tokens; it stops working at once."""
    if not user_store.delete_api_token(conn, user.id, token_id):
        raise NotFound(f"You have no API token with id {token_id}.")
