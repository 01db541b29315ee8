"""Argon2id hashing and the password rules (no database)."""

from __future__ import annotations

import hashlib

import pytest
from argon2 import PasswordHasher

from ged.adapters.passwords import Passwords
from ged.domain.errors import ValidationError
from ged.services.accounts import token_digest, validate_password

FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def test_hash_is_argon2id_and_verifies_only_the_right_password() -> None:
    passwords = Passwords(FAST)

    stored = passwords.hash("correct horse battery")

    assert stored.startswith("$argon2id$")
    assert passwords.verify(stored, "correct horse battery")
    assert not passwords.verify(stored, "correct horse batterie")


def test_same_password_hashes_differently_each_time() -> None:
    passwords = Passwords(FAST)

    assert passwords.hash("same password") != passwords.hash("same password")


def test_unknown_user_never_verifies() -> None:
    passwords = Passwords(FAST)

    assert not passwords.verify(None, "not a real password")  # the dummy hash's own password
    assert not passwords.verify("", "anything")


def test_garbage_hash_is_a_failed_check_not_an_error() -> None:
    assert not Passwords(FAST).verify("$argon2id$garbage", "secret")


def test_hash_made_with_other_parameters_needs_rehash() -> None:
    old = Passwords(FAST).hash("correct horse battery")
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))

    assert stronger.needs_rehash(old)
    assert not stronger.needs_rehash(stronger.hash("correct horse battery"))
    assert stronger.verify(old, "correct horse battery")


def test_password_shorter_than_the_minimum_is_refused() -> None:
    with pytest.raises(ValidationError, match="au moins 10") as excinfo:
        validate_password("123456789", "alice", 10)

    assert excinfo.value.field == "password"


def test_password_equal_to_the_username_is_refused() -> None:
    with pytest.raises(ValidationError, match="identifiant"):
        validate_password("Alice.Martin", "alice.martin", 8)


def test_password_over_1024_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="trop long"):
        validate_password("x" * 1025, "alice", 10)


def test_password_at_the_minimum_length_is_accepted() -> None:
    validate_password("0123456789", "alice", 10)  # does not raise


def test_token_digest_is_the_sha256_hex_of_the_token() -> None:
    digest = token_digest("ged_abc")

    assert digest == hashlib.sha256(b"ged_abc").hexdigest()
    assert "ged_abc" not in digest


def test_default_parameters_are_argon2id_rfc_9106_low_memory() -> None:
    stored = Passwords().hash("correct horse battery")

    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
