"""A Fly client and a launcher pointed at the fake Fly server, with short backoffs."""
from __future__ import annotations

import pytest
import requests

from chalicelib.machines.adapters.fly import FlyMachinesApi
from chalicelib.machines.launch import MachineLauncher

IMAGE = "registry.fly.io/aether-base:test"
BASE_CONFIG = {"image": IMAGE, "guest": {"cpu_kind": "shared", "cpus": 1, "memory_mb": 1024},
               "restart": {"policy": "on-failure", "max_retries": 3}}


@pytest.fixture
def fly_api(fake_fly):
    with requests.Session() as session:
        yield FlyMachinesApi(session=session, base_url=fake_fly.url, app_name=fake_fly.app_name,
                             token=fake_fly.token, backoff_initial_s=0.01, backoff_max_s=0.05, read_timeout_s=5)


@pytest.fixture
def launcher(fly_api):
    return MachineLauncher(api=fly_api, base_config=BASE_CONFIG, lookup_delay_s=0)
