"""Envelope sealing with the local keyring: round trips, tamper detection, context binding, rotation."""
from __future__ import annotations

import dataclasses
import os

import pytest

from chalicelib.crypto import CiphertextIntegrityError, EncryptionContext, Envelope, SealedSecret, WrappedKey
from chalicelib.crypto.adapters.local import LocalKeyring
from chalicelib.errors import ConfigError

CONTEXT = EncryptionContext(user_id="9b2f6c1e-2a4f-4e1e-9a57-0c1d2e3f4a5b", provider="anthropic")
SECRET = "sk-ant-api03-" + "x" * 60


@pytest.fixture
def envelope() -> Envelope:
    return Envelope(LocalKeyring({"v1": os.urandom(32)}))


def test_round_trip_gives_the_plaintext_back(envelope):
    assert envelope.open(envelope.seal(SECRET, CONTEXT), CONTEXT) == SECRET


def test_each_seal_uses_a_fresh_data_key_and_nonce(envelope):
    first, second = envelope.seal(SECRET, CONTEXT), envelope.seal(SECRET, CONTEXT)
    assert first.nonce != second.nonce
    assert first.wrapped_key.blob != second.wrapped_key.blob
    assert first.ciphertext != second.ciphertext
    assert SECRET.encode() not in first.ciphertext + first.wrapped_key.blob


def _flip(data: bytes, index: int) -> bytes:
    return data[:index] + bytes([data[index] ^ 0x01]) + data[index + 1 :]


@pytest.mark.parametrize("part", ["ciphertext", "nonce", "wrapped_key"])
def test_flipping_any_byte_is_a_clean_integrity_error(envelope, part):
    sealed = envelope.seal(SECRET, CONTEXT)
    original = getattr(sealed, part).blob if part == "wrapped_key" else getattr(sealed, part)
    for index in range(len(original)):
        flipped = _flip(original, index)
        if part == "wrapped_key":
            tampered = dataclasses.replace(sealed, wrapped_key=WrappedKey(flipped, sealed.wrapped_key.kek_id))
        else:
            tampered = dataclasses.replace(sealed, **{part: flipped})
        with pytest.raises(CiphertextIntegrityError) as raised:
            envelope.open(tampered, CONTEXT)
        assert SECRET not in str(raised.value)


@pytest.mark.parametrize(
    "other",
    [
        EncryptionContext(user_id="00000000-0000-4000-8000-000000000001", provider="anthropic"),
        EncryptionContext(user_id=CONTEXT.user_id, provider="openai"),
        EncryptionContext(user_id=CONTEXT.user_id, provider="anthropic", purpose="something-else"),
    ],
)
def test_a_ciphertext_copied_to_another_user_or_provider_fails_to_open(envelope, other):
    with pytest.raises(CiphertextIntegrityError):
        envelope.open(envelope.seal(SECRET, CONTEXT), other)


def test_truncated_or_empty_parts_are_integrity_errors(envelope):
    sealed = envelope.seal(SECRET, CONTEXT)
    for broken in (
        dataclasses.replace(sealed, ciphertext=b""),
        dataclasses.replace(sealed, nonce=sealed.nonce[:5]),
        SealedSecret(sealed.ciphertext, sealed.nonce, WrappedKey(b"", sealed.wrapped_key.kek_id)),
        SealedSecret(sealed.ciphertext, sealed.nonce, WrappedKey(sealed.wrapped_key.blob, "local:v9")),
    ):
        with pytest.raises(CiphertextIntegrityError):
            envelope.open(broken, CONTEXT)


def test_new_master_key_version_keeps_old_records_readable_and_rewrap_moves_them():
    v1 = os.urandom(32)
    old = Envelope(LocalKeyring({"v1": v1}))
    sealed = old.seal(SECRET, CONTEXT)
    rotated = Envelope(LocalKeyring({"v1": v1, "v2": os.urandom(32)}))
    assert rotated.needs_rewrap(sealed)
    assert rotated.open(sealed, CONTEXT) == SECRET
    moved = rotated.rewrap(sealed, CONTEXT)
    assert moved.wrapped_key.kek_id == "local:v2"
    assert (moved.ciphertext, moved.nonce) == (sealed.ciphertext, sealed.nonce)
    assert not rotated.needs_rewrap(moved)
    assert rotated.open(moved, CONTEXT) == SECRET


def test_an_empty_keyring_is_a_configuration_error():
    with pytest.raises(ConfigError):
        LocalKeyring({})
