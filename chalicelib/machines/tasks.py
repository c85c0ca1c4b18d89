"""The start flow's steps, one per Step Functions Task (and run in the same order by the local runner).

Each step takes the state as a dict and returns the next state. States carry ids, machine versions, provider
names and error codes only: plaintext keys exist solely inside ``launch_machine``, the one step that calls Fly.
"""
from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.errors import ServiceError
from chalicelib.machines.env import launch_digest, merge_env
from chalicelib.machines.launch import MachineLauncher
from chalicelib.machines.models import DesiredMachine
from chalicelib.machines.ports import KeySource
from chalicelib.observability import logger
from chalicelib.projects import ProjectService

State = dict[str, Any]


class StartStepError(ServiceError):
    """Raised in place of an unexpected exception inside a step, so no stray message reaches the history."""

    code = "internal_error"


def _error_codes() -> dict[str, str]:
    """Exception class name (the error name Step Functions sees) → error code."""
    found: dict[str, str] = {}
    pending: list[type[ServiceError]] = [ServiceError]
    while pending:
        cls = pending.pop()
        found[cls.__name__] = cls.code
        pending.extend(cls.__subclasses__())
    return found


def error_code_for(error_name: str) -> str:
    """The code to record for a Catch-ed error; Step Functions' own errors (States.*) are timeouts or internal."""
    if error_name == "States.Timeout":
        return "start_timeout"
    return _error_codes().get(error_name, "internal_error")


def step(fn: Callable[[StartTasks, State], State]) -> Callable[[StartTasks, State], State]:
    """Re-raise failures as a fresh exception of the same class carrying only its public message.

    The class name is what Retry/Catch match on; the fresh exception has no cause chain that could carry secrets.
    """

    @functools.wraps(fn)
    def wrapper(tasks: StartTasks, state: State) -> State:
        try:
            return fn(tasks, state)
        except ServiceError as exc:
            logger.warning("start step failed", extra={"step": fn.__name__, "error": exc.code,
                                                       "project_id": state.get("project_id")})
            try:
                clean = type(exc)(exc.public_message, code=exc.code)
            except TypeError:  # a ServiceError subclass with its own constructor
                clean = StartStepError(exc.public_message, code=exc.code)
            raise clean from None
        except Exception as exc:  # noqa: BLE001 - the message of an unknown error is never passed on
            logger.error("start step crashed", extra={"step": fn.__name__, "error_type": type(exc).__name__,
                                                      "project_id": state.get("project_id")})
            raise StartStepError(f"internal error in {fn.__name__}") from None

    return wrapper


@dataclass(frozen=True)
class StartTasks:
    projects: ProjectService
    keys: KeySource
    launcher: MachineLauncher
    env_var_by_provider: Mapping[str, str]
    image: str
    digest_secret: bytes = field(repr=False)
    wait_timeout_s: int = 60

    @step
    def load_project(self, state: State) -> State:
        """Check the project still belongs to the caller; keep only the ids the next steps need."""
        project = self.projects.get_owned(state["user_id"], state["project_id"])
        return {"project_id": project.id, "user_id": project.owner_id, "start_id": state["start_id"]}

    @step
    def launch_machine(self, state: State) -> State:
        """Decrypt the keys, merge the env and bring the machine to it (the only step that sees plaintext)."""
        project = self.projects.get_owned(state["user_id"], state["project_id"])
        env = merge_env(self.keys.open_all(project.owner_id), self.env_var_by_provider, project.env)
        desired = DesiredMachine(
            project_id=project.id,
            # One launch id per start: a retried step finds the machine an earlier attempt made.
            launch_id=state["start_id"],
            digest=launch_digest(self.digest_secret, env.values, self.image),
            env=env.values,
        )
        outcome = self.launcher.launch(desired)
        logger.info("machine launched", extra={"project_id": project.id, "machine_id": outcome.machine_id,
                                               "action": outcome.action})
        return {**state, "machine_id": outcome.machine_id, "instance_id": outcome.instance_id,
                "action": outcome.action, "providers": list(env.injected_providers)}

    @step
    def wait_for_machine(self, state: State) -> State:
        """Wait for the launched version to run and check Fly did not roll it back."""
        machine = self.launcher.verify_started(state["machine_id"], state["instance_id"],
                                               timeout_s=self.wait_timeout_s)
        return {**state, "state": machine.state}

    @step
    def record_started(self, state: State) -> State:
        self.projects.record_machine(state["project_id"], state["start_id"], "started",
                                     machine_id=state["machine_id"])
        self.keys.mark_used(state["user_id"], state["providers"])
        return {"project_id": state["project_id"], "start_id": state["start_id"], "machine_id": state["machine_id"],
                "state": "started", "action": state["action"]}

    @step
    def record_failure(self, state: State) -> State:
        """Store the error code of a failed start; ``state["error"]`` is what a Catch put there."""
        error = state.get("error") or {}
        code = error_code_for(str(error.get("Error", "")))
        self.projects.record_machine(state["project_id"], state["start_id"], "failed",
                                     machine_id=state.get("machine_id"), error_code=code)
        return {"project_id": state["project_id"], "start_id": state["start_id"],
                "failure": {"code": code, "message": _public_message(code, error)}}


def _public_message(code: str, error: Mapping[str, Any]) -> str:
    """Our own errors' messages are public; anything else gets a generic sentence."""
    if code != "internal_error":
        try:
            return str(json.loads(error.get("Cause") or "{}")["errorMessage"])[:300]
        except (ValueError, KeyError, TypeError):
            pass
    return "the machine could not be started"
