"""Starting a project: claim it, then run the start flow (Step Functions, or in-process in the local stage)."""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from chalicelib.errors import ServiceError, UpstreamError
from chalicelib.machines.errors import FlyUnavailableError
from chalicelib.machines.models import StartRequest
from chalicelib.machines.ports import StartRunner
from chalicelib.machines.tasks import StartTasks, State
from chalicelib.projects import MachineStatus, ProjectService

# The Task states of infra/statemachine.asl.json, in order; a test checks the two stay the same.
STEP_NAMES = ("load_project", "launch_machine", "wait_for_machine", "record_started")


@dataclass(frozen=True)
class ProjectStarter:
    projects: ProjectService
    runner: StartRunner

    def start(self, owner_id: str, project_id: str) -> MachineStatus:
        """Start the owner's project; returns the machine status once the runner returned.

        Raises ProjectNotFoundError (also for another user's project) or StartInProgressError.
        """
        start_id = self.projects.begin_start(owner_id, project_id)
        try:
            self.runner.run(StartRequest(project_id=project_id, user_id=owner_id, start_id=start_id))
        except UpstreamError as exc:
            self.projects.record_machine(project_id, start_id, "failed", error_code=exc.code)
            raise
        return self.projects.get_owned(owner_id, project_id).machine


@dataclass(frozen=True)
class LocalStartRunner:
    """The state machine's steps, in-process and in order, with the same retry of transient Fly errors.

    Synchronous: when ``run`` returns the project holds the final state (started or failed with a code).
    """

    tasks: Callable[[], StartTasks]
    attempts: int = 3
    backoff_max_s: float = 4.0

    def run(self, request: StartRequest) -> None:
        tasks = self.tasks()
        state: State = request.to_state()
        try:
            for name in STEP_NAMES:
                state = self._with_retries(getattr(tasks, name), state)
        except ServiceError as exc:
            cause = json.dumps({"errorMessage": exc.public_message, "errorType": type(exc).__name__})
            tasks.record_failure({**state, "error": {"Error": type(exc).__name__, "Cause": cause}})

    def _with_retries(self, step: Callable[[State], State], state: State) -> State:
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(multiplier=0.5, max=self.backoff_max_s),
            retry=retry_if_exception_type(FlyUnavailableError),
            reraise=True,
        )
        return retrying(step, state)
