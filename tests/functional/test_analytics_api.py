"""GET /admin/analytics/agents and the hourly rollup handler through chalice.test.Client.

The numbers must equal the product spec's own SQL over agent_usage (docs/analytics.md says how the
period maps onto them), on PostgreSQL and on DynamoDB with the same sessions.
"""
from __future__ import annotations

import dataclasses
import random
from datetime import datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import jsonschema
import psycopg
import pytest
import yaml
from chalice.test import Client

import app as app_module
from chalicelib import wiring
from chalicelib.analytics.adapters.dynamodb import ROLLUP_TABLE_SCHEMA
from chalicelib.usage.adapters.dynamodb import USAGE_TABLE_SCHEMA, DynamoDbUsageStore
from chalicelib.usage.adapters.postgres import PostgresUsageStore
from tests.conftest import ROOT, reset_service_caches
from tests.integration.analytics.sessions import far_future_now, random_sessions, record, session

PATH = "/admin/analytics/agents"
OPENAPI = yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text())
PERIODS = ["1d", "7d", "30d", "365d", None]

# The product spec's analytics queries; only `started_at > now() - interval '30 days'` became the period's
# window, bounded above by the end of the test's "today" (its data scope). The average query gets the same
# window: the report averages the period's sessions that ended.
SPEC_POPULAR_AGENTS = """
select agent, count(*) as sessions
from agent_usage
where started_at >= %(since)s and started_at < %(until)s
group by agent
order by sessions desc
"""
SPEC_POPULAR_MODELS = """
select model, count(*) as sessions
from agent_usage
where model is not null
  and started_at >= %(since)s and started_at < %(until)s
group by model
order by sessions desc
"""
SPEC_AVERAGE_DURATION = """
select agent, avg(extract(epoch from (ended_at - started_at))) as avg_seconds
from agent_usage
where ended_at is not null
  and started_at >= %(since)s and started_at < %(until)s
group by agent
"""
MISSING_KEY_SESSIONS = """
select count(*) from agent_usage where missing_key and started_at >= %(since)s and started_at < %(until)s
"""


@pytest.fixture(params=["postgres", "dynamodb"])
def backend(request, local_env, monkeypatch):
    if request.param == "dynamodb":
        request.getfixturevalue("aws")
        monkeypatch.setenv("STORAGE_BACKEND", "dynamodb")
        monkeypatch.setenv("USAGE_TABLE", "usage-functional")
        monkeypatch.setenv("USAGE_ROLLUPS_TABLE", "rollups-functional")
        reset_service_caches()
        client = wiring.aws_client("dynamodb")
        client.create_table(TableName="usage-functional", **USAGE_TABLE_SCHEMA)
        client.create_table(TableName="rollups-functional", **ROLLUP_TABLE_SCHEMA)
    return request.param


@pytest.fixture
def client(local_env):
    with Client(app_module.app, stage_name="local") as test_client:
        yield test_client


