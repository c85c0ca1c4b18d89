"""Synthetic agent sessions for analytics tests, written through usage tracking's own stores.

Each test places its sessions in its own random window far in the future, so the shared test database
(and other tests' usage rows) never show up in its reports.
"""
from __future__ import annotations

import random
import secrets
import uuid
from datetime import date, datetime, time, timedelta, timezone

from chalicelib.usage.ports import AgentUsage

AGENTS = {"claude": ["claude-sonnet-4-20250514", "claude-opus-4-20250514"], "codex": ["gpt-5", "gpt-4"], "aider": ["gpt-4"]}


def far_future_now() -> datetime:
    """A moment in a random day between the years 2200 and ~9000, mid-afternoon UTC."""
    day = date(2200, 1, 1) + timedelta(days=secrets.randbelow(2_400_000))
    return datetime.combine(day, time(15, 30, 12, 345_678), tzinfo=timezone.utc)


def session(agent: str, started_at: datetime, *, model: str | None = None, ended_at: datetime | None = None,
            missing_key: bool = False) -> AgentUsage:
    return AgentUsage(
        id=str(uuid.uuid4()), user_id=str(uuid.uuid4()), project_id=str(uuid.uuid4()),
        terminal_session_id=f"term-{uuid.uuid4().hex[:12]}", agent=agent, model=model, missing_key=missing_key,
        started_at=started_at, ended_at=ended_at,
    )


def random_sessions(rng: random.Random, now: datetime, count: int, days_back: float,
                    agents: dict[str, list[str]] = AGENTS, *, ended_share: float = 0.8) -> list[AgentUsage]:
    """``count`` sessions started within ``days_back`` days before ``now`` (none after it): skewed agent mix,
    some models undetected, some sessions never ended, some spanning midnight, fractional seconds."""
    names = list(agents)
    weights = [len(names) - i for i in range(len(names))]
    sessions = []
    for _ in range(count):
        started = now - timedelta(seconds=rng.uniform(0, days_back * 86_400))
        agent = rng.choices(names, weights)[0]
        model = rng.choice(agents[agent]) if agents[agent] and rng.random() < 0.75 else None
        ended = started + timedelta(seconds=rng.uniform(1, 5 * 3600)) if rng.random() < ended_share else None
        sessions.append(session(agent, started, model=model, ended_at=ended, missing_key=rng.random() < 0.1))
    return sessions


def record(store, sessions: list[AgentUsage]) -> None:
    """Write sessions the way ingestion does: start (with model and missing-key flag), then end."""
    for usage in sessions:
        store.start_usage(usage)
        if usage.ended_at is not None:
            store.end_usage(usage.id, usage.ended_at)
