"""Projects: owner, name, env vars and the last known machine of each project."""
from chalicelib.projects.models import MachineStatus, Project
from chalicelib.projects.ports import ProjectRepository
from chalicelib.projects.service import ProjectService

__all__ = ["MachineStatus", "Project", "ProjectRepository", "ProjectService"]
