"""Users, their sessions, API tokens and password-reset tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from paperwire.models import Role, User
from paperwire.store.schema import api_tokens, password_resets, sessions, users


class NameTaken(Exception):
    """The username or email is already registered."""


def user_from_row(row: RowMapping) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        display_name=row["display_name"],
    )


USER_COLUMNS = (
    users.c.id,
    users.c.username,
    users.c.email,
    users.c.role,
    users.c.created_at,
    users.c.display_name,
)


def create_user(
    conn: Connection,
    *,
    username: str,
    email: str,
    password_hash: str,
    role: Role,
    now: datetime,
    display_name: str | None = None,
) -> User:
    """Insert a user; raises :class:`NameTaken` when the username or email exists."""
    values: dict[str, Any] = {
        "username": username,
        "username_key": username.casefold(),
        "email": email.lower(),
        "password_hash": password_hash,
        "role": role.value,
        "created_at": now,
        "display_name": display_name,
    }
    try:
        with conn.begin_nested():
            new_id = conn.execute(insert(users).values(values)).inserted_primary_key
    except IntegrityError as error:
        raise NameTaken(str(error.orig)) from error
    assert new_id is not None
    return User(
        id=int(new_id[0]),
        username=username,
        email=email.lower(),
        role=role,
        created_at=now,
        display_name=display_name,
    )


def get_user(conn: Connection, user_id: int) -> User | None:
    row = conn.execute(select(*USER_COLUMNS).where(users.c.id == user_id)).mappings().first()
    return user_from_row(row) if row else None


def get_user_by_name(conn: Connection, username: str) -> User | None:
    row = (
        conn.execute(select(*USER_COLUMNS).where(users.c.username_key == username.casefold()))
        .mappings()
        .first()
    )
    return user_from_row(row) if row else None


def user_and_hash_for_login(conn: Connection, login: str) -> tuple[User, str] | None:
    """The user a log-in names (username, any case, or email) and their password hash."""
    key = login.strip()
    where = users.c.email == key.lower() if "@" in key else users.c.username_key == key.casefold()
    row = conn.execute(select(*USER_COLUMNS, users.c.password_hash).where(where)).mappings().first()
    return (user_from_row(row), row["password_hash"]) if row else None


def user_by_email(conn: Connection, email: str) -> User | None:
    row = (
        conn.execute(select(*USER_COLUMNS).where(users.c.email == email.strip().lower()))
        .mappings()
        .first()
    )
    return user_from_row(row) if row else None


def set_password_hash(conn: Connection, user_id: int, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def set_role(conn: Connection, user_id: int, role: Role) -> None:
    conn.execute(update(users).where(users.c.id == user_id).values(role=role.value))


def count_users(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(users)).scalar_one())


# --- sessions ---


def create_session(
    conn: Connection, token_hash: str, user_id: int, now: datetime, expires_at: datetime
) -> None:
    conn.execute(
        insert(sessions).values(
            token_hash=token_hash, user_id=user_id, created_at=now, expires_at=expires_at
        )
    )


def session_user(conn: Connection, token_hash: str, now: datetime) -> User | None:
    row = (
        conn.execute(
            select(*USER_COLUMNS)
            .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
            .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now)
        )
        .mappings()
        .first()
    )
    return user_from_row(row) if row else None


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(sessions).where(sessions.c.token_hash == token_hash))


def delete_sessions_of(conn: Connection, user_id: int) -> None:
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


def delete_expired_sessions(conn: Connection, user_id: int, now: datetime) -> int:
    return conn.execute(
        delete(sessions).where(sessions.c.user_id == user_id, sessions.c.expires_at <= now)
    ).rowcount


# --- API tokens ---


def create_api_token(
    conn: Connection, *, user_id: int, name: str, token_hash: str, prefix: str, now: datetime
) -> int:
    new_id = conn.execute(
        insert(api_tokens).values(
            user_id=user_id, name=name, token_hash=token_hash, prefix=prefix, created_at=now
        )
    ).inserted_primary_key
    assert new_id is not None
    return int(new_id[0])


def api_token_user(conn: Connection, token_hash: str) -> tuple[User, int] | None:
    row = (
        conn.execute(
            select(*USER_COLUMNS, api_tokens.c.id.label("token_id"))
            .select_from(api_tokens.join(users, users.c.id == api_tokens.c.user_id))
            .where(api_tokens.c.token_hash == token_hash)
        )
        .mappings()
        .first()
    )
    return (user_from_row(row), int(row["token_id"])) if row else None


def touch_api_token(conn: Connection, token_id: int, now: datetime) -> None:
    conn.execute(update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now))


def api_tokens_of(conn: Connection, user_id: int) -> list[RowMapping]:
    return list(
        conn.execute(
            select(
                api_tokens.c.id,
                api_tokens.c.name,
                api_tokens.c.prefix,
                api_tokens.c.created_at,
                api_tokens.c.last_used_at,
            )
            .where(api_tokens.c.user_id == user_id)
            .order_by(api_tokens.c.id)
        ).mappings()
    )


def delete_api_token(conn: Connection, user_id: int, token_id: int) -> bool:
    result = conn.execute(
        delete(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
    )
    return result.rowcount > 0


# --- password resets ---


def create_password_reset(
    conn: Connection, token_hash: str, user_id: int, expires_at: datetime
) -> None:
    conn.execute(
        insert(password_resets).values(
            token_hash=token_hash, user_id=user_id, expires_at=expires_at
        )
    )


def use_password_reset(conn: Connection, token_hash: str, now: datetime) -> int | None:
    """Mark a valid, unused reset token used (once, even under races); its user's id."""
    row = conn.execute(
        select(password_resets.c.user_id).where(
            password_resets.c.token_hash == token_hash,
            password_resets.c.used_at.is_(None),
            password_resets.c.expires_at > now,
        )
    ).first()
    if row is None:
        return None
    claimed = conn.execute(
        update(password_resets)
        .where(password_resets.c.token_hash == token_hash, password_resets.c.used_at.is_(None))
        .values(used_at=now)
    )
    return int(row[0]) if claimed.rowcount == 1 else None
