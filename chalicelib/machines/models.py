"""What the machines capability talks about: a Fly machine and the outcome of a launch."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Our own metadata keys on each machine (never fly_* keys: those hand the machine to `fly deploy`).
META_PROJECT_ID = "aether_project_id"
META_LAUNCH_ID = "aether_launch_id"
META_ENV_DIGEST = "aether_env_digest"


@dataclass(frozen=True)
class Machine:
    id: str
    state: str
    instance_id: str
    # The full config holds the env with plaintext keys: never printed.
    config: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def metadata(self) -> Mapping[str, str]:
        return self.config.get("metadata") or {}


@dataclass(frozen=True)
class DesiredMachine:
    """What a project's machine should run now; ``digest`` is a keyed digest of ``env`` and the image."""

    project_id: str
    launch_id: str
    digest: str
    env: Mapping[str, str] = field(repr=False)


@dataclass(frozen=True)
class LaunchOutcome:
    machine_id: str
    instance_id: str
    # created | updated | started | unchanged
    action: str


@dataclass(frozen=True)
class StartRequest:
    """What a start execution is given: ids only, never key material."""

    project_id: str
    user_id: str
    start_id: str

    def to_state(self) -> dict[str, str]:
        return {"project_id": self.project_id, "user_id": self.user_id, "start_id": self.start_id}
