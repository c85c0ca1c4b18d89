"""The Fly client against the fake Machines API: auth, retries, error codes, leases."""
from __future__ import annotations

import pytest
import requests

from chalicelib.machines.adapters.fly import FlyMachinesApi
from chalicelib.machines.errors import (
    CreateOutcomeUnknownError,
    FlyCapacityError,
    FlyRejectedError,
    FlyUnavailableError,
)
from tests.integration.machines.conftest import BASE_CONFIG


def test_create_sends_a_spec_valid_body_with_the_macaroon_scheme(fake_fly, fly_api):
    machine = fly_api.create({**BASE_CONFIG, "env": {"A": "1"}, "metadata": {"aether_project_id": "p"}})
    assert fake_fly.machines[machine.id].config["env"] == {"A": "1"}
    assert fake_fly.requests[-1].authorization == f"FlyV1 {fake_fly.token}"
    assert fake_fly.schema_errors == []


def test_the_fake_refuses_a_body_the_spec_does_not_allow(fake_fly, fly_api):
    with pytest.raises(FlyRejectedError):
        fly_api.create({**BASE_CONFIG, "env": {"A": 1}})
    with pytest.raises(FlyRejectedError):
        fly_api.create({**BASE_CONFIG, "enviroment": {"A": "1"}})
    assert len(fake_fly.schema_errors) == 2 and fake_fly.live_machines() == []


def test_429_is_retried_after_the_retry_after_delay(fake_fly, fly_api):
    fake_fly.faults.throttle("list", 1, retry_after="1")
    assert fly_api.find_by_metadata("aether_project_id", "nothing") == []
    throttled, retried = fake_fly.calls("GET", "machines")
    assert throttled.status == 429 and retried.status == 200
    assert retried.started - throttled.started >= 1.0


def test_5xx_bursts_are_retried_and_exhaustion_is_fly_unavailable(fake_fly, fly_api):
    fake_fly.faults.fail("list", 503, 2)
    assert fly_api.find_by_metadata("aether_project_id", "x") == []
    fake_fly.faults.fail("list", 502, 10)
    with pytest.raises(FlyUnavailableError) as info:
        fly_api.find_by_metadata("aether_project_id", "x")
    assert info.value.code == "fly_unavailable"
    assert len(fake_fly.calls("GET", "machines")) == 3 + 4


def test_create_is_not_repeated_after_an_ambiguous_answer(fake_fly, fly_api):
    fake_fly.faults.timeouts_after_create = 1
    with pytest.raises(CreateOutcomeUnknownError):
        fly_api.create(dict(BASE_CONFIG))
    assert len(fake_fly.calls("POST", "machines")) == 1 and len(fake_fly.live_machines()) == 1


def test_capacity_and_rejection_map_to_their_codes(fake_fly, fly_api):
    fake_fly.faults.fail("create", 412, body={"error": "no capacity", "status": "insufficient_capacity"})
    with pytest.raises(FlyCapacityError) as capacity:
        fly_api.create(dict(BASE_CONFIG))
    assert capacity.value.code == "fly_capacity"
    fake_fly.faults.fail("create", 422, body={"error": "invalid env OPENAI_API_KEY=sk-proj-leaked"})
    with pytest.raises(FlyRejectedError) as rejected:
        fly_api.create(dict(BASE_CONFIG))
    assert rejected.value.code == "fly_rejected" and "leaked" not in str(rejected.value)


def test_a_bad_token_is_rejected_with_bearer_for_non_macaroons(fake_fly):
    with requests.Session() as session:
        api = FlyMachinesApi(session=session, base_url=fake_fly.url, app_name=fake_fly.app_name, token="oauth-x")
        with pytest.raises(FlyRejectedError):
            api.find_by_metadata("k", "v")
    assert fake_fly.requests[-1].authorization == "Bearer oauth-x" and fake_fly.requests[-1].status == 401


def test_an_unreachable_fly_is_unavailable():
    with requests.Session() as session:
        api = FlyMachinesApi(session=session, base_url="http://127.0.0.1:9", app_name="a", token="t",
                             backoff_initial_s=0.01, backoff_max_s=0.02)
        with pytest.raises(FlyUnavailableError):
            api.get("m")


def test_start_retries_412_and_uses_the_lease_nonce(fake_fly, fly_api):
    machine = fly_api.create(dict(BASE_CONFIG))
    fake_fly.stop_machine(machine.id)
    fake_fly.faults.fail("start", 412, 2)
    with fly_api.lease(machine.id, "test") as nonce:
        fly_api.start(machine.id, lease_nonce=nonce)
    assert fake_fly.machines[machine.id].state == "started"
    assert [r.status for r in fake_fly.calls("POST", "start")] == [412, 412, 200]
    assert fake_fly.active_leases() == []


def test_the_lease_is_released_when_the_block_fails(fake_fly, fly_api):
    machine = fly_api.create(dict(BASE_CONFIG))
    with pytest.raises(RuntimeError), fly_api.lease(machine.id, "test"):
        raise RuntimeError("boom")
    assert fake_fly.active_leases() == []


def test_writes_without_the_lease_nonce_are_refused_while_leased(fake_fly, fly_api):
    machine = fly_api.create(dict(BASE_CONFIG))
    with fly_api.lease(machine.id, "holder"):
        with pytest.raises(FlyUnavailableError):
            fly_api.start(machine.id, lease_nonce=None)


def test_a_slow_wait_is_fly_unavailable(fake_fly, fly_api):
    machine = fly_api.create(dict(BASE_CONFIG))
    fake_fly.faults.boot_s = 5
    fake_fly.stop_machine(machine.id)
    fly_api.start(machine.id, lease_nonce=None)
    with pytest.raises(FlyUnavailableError) as info:
        fly_api.wait_started(machine.id, version=machine.instance_id, timeout_s=1)
    assert "did not start in time" in info.value.public_message
