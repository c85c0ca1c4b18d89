-- One row per (user, provider): concurrent saves of different providers never touch the same row.
create table api_keys (
    user_id      uuid        not null,
    provider     text        not null,
    ciphertext   bytea       not null,
    nonce        bytea       not null,
    wrapped_key  bytea       not null,
    kek_id       text        not null,
    hint         text        not null,
    added_at     timestamptz not null default now(),
    updated_at   timestamptz not null default now(),
    last_used_at timestamptz,
    primary key (user_id, provider)
);

-- Supabase exposes tables to the browser through the anon/authenticated roles. Every table of this
-- service goes through this function: RLS on with no policies, and no grants to those roles, so a
-- browser session can never read ciphertext (or anything else here). The service owns the tables.
create function aether_close_to_browser(tbl regclass) returns void language plpgsql as $$
declare
    browser_role text;
begin
    execute format('alter table %s enable row level security', tbl);
    foreach browser_role in array array['anon', 'authenticated'] loop
        if exists (select 1 from pg_roles where rolname = browser_role) then
            execute format('revoke all on %s from %I', tbl, browser_role);
        end if;
    end loop;
end
$$;

select aether_close_to_browser('api_keys');
