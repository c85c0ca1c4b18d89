"""What starting a machine needs from the outside world, in its own words."""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

from chalicelib.machines.models import Machine, StartRequest


class MachinesApi(Protocol):
    """The subset of the Fly Machines API a launch uses."""

    def find_by_metadata(self, key: str, value: str) -> list[Machine]:
        """Live (not destroyed) machines whose ``config.metadata[key] == value``."""

    def get(self, machine_id: str) -> Machine: ...

    def create(self, config: Mapping[str, Any]) -> Machine:
        """Create and boot a machine; raises CreateOutcomeUnknownError when it may exist anyway."""

    def update(self, machine_id: str, config: Mapping[str, Any], *, current_version: str, lease_nonce: str) -> Machine:
        """Replace the whole config (a new version); a stopped machine stays stopped."""

    def start(self, machine_id: str, *, lease_nonce: str | None) -> None: ...

    def wait_started(self, machine_id: str, *, version: str, timeout_s: int) -> None:
        """Block until ``version`` is started; raises FlyUnavailableError when it is not within the timeout."""

    def lease(self, machine_id: str, description: str) -> AbstractContextManager[str]:
        """Hold the machine's lease (yields its nonce) and release it on exit, whatever happened."""


class KeySource(Protocol):
    """The key vault, seen from a launch: plaintext keys by provider name, and usage stamping."""

    def open_all(self, user_id: str) -> dict[str, str]: ...

    def mark_used(self, user_id: str, provider_names: Iterable[str]) -> None: ...


class StartRunner(Protocol):
    """Runs the start flow: Step Functions in AWS, in-process in the local stage."""

    def run(self, request: StartRequest) -> None: ...
