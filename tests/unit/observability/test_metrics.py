"""Key vault counters come out as one EMF line per invocation, with no key material."""
from __future__ import annotations

import json
import os
import uuid

from chalicelib.crypto import Envelope
from chalicelib.crypto.adapters.local import LocalKeyring
from chalicelib.keys import KeyVault
from chalicelib.observability import flush_after
from chalicelib.observability.metrics import metrics
from tests.conftest import make_canary_key
from tests.fakes.keys import InMemoryKeyRepository


def test_saving_and_disconnecting_are_counted_and_flushed_once(monkeypatch, capsys):
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    metrics.clear_metrics()  # other tests' vault calls counted outside any invocation
    vault = KeyVault(InMemoryKeyRepository(), Envelope(LocalKeyring({"v1": os.urandom(32)})))
    user, key = str(uuid.uuid4()), make_canary_key("openai")

    def invocation(_event):
        vault.put(user, "openai", key)
        vault.put(user, "openai", make_canary_key("openai"))
        vault.delete(user, "openai")
        vault.delete(user, "openai")  # nothing left to disconnect: not counted
        return "done"

    assert flush_after(None, invocation) == "done"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    (emf,) = [line for line in lines if "_aws" in line]
    # EMF keeps one value per data point (a list when there are several).
    total = lambda name: sum(emf[name]) if isinstance(emf[name], list) else emf[name]  # noqa: E731
    assert (total("ApiKeySaved"), total("ApiKeyDisconnected")) == (2.0, 1.0)
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "aether-agents"
    assert key not in json.dumps(lines)
