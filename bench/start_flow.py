"""VM start flow: our overhead per start (claim, decrypt, merge, digest, Fly client, bookkeeping) excluding the
time Fly itself spends, against a zero-latency fake Fly; fresh start vs restart with unchanged keys."""
from __future__ import annotations

import os
import secrets
import time
import uuid

import requests

from bench.stats import percentiles, report
from scripts.devstack import scratch_database
from tests.fakes.fly_server import running_fake_fly

RUNS = 100
IMAGE = "registry.fly.io/aether-base:bench"
KEYS = {"anthropic": "sk-ant-api03-" + "b" * 80, "openai": "sk-proj-" + "c" * 60, "gemini": "AIza" + "d" * 35}


def _starter(url: str, fake):
    from chalicelib.crypto import Envelope
    from chalicelib.crypto.adapters.local import LocalKeyring
    from chalicelib.keys import PROVIDERS, KeyVault
    from chalicelib.keys.adapters.postgres import PostgresKeyRepository
    from chalicelib.machines import LocalStartRunner, MachineLauncher, ProjectStarter, StartTasks
    from chalicelib.machines.adapters.fly import FlyMachinesApi
    from chalicelib.projects import ProjectService
    from chalicelib.projects.adapters.postgres import PostgresProjectRepository
    from chalicelib.store.postgres import connect_pool

    pool = connect_pool(url)
    vault = KeyVault(PostgresKeyRepository(pool), Envelope(LocalKeyring({"v1": os.urandom(32)})))
    projects = ProjectService(PostgresProjectRepository(pool))
    api = FlyMachinesApi(session=requests.Session(), base_url=fake.url, app_name=fake.app_name, token=fake.token)
    tasks = StartTasks(
        projects=projects, keys=vault,
        launcher=MachineLauncher(api=api, base_config={"image": IMAGE}, lookup_delay_s=0),
        env_var_by_provider={p.name: p.env_var for p in PROVIDERS}, image=IMAGE,
        digest_secret=secrets.token_bytes(32), wait_timeout_s=5,
    )
    return pool, vault, projects, api, ProjectStarter(projects=projects, runner=LocalStartRunner(tasks=lambda: tasks))


def _measure(fake, start) -> tuple[float, float, int]:
    """(whole flow ms, Fly's own ms, Fly calls) of one start."""
    fly_before, calls_before = fake.fly_time_s, len(fake.requests)
    began = time.perf_counter()
    start()
    total = time.perf_counter() - began
    return total * 1000, (fake.fly_time_s - fly_before) * 1000, len(fake.requests) - calls_before


def _print(label: str, rows: list[tuple[float, float, int]]) -> float:
    overhead = [total - fly for total, fly, _ in rows]
    report(f"{label}: whole flow", [total for total, _, _ in rows])
    report(f"{label}: Fly's own time", [fly for _, fly, _ in rows])
    report(f"{label}: overhead (flow - Fly)", overhead)
    print(f"  {label}: Fly calls per start {rows[0][2]}")
    return percentiles(overhead)[0]


def main() -> None:
    from chalicelib.observability import logger

    logger.setLevel("WARNING")  # one INFO line per start would drown the figures
    print("== VM start flow (local runner, real PostgreSQL, local keyring, zero-latency fake Fly) ==")
    with scratch_database() as url, running_fake_fly() as fake:
        pool, vault, projects, api, starter = _starter(url, fake)
        user = str(uuid.uuid4())
        for provider, key in KEYS.items():
            vault.put(user, provider, key)
        round_trip = [_measure(fake, lambda: api.get(machine_id))[0] for machine_id in
                      [api.create({"image": IMAGE}).id] * RUNS]
        report("baseline: one Fly GET round trip", round_trip)

        fresh_projects = [projects.create(user, "bench", {"APP": "1"}).id for _ in range(RUNS)]
        fresh = [_measure(fake, lambda: starter.start(user, project_id)) for project_id in fresh_projects]
        restart_project = projects.create(user, "bench", {"APP": "1"}).id
        first = starter.start(user, restart_project)

        def restart() -> None:
            fake.stop_machine(first.machine_id)
            starter.start(user, restart_project)

        restarts = [_measure(fake, restart) for _ in range(RUNS)]
        updates = sum(r.method == "POST" and r.path.endswith(f"/machines/{first.machine_id}") for r in fake.requests)
        fresh_p50 = _print("fresh start", fresh)
        restart_p50 = _print("restart, same keys", restarts)
        print(f"  restart, same keys: machine updates over {RUNS} restarts = {updates} (the digest matched)")
        print(f"  overhead ratio restart/fresh = {restart_p50 / fresh_p50:.2f}x;"
              f" fresh overhead = {fresh_p50 / percentiles(round_trip)[0]:.1f} Fly round trips")
        pool.close()


if __name__ == "__main__":
    main()
