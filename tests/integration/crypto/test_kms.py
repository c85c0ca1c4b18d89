"""The KMS key wrapper under moto: encryption context enforced, tampering detected, ReEncrypt to a new key."""
from __future__ import annotations

import dataclasses
import uuid

import boto3
import pytest

from chalicelib.crypto import CiphertextIntegrityError, EncryptionContext, Envelope, KeyWrapperUnavailableError, WrappedKey
from chalicelib.crypto.adapters.kms import KmsKeyWrapper
from chalicelib.keys import KeyVault, rewrap_all
from tests.conftest import make_canary_key
from tests.fakes.keys import InMemoryKeyRepository


@pytest.fixture
def kms(aws):
    return boto3.client("kms", region_name="us-east-1")


@pytest.fixture
def key_arn(kms):
    return kms.create_key(Description="aether api keys")["KeyMetadata"]["Arn"]


def test_seal_and_open_through_kms_binds_the_context(kms, key_arn):
    envelope = Envelope(KmsKeyWrapper(kms=kms, key_id=key_arn))
    context = EncryptionContext(user_id=str(uuid.uuid4()), provider="openai")
    secret = make_canary_key("openai")
    sealed = envelope.seal(secret, context)
    assert sealed.wrapped_key.kek_id == key_arn
    assert envelope.open(sealed, context) == secret
    for other in (dataclasses.replace(context, user_id=str(uuid.uuid4())), dataclasses.replace(context, provider="gemini")):
        with pytest.raises(CiphertextIntegrityError):
            envelope.open(sealed, other)


def test_a_flipped_wrapped_key_is_an_integrity_error(kms, key_arn):
    envelope = Envelope(KmsKeyWrapper(kms=kms, key_id=key_arn))
    context = EncryptionContext(user_id=str(uuid.uuid4()), provider="anthropic")
    sealed = envelope.seal(make_canary_key("anthropic"), context)
    blob = bytearray(sealed.wrapped_key.blob)
    blob[len(blob) // 2] ^= 0x01
    with pytest.raises(CiphertextIntegrityError):
        envelope.open(dataclasses.replace(sealed, wrapped_key=WrappedKey(bytes(blob), key_arn)), context)


def test_kms_outage_is_an_upstream_error_without_details(key_arn):
    dead = boto3.client("kms", region_name="us-east-1", endpoint_url="http://127.0.0.1:9")
    envelope = Envelope(KmsKeyWrapper(kms=dead, key_id=key_arn))
    with pytest.raises(KeyWrapperUnavailableError):
        envelope.seal("sk-whatever", EncryptionContext(user_id=str(uuid.uuid4()), provider="openai"))


def test_rotation_reencrypts_inside_kms_to_the_new_key(kms, key_arn):
    repository = InMemoryKeyRepository()
    old_vault = KeyVault(repository, Envelope(KmsKeyWrapper(kms=kms, key_id=key_arn)))
    user = str(uuid.uuid4())
    keys = {p: make_canary_key(p) for p in ("anthropic", "openai")}
    for provider, key in keys.items():
        old_vault.put(user, provider, key)
    new_arn = kms.create_key(Description="next")["KeyMetadata"]["Arn"]
    new_envelope = Envelope(KmsKeyWrapper(kms=kms, key_id=new_arn))
    report = rewrap_all(repository, new_envelope)
    assert (report.scanned, report.rewrapped, report.failed) == (2, 2, 0)
    assert {r.sealed.wrapped_key.kek_id for r in repository.scan()} == {new_arn}
    assert KeyVault(repository, new_envelope).open_all(user) == keys
    assert rewrap_all(repository, new_envelope).already_current == 2
