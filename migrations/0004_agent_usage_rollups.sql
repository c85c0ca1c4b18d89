-- Daily rollups of agent_usage for the admin analytics route (chalicelib/analytics/rollups.py):
-- one row per UTC start day x agent x model, replaced whole whenever a session of that day changes.
create table agent_usage_rollups (
    day                    date        not null,
    agent                  text        not null,
    model                  text,
    sessions               bigint      not null,
    ended_sessions         bigint      not null,
    -- Exact sum of (ended_at - started_at) over the ended sessions, in seconds.
    total_duration_seconds numeric     not null,
    missing_key_sessions   bigint      not null,
    rolled_up_at           timestamptz not null default now(),
    constraint agent_usage_rollups_day_agent_model_key unique nulls not distinct (day, agent, model)
);

-- Where each job's next run starts looking for changed rows (agent_usage.updated_at).
create table analytics_watermarks (
    job        text        primary key,
    watermark  timestamptz not null,
    updated_at timestamptz not null default now()
);

select aether_close_to_browser('agent_usage_rollups');
select aether_close_to_browser('analytics_watermarks');
