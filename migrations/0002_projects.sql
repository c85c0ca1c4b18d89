-- The minimum of a project a VM start needs, plus the last known machine (written by the start flow).
create table projects (
    id                 uuid        primary key,
    owner_id           uuid        not null,
    name               text        not null,
    env                jsonb       not null default '{}'::jsonb,
    machine_state      text        not null default 'none',
    machine_id         text,
    machine_error      text,
    start_id           uuid,
    machine_updated_at timestamptz,
    created_at         timestamptz not null default now(),
    updated_at         timestamptz not null default now()
);
create index projects_owner_id_idx on projects (owner_id);

-- Same stance as api_keys: the browser never reads this table through Supabase's roles.
select aether_close_to_browser('projects');
