"""The rollup job: recomputes whole days changed since its watermark, so re-runs and late changes count once."""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.analytics import RollupJob, Session, UsageTally, tally_sessions
from chalicelib.analytics.models import utc_day
from chalicelib.analytics.rollups import WATERMARK_OVERLAP
from tests.fakes.analytics import InMemoryRollupStore, InMemoryUsageSource

MIDNIGHT = datetime(2031, 3, 10, tzinfo=timezone.utc)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


def by_day(rollups: InMemoryRollupStore) -> dict[date, set[UsageTally]]:
    return {day: set(tallies) for day, tallies in rollups.days.items() if tallies}


def truth(usage: InMemoryUsageSource) -> dict[date, set[UsageTally]]:
    sessions = defaultdict(list)
    for session, _ in usage.rows.values():
        sessions[utc_day(session.started_at)].append(session)
    return {day: set(tally_sessions(day_sessions)) for day, day_sessions in sessions.items()}


def make_job(start: datetime):
    usage, rollups, clock = InMemoryUsageSource(), InMemoryRollupStore(), Clock(start)
    return usage, rollups, clock, RollupJob(usage, rollups, clock=clock)


def test_re_running_never_double_counts():
    usage, rollups, clock, job = make_job(MIDNIGHT + timedelta(days=3))
    for i in range(5):
        usage.put(f"s{i}", Session("claude", "m", MIDNIGHT + timedelta(hours=i), MIDNIGHT + timedelta(hours=i, minutes=3), False), clock())
    clock.advance(minutes=1)
    job.run()
    first = by_day(rollups)
    for _ in range(3):
        clock.advance(minutes=1)
        job.run()
    job.run(full=True)
    assert by_day(rollups) == first == truth(usage)
    assert sum(t.sessions for tallies in first.values() for t in tallies) == 5


def test_a_session_that_ends_after_its_day_was_rolled_up_is_corrected_on_the_next_run():
    usage, rollups, clock, job = make_job(MIDNIGHT + timedelta(hours=1))
    started = MIDNIGHT - timedelta(minutes=10)  # the day before, 23:50
    usage.put("s", Session("codex", None, started, None, False), clock())
    job.run()
    clock.advance(hours=1)
    # The end (and the model, detected late) arrive an hour later: updated_at moves.
    usage.put("s", Session("codex", "gpt-5", started, started + timedelta(minutes=40), False), clock())
    clock.advance(minutes=1)
    job.run()
    assert by_day(rollups) == {
        date(2031, 3, 9): {UsageTally("codex", "gpt-5", 1, 1, Decimal(2400), 0)},
    }


def test_a_session_spanning_midnight_belongs_to_its_start_day_only():
    usage, rollups, clock, job = make_job(MIDNIGHT + timedelta(days=2))
    usage.put("s", Session("aider", None, MIDNIGHT - timedelta(hours=1), MIDNIGHT + timedelta(hours=26), True), clock())
    job.run()
    assert by_day(rollups) == {date(2031, 3, 9): {UsageTally("aider", None, 1, 1, Decimal(27 * 3600), 1)}}


def test_a_run_recomputes_only_days_changed_since_the_watermark():
    usage, rollups, clock, job = make_job(MIDNIGHT)
    for offset in range(10):
        usage.put(f"s{offset}", Session("claude", None, MIDNIGHT - timedelta(days=offset), None, False), clock())
    clock.advance(minutes=20)  # past the overlap, so these rows are not "changed" for the next run
    assert len(job.run().days) == 10
    clock.advance(hours=2)
    usage.put("s4", dataclasses.replace(usage.rows["s4"][0], model="late"), clock())
    clock.advance(hours=1)
    usage.tallied_days.clear()
    run = job.run()
    assert run.days == (date(2031, 3, 6),) and usage.tallied_days == [date(2031, 3, 6)]
    assert by_day(rollups) == truth(usage)


def test_a_row_written_just_before_a_run_started_is_caught_by_the_next_run():
    usage, rollups, clock, job = make_job(MIDNIGHT)
    job.run()
    # A slow transaction stamps updated_at before the next run starts but commits after that run read the day.
    stamped = clock.advance(hours=1)
    clock.advance(seconds=30)
    job.run()
    usage.put("slow", Session("claude", None, MIDNIGHT, None, False), stamped)
    clock.advance(hours=1)
    job.run()
    assert rollups.stored_watermark == clock() - WATERMARK_OVERLAP
    assert by_day(rollups) == truth(usage)


_SESSION_IDS = st.sampled_from([f"s{i}" for i in range(8)])
_CHANGE = st.tuples(
    _SESSION_IDS,
    st.sampled_from(["claude", "codex"]),
    st.sampled_from([None, "m1", "m2"]),
    st.integers(min_value=-3 * 24 * 60, max_value=0),  # start, minutes from the current time
    st.one_of(st.none(), st.integers(min_value=0, max_value=2 * 24 * 60)),  # duration, minutes
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.just("run"), st.just("wait"), _CHANGE), max_size=30))
def test_after_any_history_of_changes_and_runs_the_next_run_matches_the_raw_rows(history):
    usage, rollups, clock, job = make_job(MIDNIGHT)
    for step in history:
        if step == "run":
            job.run()
        elif step == "wait":
            clock.advance(minutes=37)
        else:
            session_id, agent, model, start_minutes, duration, missing = step
            started = clock() + timedelta(minutes=start_minutes)
            if session_id in usage.rows:  # an update: usage tracking never moves a session's start or agent
                agent, started = usage.rows[session_id][0].agent, usage.rows[session_id][0].started_at
            ended = None if duration is None else started + timedelta(minutes=duration)
            usage.put(session_id, Session(agent, model, started, ended, missing), clock())
        clock.advance(seconds=1)
    job.run()
    assert by_day(rollups) == truth(usage)
