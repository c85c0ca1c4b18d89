"""The launch use case against the fake Fly: create, update with the full config, skip, start, faults."""
from __future__ import annotations

import pytest

from chalicelib.machines.errors import FlyUnavailableError, MachineRolledBackError
from chalicelib.machines.models import DesiredMachine


def desired(project_id: str, env: dict[str, str], launch_id: str = "launch-1") -> DesiredMachine:
    return DesiredMachine(project_id=project_id, launch_id=launch_id, digest=f"digest-of-{sorted(env.items())}",
                          env=env)


def launch_and_verify(launcher, wanted: DesiredMachine):
    outcome = launcher.launch(wanted)
    launcher.verify_started(outcome.machine_id, outcome.instance_id, timeout_s=5)
    return outcome


def test_fresh_launch_creates_one_started_machine_with_the_env(fake_fly, launcher):
    outcome = launch_and_verify(launcher, desired("p1", {"A": "1"}))
    [machine] = fake_fly.machines_for("p1")
    assert outcome.action == "created" and machine.id == outcome.machine_id
    assert machine.state == "started" and machine.config["env"] == {"A": "1"}
    assert machine.config["metadata"]["aether_launch_id"] == "launch-1"


def test_changed_env_replaces_the_whole_env_keeps_the_rest_and_boots_a_stopped_machine(fake_fly, launcher):
    first = launch_and_verify(launcher, desired("p1", {"A": "1", "GONE": "x"}))
    fake_fly.machines[first.machine_id].config["services"] = [{"internal_port": 8080, "protocol": "tcp"}]
    fake_fly.stop_machine(first.machine_id)
    second = launch_and_verify(launcher, desired("p1", {"A": "2", "NEW": "y"}, launch_id="launch-2"))
    machine = fake_fly.machines[first.machine_id]
    assert second.action == "updated" and second.instance_id != first.instance_id
    assert machine.config["env"] == {"A": "2", "NEW": "y"}
    assert machine.config["services"] == [{"internal_port": 8080, "protocol": "tcp"}]  # full config kept
    assert machine.state == "started" and machine.instance_id == second.instance_id
    assert len(fake_fly.machines_for("p1")) == 1 and fake_fly.active_leases() == []


def test_unchanged_env_on_a_running_machine_calls_no_write(fake_fly, launcher):
    launch_and_verify(launcher, desired("p1", {"A": "1"}))
    writes_before = len([r for r in fake_fly.requests if r.method == "POST"])
    outcome = launch_and_verify(launcher, desired("p1", {"A": "1"}, launch_id="launch-2"))
    assert outcome.action == "unchanged"
    assert len([r for r in fake_fly.requests if r.method == "POST"]) == writes_before


def test_unchanged_env_on_a_stopped_machine_only_starts_it(fake_fly, launcher):
    first = launch_and_verify(launcher, desired("p1", {"A": "1"}))
    fake_fly.stop_machine(first.machine_id)
    outcome = launch_and_verify(launcher, desired("p1", {"A": "1"}, launch_id="launch-2"))
    assert outcome.action == "started" and outcome.instance_id == first.instance_id
    assert fake_fly.calls("POST", "machine") == []  # no update
    assert fake_fly.machines[first.machine_id].state == "started"


def test_a_suspended_machine_with_new_env_is_updated_then_started(fake_fly, launcher):
    first = launch_and_verify(launcher, desired("p1", {"A": "1"}))
    fake_fly.stop_machine(first.machine_id, "suspended")
    launch_and_verify(launcher, desired("p1", {"A": "2"}))
    machine = fake_fly.machines[first.machine_id]
    assert machine.state == "started" and machine.config["env"] == {"A": "2"}


def test_a_create_answered_408_after_the_machine_was_made_is_found_not_repeated(fake_fly, launcher):
    fake_fly.faults.timeouts_after_create = 1
    outcome = launch_and_verify(launcher, desired("p1", {"A": "1"}))
    assert [m.id for m in fake_fly.machines_for("p1")] == [outcome.machine_id]
    assert len(fake_fly.calls("POST", "machines")) == 1


def test_a_create_failing_before_the_machine_was_made_is_retried_once_made(fake_fly, launcher):
    fake_fly.faults.fail("create", 503, 1)
    outcome = launch_and_verify(launcher, desired("p1", {"A": "1"}))
    assert [m.id for m in fake_fly.machines_for("p1")] == [outcome.machine_id]


def test_creates_that_never_succeed_end_in_fly_unavailable_without_duplicates(fake_fly, launcher):
    fake_fly.faults.fail("create", 500, 3)
    with pytest.raises(FlyUnavailableError):
        launcher.launch(desired("p1", {"A": "1"}))
    assert fake_fly.machines_for("p1") == []


def test_a_silent_rollback_is_detected(fake_fly, launcher):
    first = launch_and_verify(launcher, desired("p1", {"A": "1"}))
    fake_fly.faults.rollback_updates = 1
    outcome = launcher.launch(desired("p1", {"A": "2"}))
    with pytest.raises(MachineRolledBackError) as info:
        launcher.verify_started(outcome.machine_id, outcome.instance_id, timeout_s=5)
    assert info.value.code == "fly_rejected"
    assert fake_fly.machines[first.machine_id].instance_id == first.instance_id
    assert fake_fly.active_leases() == []


def test_an_update_that_fails_releases_the_lease(fake_fly, launcher):
    launch_and_verify(launcher, desired("p1", {"A": "1"}))
    fake_fly.faults.fail("update", 500, 1)
    with pytest.raises(FlyUnavailableError):
        launcher.launch(desired("p1", {"A": "2"}))
    assert fake_fly.active_leases() == []