def get(client, token=None, period=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.http.get(PATH if period is None else f"{PATH}?period={period}", headers=headers)


def test_without_a_token_is_401(client):
    assert get(client).status_code == 401


@pytest.mark.parametrize("period", ["30d", None, "abc"])  # the caller is checked before the input
def test_a_user_who_is_not_an_admin_is_403(client, token_for, user_id, period):
    response = get(client, token_for(user_id), period)
    assert response.status_code == 403
    assert response.json_body["Code"] == "forbidden"


@pytest.mark.parametrize("period", ["0d", "366d", "30", "abc", "-1d", "1.5d", "", "30d%2030d"])
def test_a_bad_period_is_400_with_a_clear_message(client, token_for, user_id, period):
    response = get(client, token_for(user_id, admin=True), period)
    assert response.status_code == 400
    assert response.json_body == {
        "Code": "invalid_period",
        "Message": "period must be a whole number of days from 1d to 365d, e.g. 30d",
    }


def midnight(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time.min, tzinfo=timezone.utc)


def mixed(rng, now):
    return random_sessions(rng, now, 400, days_back=400) + random_sessions(rng, now, 30, days_back=0.6)


def tied_agents_without_models(rng, now):
    # Three agents with equal counts in every window: ordered by name, percentages 33.4/33.3/33.3.
    starts = [midnight(now) - timedelta(days=d, minutes=m) for d in (0, 1, 6, 29, 200) for m in (-30, -5)]
    return [session(agent, start, ended_at=start + timedelta(seconds=100 + i))
            for agent in ("codex", "aider", "claude") for i, start in enumerate(starts)]


def one_agent_never_ended(rng, now):
    return random_sessions(rng, now, 60, days_back=40, agents={"claude": []}, ended_share=0)


def nothing_in_any_period(rng, now):
    return random_sessions(rng, now - timedelta(days=366), 50, days_back=30)


def only_today(rng, now):
    return random_sessions(rng, now, 40, days_back=0.6)


@pytest.mark.slow
@pytest.mark.parametrize("shape", [mixed, tied_agents_without_models, one_agent_never_ended,
                                   nothing_in_any_period, only_today])
def test_numbers_equal_the_product_specs_queries(backend, client, token_for, user_id, pg_url, pg_pool,
                                                 monkeypatch, shape):
    now = far_future_now()
    sessions = shape(random.Random(shape.__name__), now)
    record(PostgresUsageStore(pg_pool), sessions)  # the spec's queries always run on PostgreSQL
    if backend == "dynamodb":
        record(DynamoDbUsageStore(client=wiring.aws_client("dynamodb"), usage_table="usage-functional",
                                  state_table="unused"), sessions)
    rollup = client.lambda_.invoke("analytics_rollup", client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]))
    assert rollup.payload["days_recomputed"] >= 1
    # The report's "now" is the test's own far-future day; everything else is wired as in production.
    wired = wiring.agent_analytics
    monkeypatch.setattr(wiring, "agent_analytics", lambda: dataclasses.replace(wired(), clock=lambda: now))

    token = token_for(user_id, admin=True)
    for period in PERIODS:
        response = get(client, token, period)
        assert response.status_code == 200, response.body
        days = int((period or "30d")[:-1])
        window = {"since": midnight(now) - timedelta(days=days - 1), "until": midnight(now) + timedelta(days=1)}
        assert_matches_spec(response.json_body, spec_numbers(pg_url, window), period or "30d")


def spec_numbers(pg_url: str, window: dict[str, datetime]) -> dict:
    with psycopg.connect(pg_url) as conn:
        return {
            "agents": conn.execute(SPEC_POPULAR_AGENTS, window).fetchall(),
            "models": conn.execute(SPEC_POPULAR_MODELS, window).fetchall(),
            "averages": dict(conn.execute(SPEC_AVERAGE_DURATION, window).fetchall()),
            "missing_key": conn.execute(MISSING_KEY_SESSIONS, window).fetchone()[0],
        }


def assert_matches_spec(body: dict, spec: dict, period: str) -> None:
    assert body["period"] == period
    agents = body["by_agent"]
    assert {a["agent"]: a["sessions"] for a in agents} == dict(spec["agents"])
    assert [a["sessions"] for a in agents] == [sessions for _, sessions in spec["agents"]]  # same order
    assert agents == sorted(agents, key=lambda a: (-a["sessions"], a["agent"]))  # ties by name
    assert {m["model"]: m["sessions"] for m in body["by_model"]} == dict(spec["models"])
    assert body["by_model"] == sorted(body["by_model"], key=lambda m: (-m["sessions"], m["model"]))
    assert {a["agent"]: a["avg_duration_seconds"] for a in agents} == {
        agent: None if agent not in spec["averages"]
        else float(spec["averages"][agent].quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
        for agent, _ in spec["agents"]
    }
    total = sum(sessions for _, sessions in spec["agents"])
    assert body["total_sessions"] == total
    assert body["missing_key_sessions"] == spec["missing_key"]
    if total:
        assert round(sum(a["percentage"] for a in agents), 1) == 100.0
        for agent in agents:
            assert abs(agent["percentage"] - 100 * agent["sessions"] / total) < 0.1 + 1e-9
    jsonschema.validate(body, {"$ref": "#/components/schemas/AgentAnalytics", "components": OPENAPI["components"]})
