"""The machine env: user keys under their standard names, overridden by project vars, plus its keyed digest."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MachineEnv:
    # Plaintext keys live here: never printed.
    values: Mapping[str, str] = field(repr=False)
    # Providers whose key is really in ``values`` (a project var of the same name wins over the key).
    injected_providers: tuple[str, ...]


def merge_env(
    keys_by_provider: Mapping[str, str],
    env_var_by_provider: Mapping[str, str],
    project_env: Mapping[str, str],
) -> MachineEnv:
    """Each key under its provider's env var, then the project's vars on top (the product rule)."""
    key_env = {
        env_var_by_provider[provider]: key
        for provider, key in keys_by_provider.items()
        if provider in env_var_by_provider
    }
    injected = tuple(
        sorted(p for p in keys_by_provider if p in env_var_by_provider and env_var_by_provider[p] not in project_env)
    )
    return MachineEnv(values={**key_env, **project_env}, injected_providers=injected)


def launch_digest(secret: bytes, env: Mapping[str, str], image: str) -> str:
    """HMAC-SHA256 of the env and image: equal digests mean the machine needs no update.

    Keyed with a server secret so the digest kept in Fly's metadata cannot be used to guess keys.
    """
    canonical = json.dumps({"env": dict(env), "image": image}, sort_keys=True, separators=(",", ":"))
    return "v1:" + hmac.new(secret, canonical.encode(), hashlib.sha256).hexdigest()


def derived_digest_secret(master_key: bytes) -> bytes:
    """A digest key for the local stage, derived from the keyring's master key (never the key itself)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"aether-env-digest").derive(master_key)
