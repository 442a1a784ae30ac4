"""Password hashing: argon2id with OWASP's parameters, verification, and rehashing of
hashes made with older parameters when their owner next logs in."""

from __future__ import annotations

import re

import pytest
from argon2 import PasswordHasher
from argon2.low_level import Type
from sqlalchemy import Engine, select

from factories import PASSWORD, make_user
from paperwire.accounts import service as accounts
from paperwire.accounts.secrets import (
    check_new_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from paperwire.errors import UserError
from paperwire.store import users as user_store
from paperwire.store.schema import users

# $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
ARGON2_HASH = re.compile(
    r"\$(?P<type>argon2(?:id|i|d))\$v=(?P<version>\d+)"
    r"\$m=(?P<m>\d+),t=(?P<t>\d+),p=(?P<p>\d+)\$(?P<salt>[A-Za-z0-9+/]+)\$(?P<hash>[A-Za-z0-9+/]+)"
)


def parameters(password_hash: str) -> dict[str, str]:
    match = ARGON2_HASH.fullmatch(password_hash)
    assert match, password_hash
    return match.groupdict()


def test_hash_is_argon2id_with_owasp_parameters() -> None:
    found = parameters(hash_password("correct horse battery"))
    assert found["type"] == "argon2id"
    assert found["version"] == "19"
    assert (found["m"], found["t"], found["p"]) == ("19456", "2", "1")  # 19 MiB, 2 passes, 1 lane


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_password("same password"), hash_password("same password")
    assert first != second
    assert parameters(first)["salt"] != parameters(second)["salt"]


def test_verify_accepts_the_password_and_refuses_others() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password(stored, "correct horse battery")
    assert not verify_password(stored, "correct horse batterY")
    assert not verify_password(stored, "")
    assert not verify_password(None, "correct horse battery")  # no account: still no
    assert not verify_password("not a hash at all", "correct horse battery")


def test_new_password_bounds() -> None:
    check_new_password("x" * 8)
    check_new_password("x" * 256)
    with pytest.raises(UserError, match="at least 8"):
        check_new_password("x" * 7)
    with pytest.raises(UserError, match="at most 256"):
        check_new_password("x" * 257)


def test_authenticate_rehashes_a_hash_with_old_parameters(engine: Engine) -> None:
    ada = make_user(engine, "ada")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    old_hash = weak.hash(PASSWORD)
    assert needs_rehash(old_hash)
    with engine.begin() as conn:
        user_store.set_password_hash(conn, ada.id, old_hash)

    with engine.begin() as conn:
        assert accounts.authenticate(conn, "ada", "wrong password") is None
    with engine.connect() as conn:
        assert conn.execute(select(users.c.password_hash)).scalar_one() == old_hash  # untouched

    with engine.begin() as conn:
        signed_in = accounts.authenticate(conn, "ada", PASSWORD)
    assert signed_in is not None
    assert signed_in.id == ada.id
    with engine.connect() as conn:
        new_hash = conn.execute(select(users.c.password_hash)).scalar_one()
    assert new_hash != old_hash
    assert (parameters(new_hash)["m"], parameters(new_hash)["t"]) == ("19456", "2")
    assert not needs_rehash(new_hash)
    assert verify_password(new_hash, PASSWORD)


def test_an_argon2i_hash_is_upgraded_to_argon2id(engine: Engine) -> None:
    ada = make_user(engine, "ada")
    legacy = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, type=Type.I)
    with engine.begin() as conn:
        user_store.set_password_hash(conn, ada.id, legacy.hash(PASSWORD))
    with engine.begin() as conn:
        assert accounts.authenticate(conn, "ada@example.org", PASSWORD) is not None
    with engine.connect() as conn:
        assert parameters(conn.execute(select(users.c.password_hash)).scalar_one())["type"] == (
            "argon2id"
        )
