"""Rollups on PostgreSQL and DynamoDB: re-runs, late ends and sessions spanning midnight count once."""
from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta, timezone

import pytest

from tests.integration.analytics.conftest import dynamodb_backend, postgres_backend
from tests.integration.analytics.sessions import far_future_now, random_sessions, record, session

pytestmark = pytest.mark.slow


def midnight_of(moment: datetime) -> datetime:
    return datetime.combine(moment.date(), time.min, tzinfo=timezone.utc)


def test_re_runs_never_double_count(backend):
    now = far_future_now()
    sessions = random_sessions(random.Random(7), now, 120, days_back=20)
    record(backend.store, sessions)
    backend.rollup()
    first = backend.report(now, "30d")
    backend.rollup()
    backend.rollup(full=True)
    backend.rollup()
    again = backend.report(now, "30d")
    assert again == first
    assert first.total_sessions == len(sessions)
    assert {s.agent: s.sessions for s in first.by_agent} == Counter(s.agent for s in sessions)


def test_a_late_end_is_counted_once_on_the_start_day(backend):
    now = far_future_now()
    yesterday_late = midnight_of(now) - timedelta(minutes=20)
    spanning = session("codex", yesterday_late, model="gpt-5")
    backend.store.start_usage(spanning)
    backend.rollup()
    before = backend.report(now, "2d").by_agent[0]
    assert (before.agent, before.sessions, before.avg_duration_seconds) == ("codex", 1, None)

    # It ends after midnight, after its day was rolled up; the end moves updated_at.
    backend.store.end_usage(spanning.id, yesterday_late + timedelta(minutes=50, seconds=30.5))
    backend.rollup()

    after = backend.report(now, "2d")
    assert [(s.agent, s.sessions, float(s.avg_duration_seconds)) for s in after.by_agent] == [("codex", 1, 3030.5)]
    assert after.total_sessions == 1
    # Today (raw rows) does not count it again: it belongs to the day it started.
    assert backend.report(now, "1d").total_sessions == 0


def test_a_session_spanning_several_midnights_belongs_to_its_start_day(backend):
    now = far_future_now()
    start = midnight_of(now) - timedelta(days=3, minutes=1)
    backend.store.start_usage(session("aider", start, ended_at=start + timedelta(days=2, hours=1)))
    backend.rollup()
    assert [backend.report(now, f"{days}d").total_sessions for days in (1, 2, 3, 4, 5)] == [0, 0, 0, 0, 1]


def test_a_late_model_detection_moves_the_session_between_models(backend):
    now = far_future_now()
    started = now - timedelta(days=2)
    usage = session("claude", started)
    backend.store.start_usage(usage)
    backend.rollup()
    assert backend.report(now, "7d").by_model == ()
    backend.store.set_model(usage.id, "claude-opus-4-20250514")
    backend.rollup()
    assert [m.to_json() for m in backend.report(now, "7d").by_model] == [
        {"model": "claude-opus-4-20250514", "sessions": 1}
    ]


@pytest.mark.parametrize("period", ["1d", "7d", "30d", "365d", None])
def test_both_backends_give_the_same_report(pg_pool, aws, period):
    now = far_future_now()
    rng = random.Random(period or "default")
    # A year and more of history, plus some of today (which the report reads raw).
    sessions = random_sessions(rng, now, 300, days_back=400) + random_sessions(rng, now, 20, days_back=0.5)
    reports = []
    for backend in (postgres_backend(pg_pool), dynamodb_backend()):
        record(backend.store, sessions)
        backend.rollup()
        reports.append(backend.report(now, period).to_json())
    assert reports[0] == reports[1]
    assert reports[0]["total_sessions"] > 0


def test_concurrent_runs_leave_each_day_counted_once(backend):
    now = far_future_now()
    sessions = random_sessions(random.Random(11), now, 80, days_back=10)
    record(backend.store, sessions)
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: backend.rollup(full=True), range(4)))
    assert backend.report(now, "30d").total_sessions == len(sessions)
