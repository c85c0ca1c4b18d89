"""Report shaping (percentages, order, averages) and which data the report reads."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.analytics import AgentAnalytics, Period, RollupJob, Session, UsageTally, build_report
from chalicelib.analytics.errors import InvalidPeriodError
from tests.fakes.analytics import InMemoryRollupStore, InMemoryUsageSource

PERIOD = Period(days=30)


def tally(agent, sessions, model=None, ended=0, seconds="0", missing=0):
    return UsageTally(agent, model, sessions, ended, Decimal(seconds), missing)


@given(st.dictionaries(st.text(min_size=1, max_size=6), st.integers(min_value=1, max_value=10**6), min_size=1, max_size=12))
def test_percentages_sum_to_100_and_each_is_within_a_tenth_of_exact(sessions_by_agent):
    report = build_report(PERIOD, [tally(agent, count) for agent, count in sessions_by_agent.items()])
    total = sum(sessions_by_agent.values())
    assert report.total_sessions == total
    assert sum(share.percentage for share in report.by_agent) == Decimal("100.0")
    for share in report.by_agent:
        assert share.percentage == share.percentage.quantize(Decimal("0.1"))
        assert abs(share.percentage - Decimal(share.sessions * 100) / total) < Decimal("0.1")


@given(st.dictionaries(st.text(min_size=1, max_size=6), st.integers(min_value=1, max_value=50), min_size=1, max_size=12))
def test_agents_are_sorted_by_sessions_then_name_whatever_the_input_order(sessions_by_agent):
    tallies = [tally(agent, count) for agent, count in sessions_by_agent.items()]
    report = build_report(PERIOD, tallies)
    assert [(s.agent, s.sessions) for s in report.by_agent] == sorted(sessions_by_agent.items(), key=lambda i: (-i[1], i[0]))
    assert build_report(PERIOD, list(reversed(tallies))) == report


def test_equal_agents_share_the_leftover_tenth_in_report_order():
    report = build_report(PERIOD, [tally("codex", 1), tally("aider", 1), tally("claude", 1)])
    assert [(s.agent, s.percentage) for s in report.by_agent] == [
        ("aider", Decimal("33.4")), ("claude", Decimal("33.3")), ("codex", Decimal("33.3"))
    ]


def test_models_are_summed_across_agents_and_days_without_nulls():
    report = build_report(PERIOD, [
        tally("codex", 2, model="gpt-4"), tally("aider", 3, model="gpt-4"), tally("aider", 4),
        tally("claude", 2, model="claude-opus-4"), tally("codex", 1, model="gpt-4"),
    ])
    assert [(m.model, m.sessions) for m in report.by_model] == [("gpt-4", 6), ("claude-opus-4", 2)]
    assert report.total_sessions == 12


def test_average_duration_is_over_ended_sessions_only_and_null_when_none_ended():
    report = build_report(PERIOD, [
        tally("claude", 3, model="a", ended=2, seconds="100.25"), tally("claude", 1, ended=1, seconds="20"),
        tally("codex", 2),
    ])
    averages = {s.agent: s.avg_duration_seconds for s in report.by_agent}
    assert averages == {"claude": Decimal("40.1"), "codex": None}  # 120.25 / 3 = 40.083
    assert report.to_json()["by_agent"][1]["avg_duration_seconds"] is None


def test_missing_key_sessions_are_counted_over_every_agent():
    report = build_report(PERIOD, [tally("claude", 3, missing=2), tally("codex", 2, missing=1), tally("aider", 1)])
    assert report.missing_key_sessions == 3


def test_no_sessions_is_an_empty_report():
    assert build_report(Period(days=7), []).to_json() == {
        "period": "7d", "total_sessions": 0, "missing_key_sessions": 0, "by_agent": [], "by_model": []
    }


NOW = datetime(2031, 5, 20, 15, 30, tzinfo=timezone.utc)


def session(started: datetime, agent="claude", model=None, minutes=None, missing=False) -> Session:
    ended = None if minutes is None else started + timedelta(minutes=minutes)
    return Session(agent, model, started, ended, missing)


@pytest.fixture
def usage() -> InMemoryUsageSource:
    return InMemoryUsageSource()


@pytest.fixture
def rollups() -> InMemoryRollupStore:
    return InMemoryRollupStore()


def test_report_reads_raw_rows_of_today_only_and_rollups_for_earlier_days(usage, rollups):
    usage.put("today", session(NOW - timedelta(hours=1), agent="codex"), NOW)
    usage.put("yesterday", session(NOW - timedelta(days=1), agent="claude"), NOW)
    RollupJob(usage, rollups, clock=lambda: NOW).run()
    # A row added after the rollup: today shows it, yesterday waits for the next run.
    usage.put("late-yesterday", session(NOW - timedelta(days=1, hours=2), agent="claude"), NOW)
    usage.put("late-today", session(NOW - timedelta(minutes=5), agent="codex"), NOW)
    usage.tallied_days.clear()

    report = AgentAnalytics(usage, rollups, clock=lambda: NOW).report("30d")

    assert usage.tallied_days == [date(2031, 5, 20)]
    assert {s.agent: s.sessions for s in report.by_agent} == {"codex": 2, "claude": 1}


@pytest.mark.parametrize(("period", "expected"), [("1d", 1), ("2d", 2), ("30d", 3), ("31d", 4), (None, 3)])
def test_period_is_today_plus_the_whole_days_before_it(usage, rollups, period, expected):
    today_start = datetime(2031, 5, 20, tzinfo=timezone.utc)
    for name, started in {
        "today": today_start, "yesterday-last-second": today_start - timedelta(seconds=1),
        "29-days-ago": today_start - timedelta(days=29), "30-days-ago": today_start - timedelta(days=30),
    }.items():
        usage.put(name, session(started), NOW)
    RollupJob(usage, rollups, clock=lambda: NOW).run()
    assert AgentAnalytics(usage, rollups, clock=lambda: NOW).report(period).total_sessions == expected


def test_bad_period_is_rejected_before_reading_anything(usage, rollups):
    with pytest.raises(InvalidPeriodError):
        AgentAnalytics(usage, rollups, clock=lambda: NOW).report("0d")
    assert usage.tallied_days == []
