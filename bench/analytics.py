"""Agent analytics: GET /admin/analytics/agents (rollup-backed) against the product spec's raw queries.

1,000,000 synthetic sessions over 90 days in a scratch PostgreSQL database (one insert ... select from
generate_series); the baseline is the spec's three analytics queries as written, on the same data.
"""
from __future__ import annotations

import os
import secrets
import time
import uuid

from bench.stats import percentiles, report, time_calls
from scripts.devstack import scratch_database
from scripts.token import mint_token

SESSIONS = 1_000_000
DAYS = 90
ENDPOINT_RUNS = 60
RAW_RUNS = 5

# Skewed agent mix; 80% of sessions with a detected model, 85% ended, 5% without a key. Rows go in in start
# order and were last updated when they ended (or started), as ingestion would have left them.
_GENERATE = """
insert into agent_usage
    (user_id, project_id, terminal_session_id, agent, model, missing_key, started_at, ended_at, updated_at)
select md5('u' || (g %% 20000))::uuid, md5('p' || (g %% 50000))::uuid, 'term-' || g, agent,
       case when r_model < 0.8 then agent || (array['-large', '-small', '-mini'])[1 + (g %% 3)] end,
       r_missing < 0.05, started, ended, least(coalesce(ended, started), now() - interval '1 hour')
from (
    select g, agent, random() as r_model, random() as r_missing, started,
           case when random() < 0.85 then started + random() * interval '2 hours' end as ended
    from (
        select g, (array['claude', 'claude', 'claude', 'codex', 'codex', 'aider', 'gemini'])[1 + floor(random() * 7)::int] as agent,
               now() - random() * %(days)s * interval '1 day' as started
        from generate_series(1, %(sessions)s) as g
    ) as starts
) as synthetic
order by started
"""
# The product spec's "Analytics queries", verbatim: what a raw-rows endpoint would run per request.
SPEC_QUERIES = (
    """select agent, count(*) as sessions
from agent_usage
where started_at > now() - interval '30 days'
group by agent
order by sessions desc""",
    """select model, count(*) as sessions
from agent_usage
where model is not null
  and started_at > now() - interval '30 days'
group by model
order by sessions desc""",
    """select agent, avg(extract(epoch from (ended_at - started_at))) as avg_seconds
from agent_usage
where ended_at is not null
group by agent""",
)
# The same with the average restricted to the period too, as the endpoint reports it: the fairer baseline.
SPEC_QUERIES_IN_PERIOD = (*SPEC_QUERIES[:2], SPEC_QUERIES[2].replace(
    "where ended_at is not null", "where ended_at is not null and started_at > now() - interval '30 days'"))


def _forget_wiring() -> None:
    """Drop cached settings and adapters, so this run and the next benchmark each read their own environment."""
    from chalicelib import settings as settings_module
    from chalicelib import wiring

    settings_module.settings.cache_clear()
    for builder in vars(wiring).values():
        if callable(getattr(builder, "cache_clear", None)):
            builder.cache_clear()


def _end_recent_sessions(pool) -> None:
    with pool.connection() as conn:
        conn.execute("update agent_usage set ended_at = now() where id in (select id from agent_usage "
                     "where ended_at is null order by started_at desc limit 100)")


def _seconds(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    from chalice.test import Client

    print(f"== agent analytics: {SESSIONS:,} sessions over {DAYS} days, PostgreSQL ==")
    with scratch_database() as url:
        secret = secrets.token_urlsafe(32)
        os.environ.update(AETHER_STAGE="local", STORAGE_BACKEND="postgres", DATABASE_URL=url, SUPABASE_JWT_SECRET=secret,
                          ENCRYPTION_MASTER_KEY=f"v1:{secrets.token_hex(32)}")
        _forget_wiring()
        import app as app_module
        from chalicelib import wiring

        pool = wiring.pg_pool()
        with pool.connection() as conn:
            seconds = _seconds(lambda: conn.execute(_GENERATE, {"days": DAYS, "sessions": SESSIONS}))
            conn.execute("analyze agent_usage")
        print(f"  generate {SESSIONS:,} rows                      {seconds:8.1f} s")
        job = wiring.analytics_rollup()
        for label, prepare in (("first rollup", None), ("hourly rollup, 100 late ends", _end_recent_sessions)):
            if prepare:
                prepare(pool)
            start = time.perf_counter()
            days = len(job.run().days)
            print(f"  {label:<30} recomputed {days:3d} day(s)  {time.perf_counter() - start:6.2f} s")

        headers = {"Authorization": f"Bearer {mint_token(secret, str(uuid.uuid4()), admin=True)}"}
        with Client(app_module.app, stage_name="local") as client:
            def endpoint(period: str):
                return lambda: client.http.get(f"/admin/analytics/agents?period={period}", headers=headers)

            endpoint("30d")()  # warm the pool and caches
            samples = {period: time_calls(endpoint(period), ENDPOINT_RUNS) for period in ("1d", "30d", "90d", "365d")}

        def run_all(queries):
            def run() -> None:
                with pool.connection() as conn:
                    for query in queries:
                        conn.execute(query).fetchall()
            return run

        raw = time_calls(run_all(SPEC_QUERIES), RAW_RUNS)
        raw_in_period = time_calls(run_all(SPEC_QUERIES_IN_PERIOD), RAW_RUNS)
        for period, period_samples in samples.items():
            report(f"endpoint ?period={period} (rollups + today)", period_samples)
        report("spec's raw queries as written (30d)", raw)
        report("spec's raw queries, average also 30d", raw_in_period)
        endpoint_p50 = percentiles(samples["30d"])[0]
        for label, baseline in (("as written", raw), ("avg also 30d", raw_in_period)):
            ratio = percentiles(baseline)[0] / endpoint_p50
            print(f"  {f'ratio, raw ({label}) / endpoint 30d':<42} {ratio:8.1f}x   p50s (goal >= 20x)")
        pool.close()
        _forget_wiring()


if __name__ == "__main__":
    main()
