"""Project machines on Fly: env merge, launch, and the start flow that ties them to the key vault."""
from chalicelib.machines.env import MachineEnv, launch_digest, merge_env
from chalicelib.machines.launch import MachineLauncher
from chalicelib.machines.models import LaunchOutcome, Machine, StartRequest
from chalicelib.machines.orchestration import STEP_NAMES, LocalStartRunner, ProjectStarter
from chalicelib.machines.ports import KeySource, MachinesApi, StartRunner
from chalicelib.machines.tasks import StartTasks

__all__ = [
    "STEP_NAMES",
    "KeySource",
    "LaunchOutcome",
    "LocalStartRunner",
    "Machine",
    "MachineEnv",
    "MachineLauncher",
    "MachinesApi",
    "ProjectStarter",
    "StartRequest",
    "StartRunner",
    "StartTasks",
    "launch_digest",
    "merge_env",
]
