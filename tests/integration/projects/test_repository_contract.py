"""One contract, three ProjectRepository implementations: PostgreSQL, DynamoDB (moto) and the in-memory fake."""
from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from chalicelib.projects.adapters.dynamodb import TABLE_SCHEMA, DynamoDbProjectRepository
from chalicelib.projects.adapters.postgres import PostgresProjectRepository
from chalicelib.projects.models import MachineStatus, Project
from tests.fakes.projects import InMemoryProjectRepository

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["postgres", "dynamodb", "fake"])
def repository(request):
    if request.param == "postgres":
        yield PostgresProjectRepository(request.getfixturevalue("pg_pool"))
    elif request.param == "dynamodb":
        request.getfixturevalue("aws")
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="projects-test", **TABLE_SCHEMA)
        yield DynamoDbProjectRepository(client=client, table_name="projects-test")
    else:
        yield InMemoryProjectRepository()


@pytest.fixture
def project(repository, user_id) -> Project:
    created = Project(id=str(uuid.uuid4()), owner_id=user_id, name="demo", env={"A": "1", "B": ""})
    repository.add(created)
    return created


def test_added_project_reads_back_with_no_machine(repository, project):
    stored = repository.get(project.id)
    assert (stored.id, stored.owner_id, stored.name, dict(stored.env)) == (project.id, project.owner_id, "demo",
                                                                          {"A": "1", "B": ""})
    assert stored.machine.state == "none" and stored.machine.machine_id is None
    assert repository.get(str(uuid.uuid4())) is None


def test_env_is_replaced_only_by_the_owner(repository, project):
    assert repository.replace_env(project.id, str(uuid.uuid4()), {"X": "1"}) is False
    assert repository.replace_env(str(uuid.uuid4()), project.owner_id, {"X": "1"}) is False
    assert dict(repository.get(project.id).env) == {"A": "1", "B": ""}
    assert repository.replace_env(project.id, project.owner_id, {"X": "1"}) is True
    assert dict(repository.get(project.id).env) == {"X": "1"}


def test_a_running_start_blocks_another_until_it_goes_stale(repository, project):
    stale_before = NOW - timedelta(minutes=15)
    assert repository.claim_start(project.id, project.owner_id, str(uuid.uuid4()), NOW, stale_before)
    assert not repository.claim_start(project.id, project.owner_id, str(uuid.uuid4()), NOW, stale_before)
    later = NOW + timedelta(minutes=16)
    assert repository.claim_start(project.id, project.owner_id, str(uuid.uuid4()), later, later - timedelta(minutes=15))


def test_another_user_cannot_claim_a_start(repository, project):
    assert not repository.claim_start(project.id, str(uuid.uuid4()), str(uuid.uuid4()), NOW, NOW)
    assert repository.get(project.id).machine.state == "none"


def test_only_one_of_many_concurrent_claims_wins(repository, project):
    def claim(_):
        return repository.claim_start(project.id, project.owner_id, str(uuid.uuid4()), NOW, NOW - timedelta(hours=1))

    # moto's in-memory DynamoDB does not serialise conditional writes between threads (the real service
    # does), so there the claims race one after another; the condition expression is what is under test.
    workers = 1 if isinstance(repository, DynamoDbProjectRepository) else 8
    with ThreadPoolExecutor(workers) as pool:
        assert sum(pool.map(claim, range(16))) == 1


def test_recording_follows_the_current_start_and_keeps_the_machine_id(repository, project):
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    repository.claim_start(project.id, project.owner_id, first, NOW, NOW)
    assert repository.record_machine(project.id, MachineStatus("started", "m-1", None, first, NOW))
    assert repository.claim_start(project.id, project.owner_id, second, NOW, NOW)
    assert not repository.record_machine(project.id, MachineStatus("failed", None, "fly_unavailable", first, NOW))
    assert repository.record_machine(project.id, MachineStatus("failed", None, "fly_capacity", second, NOW))
    machine = repository.get(project.id).machine
    assert (machine.state, machine.machine_id, machine.error_code, machine.start_id) == (
        "failed", "m-1", "fly_capacity", second)
    assert machine.updated_at == NOW
