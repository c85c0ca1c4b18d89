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

-- Supabase exposes tables to the browser through the anon/authenticated roles: RLS on with no
-- policies (and no grants) means a browser session can never read ciphertext.
alter table api_keys enable row level security;
do $$
begin
    if exists (select 1 from pg_roles where rolname = 'anon') then
        revoke all on api_keys from anon;
    end if;
    if exists (select 1 from pg_roles where rolname = 'authenticated') then
        revoke all on api_keys from authenticated;
    end if;
end
$$;
