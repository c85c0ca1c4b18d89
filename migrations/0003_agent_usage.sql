-- Agent sessions detected in terminal output (chalicelib/usage). user_id and project_id have no foreign
-- keys on purpose: profiles and projects are owned by Supabase / other services, not by this schema.
create table agent_usage (
    -- Ingestion sets a deterministic id (terminal session id + stream offset of the start), so a
    -- redelivered Kinesis record finds its row already there; the default serves manual inserts.
    id                  uuid        primary key default gen_random_uuid(),
    user_id             uuid        not null,
    project_id          uuid        not null,
    terminal_session_id text        not null,
    agent               text        not null,
    model               text,
    missing_key         boolean     not null default false,
    started_at          timestamptz not null default now(),
    ended_at            timestamptz,
    created_at          timestamptz default now(),
    updated_at          timestamptz not null default now()
);
create index agent_usage_user_id_idx on agent_usage (user_id);
create index agent_usage_agent_idx on agent_usage (agent);
create index agent_usage_started_at_idx on agent_usage (started_at);
-- Analytics rollups find changed days through updated_at.
create index agent_usage_updated_at_idx on agent_usage (updated_at);

-- updated_at moves on every update, whoever writes the row.
create function agent_usage_touch() returns trigger
language plpgsql as $$
begin
    new.updated_at := now();
    return new;
end
$$;
create trigger agent_usage_touch before update on agent_usage
    for each row execute function agent_usage_touch();

-- Per terminal session: the detector's state between Lambda invocations (flags, offsets and a byte tail
-- masked to allow-listed tokens), the last record applied and the usage row still open.
create table usage_detector_state (
    terminal_session_id text        primary key,
    last_seq            bigint      not null,
    open_usage_id       uuid,
    state               jsonb       not null,
    updated_at          timestamptz not null default now()
);

select aether_close_to_browser('agent_usage');
select aether_close_to_browser('usage_detector_state');
