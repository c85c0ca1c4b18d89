"""Launch use case: find a project's machine by metadata, then create it, or update and start it."""
from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.machines.errors import (
    CreateOutcomeUnknownError,
    FlyUnavailableError,
    MachineRolledBackError,
)
from chalicelib.machines.models import (
    META_ENV_DIGEST,
    META_LAUNCH_ID,
    META_PROJECT_ID,
    DesiredMachine,
    LaunchOutcome,
    Machine,
)
from chalicelib.machines.ports import MachinesApi
from chalicelib.observability import logger

# States from which only an explicit start boots the machine (an update leaves them as they are; a
# suspended machine would resume its old memory snapshot, old env included, so it is updated first).
_NEEDS_START = frozenset({"created", "stopped", "suspended", "failed"})
_GONE = frozenset({"destroyed", "destroying", "replaced", "migrated"})


@dataclass(frozen=True)
class MachineLauncher:
    """Brings one project's machine to the desired env; ``base_config`` holds image, guest and restart policy."""

    api: MachinesApi
    base_config: Mapping[str, Any]
    create_attempts: int = 3
    # The machine list is eventually consistent: pause before looking for a machine a create may have made.
    lookup_delay_s: float = 1.0
    sleep: Callable[[float], None] = time.sleep

    def launch(self, desired: DesiredMachine) -> LaunchOutcome:
        """Create, update-and-start, start or leave the machine; returns the version to wait for."""
        machine = self._find(META_PROJECT_ID, desired.project_id)
        if machine is None:
            return self._create(desired)
        if machine.metadata.get(META_ENV_DIGEST) == desired.digest:
            if machine.state not in _NEEDS_START:
                return LaunchOutcome(machine.id, machine.instance_id, "unchanged")
            with self.api.lease(machine.id, "aether: start") as nonce:
                self.api.start(machine.id, lease_nonce=nonce)
            return LaunchOutcome(machine.id, machine.instance_id, "started")
        with self.api.lease(machine.id, "aether: update env") as nonce:
            current = self.api.get(machine.id)  # re-read under the lease: the config we replace is the latest
            updated = self.api.update(
                machine.id,
                self._full_config(current.config, desired),
                current_version=current.instance_id,
                lease_nonce=nonce,
            )
            if updated.state in _NEEDS_START:
                self.api.start(machine.id, lease_nonce=nonce)
        return LaunchOutcome(machine.id, updated.instance_id, "updated")

    def verify_started(self, machine_id: str, instance_id: str, *, timeout_s: int) -> Machine:
        """Wait for ``instance_id`` to run, then check Fly did not silently keep the previous version."""
        self.api.wait_started(machine_id, version=instance_id, timeout_s=timeout_s)
        machine = self.api.get(machine_id)
        if machine.instance_id != instance_id:
            raise MachineRolledBackError("Fly kept the previous machine version: the update was rolled back")
        if machine.state != "started":
            raise FlyUnavailableError("the machine is not started yet")
        return machine

    def _find(self, key: str, value: str) -> Machine | None:
        machines = [m for m in self.api.find_by_metadata(key, value) if m.state not in _GONE]
        if len(machines) > 1:
            logger.warning("several machines carry one metadata value", extra={"key": key, "count": len(machines)})
        return machines[0] if machines else None

    def _create(self, desired: DesiredMachine) -> LaunchOutcome:
        config = {
            **copy.deepcopy(dict(self.base_config)),
            "env": dict(desired.env),
            "metadata": {
                META_PROJECT_ID: desired.project_id,
                META_LAUNCH_ID: desired.launch_id,
                META_ENV_DIGEST: desired.digest,
            },
        }
        for _ in range(self.create_attempts):
            try:
                machine = self.api.create(config)
                return LaunchOutcome(machine.id, machine.instance_id, "created")
            except CreateOutcomeUnknownError:
                # Create has no idempotency key: the launch id in metadata tells whether it happened.
                self.sleep(self.lookup_delay_s)
                made = self._find(META_LAUNCH_ID, desired.launch_id)
                if made is not None:
                    logger.info("found the machine an unconfirmed create made", extra={"machine_id": made.id})
                    return LaunchOutcome(made.id, made.instance_id, "created")
        raise FlyUnavailableError("Fly did not confirm the machine creation")

    def _full_config(self, current: Mapping[str, Any], desired: DesiredMachine) -> dict[str, Any]:
        """The stored config with env replaced wholesale (so disconnected keys disappear) and the image refreshed.

        Fly has no partial update: whatever is left out of the config is dropped.
        """
        config = copy.deepcopy(dict(current))
        config["image"] = self.base_config["image"]
        config["env"] = dict(desired.env)
        config["metadata"] = {**(config.get("metadata") or {}), META_ENV_DIGEST: desired.digest}
        return config
