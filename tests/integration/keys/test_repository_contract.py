"""One contract, three KeyRepository implementations: PostgreSQL, DynamoDB (moto) and the in-memory fake."""
from __future__ import annotations

import os
import random
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.crypto import Envelope
from chalicelib.crypto.adapters.local import LocalKeyring
from chalicelib.keys import KeyVault, rewrap_all
from chalicelib.keys.adapters.dynamodb import TABLE_SCHEMA, DynamoDbKeyRepository
from chalicelib.keys.adapters.postgres import PostgresKeyRepository
from chalicelib.keys.providers import PROVIDERS
from tests.conftest import make_canary_key
from tests.fakes.keys import InMemoryKeyRepository


@pytest.fixture(params=["postgres", "dynamodb", "fake"])
def repository(request):
    if request.param == "postgres":
        yield PostgresKeyRepository(request.getfixturevalue("pg_pool"))
    elif request.param == "dynamodb":
        request.getfixturevalue("aws")
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="api-keys-test", **TABLE_SCHEMA)
        yield DynamoDbKeyRepository(client=client, table_name="api-keys-test")
    else:
        yield InMemoryKeyRepository()


@pytest.fixture
def master_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def vault(repository, master_key) -> KeyVault:
    return KeyVault(repository=repository, envelope=Envelope(LocalKeyring({"v1": master_key})))


def connected(vault: KeyVault, user_id: str) -> dict[str, str | None]:
    return {s.provider: s.hint for s in vault.list(user_id) if s.connected}


def test_put_then_open_all_gives_back_each_key(vault, user_id):
    keys = {p.name: make_canary_key(p.name) for p in PROVIDERS}
    for provider, key in keys.items():
        vault.put(user_id, provider, key)
    assert vault.open_all(user_id) == keys
    assert vault.open_all(str(uuid.uuid4())) == {}


def test_replacing_keeps_added_at_and_moves_updated_at(repository, master_key, user_id):
    clock_times = iter([datetime(2026, 1, 1, tzinfo=timezone.utc), datetime(2026, 2, 1, tzinfo=timezone.utc)])
    vault = KeyVault(repository, Envelope(LocalKeyring({"v1": master_key})), clock=lambda: next(clock_times))
    first = vault.put(user_id, "openai", make_canary_key("openai"))
    newer_key = make_canary_key("openai")
    second = vault.put(user_id, "openai", newer_key)
    assert second.added_at == first.added_at == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert second.updated_at == datetime(2026, 2, 1, tzinfo=timezone.utc)
    assert vault.open_all(user_id) == {"openai": newer_key}


def test_delete_and_mark_used(vault, user_id):
    vault.put(user_id, "anthropic", make_canary_key("anthropic"))
    vault.put(user_id, "gemini", make_canary_key("gemini"))
    vault.mark_used(user_id, ["anthropic", "openai"])  # openai is not connected: must not appear
    summaries = {s.provider: s for s in vault.list(user_id)}
    assert summaries["anthropic"].last_used_at is not None
    assert summaries["gemini"].last_used_at is None
    assert not summaries["openai"].connected
    vault.delete(user_id, "anthropic")
    assert set(connected(vault, user_id)) == {"gemini"}


def test_users_are_isolated(vault):
    alice, bob = str(uuid.uuid4()), str(uuid.uuid4())
    vault.put(alice, "anthropic", make_canary_key("anthropic"))
    vault.delete(bob, "anthropic")
    assert set(connected(vault, alice)) == {"anthropic"}
    assert connected(vault, bob) == {}


def test_fifty_concurrent_saves_and_deletes_end_at_the_last_write_per_provider(vault, user_id):
    """Each provider gets its own ordered stream of writes; streams for different providers race each other."""
    rng = random.Random(7)
    plans = {
        p.name: [("put", make_canary_key(p.name)) if rng.random() < 0.7 else ("delete", None) for _ in range(17)]
        for p in PROVIDERS
    }
    plans["anthropic"][-1] = ("put", make_canary_key("anthropic"))
    plans["gemini"][-1] = ("delete", None)
    start = threading.Barrier(len(plans))

    def run(provider: str) -> None:
        start.wait()
        for action, key in plans[provider]:
            vault.put(user_id, provider, key) if action == "put" else vault.delete(user_id, provider)

    with ThreadPoolExecutor(max_workers=len(plans)) as pool:
        list(pool.map(run, plans))
    expected = {p: plan[-1][1] for p, plan in plans.items() if plan[-1][0] == "put"}
    assert vault.open_all(user_id) == expected


def test_concurrent_saves_of_one_provider_leave_one_whole_record(vault, user_id):
    keys = [make_canary_key("openai") for _ in range(20)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: vault.put(user_id, "openai", key), keys))
    opened = vault.open_all(user_id)["openai"]
    assert opened in keys
    assert connected(vault, user_id)["openai"].endswith(opened[-4:])


def test_rotation_rewraps_everything_once_and_is_safe_to_rerun(repository, master_key, user_id):
    old = KeyVault(repository, Envelope(LocalKeyring({"v1": master_key})))
    users = [user_id, str(uuid.uuid4())]
    keys = {(u, p.name): make_canary_key(p.name) for u in users for p in PROVIDERS}
    for (user, provider), key in keys.items():
        old.put(user, provider, key)
    rotated_envelope = Envelope(LocalKeyring({"v1": master_key, "v2": os.urandom(32)}))
    ours = lambda r: r.user_id in users  # noqa: E731 - the shared database holds other tests' rows too
    progress = []
    report = rewrap_all(repository, rotated_envelope, on_progress=progress.append)
    # Records of other tests in the shared database were sealed under other master keys: they count as failed.
    assert report.rewrapped >= len(keys)
    assert report.scanned == report.rewrapped + report.already_current + report.skipped_changed + report.failed
    assert progress[-1] == report and len(progress) == report.scanned
    assert all(r.sealed.wrapped_key.kek_id == "local:v2" for r in repository.scan() if ours(r))
    again = rewrap_all(repository, rotated_envelope)
    assert again.rewrapped == 0 and again.already_current >= len(keys)
    new_vault = KeyVault(repository, rotated_envelope)
    for user in users:
        assert new_vault.open_all(user) == {p: k for (u, p), k in keys.items() if u == user}


def test_replace_sealed_refuses_a_record_changed_meanwhile(repository, master_key, user_id):
    vault = KeyVault(repository, Envelope(LocalKeyring({"v1": master_key})))
    vault.put(user_id, "gemini", make_canary_key("gemini"))
    (stale,) = repository.list_for_user(user_id)
    newest = make_canary_key("gemini")
    vault.put(user_id, "gemini", newest)
    rotated = Envelope(LocalKeyring({"v1": master_key, "v2": os.urandom(32)}))
    assert repository.replace_sealed(stale, rotated.rewrap(stale.sealed, _context(stale))) is False
    assert vault.open_all(user_id) == {"gemini": newest}


def _context(record):
    from chalicelib.crypto import EncryptionContext

    return EncryptionContext(user_id=record.user_id, provider=record.provider)


def test_times_are_timezone_aware(vault, user_id):
    summary = vault.put(user_id, "anthropic", make_canary_key("anthropic"))
    assert summary.added_at.utcoffset() == timedelta(0)
