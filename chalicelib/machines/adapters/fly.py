"""Fly Machines API adapter (requests): timeouts on every call, jittered retries that honour Retry-After."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential
from urllib3.exceptions import InvalidHeader
from urllib3.util import Retry

from chalicelib.machines.errors import (
    CreateOutcomeUnknownError,
    FlyCapacityError,
    FlyRejectedError,
    FlyUnavailableError,
)
from chalicelib.machines.models import Machine
from chalicelib.observability import logger

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Statuses that prove the request was refused before anything happened, so repeating it is safe.
_NOT_APPLIED = frozenset({429})
_MACAROON_PREFIXES = ("fm1r_", "fm1a_", "fm2_")
_LEASE_HEADER = "fly-machine-lease-nonce"


def authorization_header(token: str) -> str:
    """``FlyV1`` for macaroon tokens (deploy/org tokens), ``Bearer`` otherwise, as fly-go does."""
    bare = token.strip()
    for scheme in ("FlyV1 ", "Bearer "):
        if bare.startswith(scheme):
            bare = bare[len(scheme):].strip()
    return f"FlyV1 {bare}" if bare.startswith(_MACAROON_PREFIXES) else f"Bearer {bare}"


class _RetryableStatus(Exception):
    def __init__(self, response: requests.Response, retry_after: float | None) -> None:
        super().__init__(response.status_code)
        self.response = response
        self.retry_after = retry_after


class _RetryableTransport(Exception):
    """A connection or timeout error on a call that is safe to repeat."""


@dataclass(frozen=True)
class _WaitRetryAfterOrJitter:
    """Sleep what the server asked for (capped), else exponential backoff with full jitter."""

    initial_s: float
    max_s: float
    max_retry_after_s: float

    def __call__(self, retry_state: Any) -> float:
        exc = retry_state.outcome.exception()
        if isinstance(exc, _RetryableStatus) and exc.retry_after is not None:
            return min(exc.retry_after, self.max_retry_after_s)
        return wait_random_exponential(multiplier=self.initial_s, max=self.max_s)(retry_state)


@dataclass(frozen=True)
class FlyMachinesApi:
    """One Fly app's machines. Errors become FlyUnavailable/FlyCapacity/FlyRejected, never Fly's body."""

    session: requests.Session
    base_url: str
    app_name: str
    token: str = field(repr=False)
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 30.0
    attempts: int = 4
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 3.0
    # One Lambda invocation must stay bounded whatever Retry-After says.
    max_retry_after_s: float = 10.0
    lease_ttl_s: int = 120
    region: str | None = None  # None: Fly picks one near its API edge

    def find_by_metadata(self, key: str, value: str) -> list[Machine]:
        body = self._call("GET", "/machines", "list", params={f"metadata.{key}": value}).json()
        # The metadata filter is documented but not in the spec: check it ourselves.
        machines = [_machine(item) for item in body]
        return [m for m in machines if m.metadata.get(key) == value]

    def get(self, machine_id: str) -> Machine:
        return _machine(self._call("GET", f"/machines/{machine_id}", "get").json())

    def create(self, config: Mapping[str, Any]) -> Machine:
        try:
            response = self._call("POST", "/machines", "create", json_body=self._create_body(config), retry_statuses=_NOT_APPLIED,
                                  repeat_after_send=False)
        except FlyUnavailableError as exc:
            raise CreateOutcomeUnknownError(exc.public_message) from None
        return _machine(response.json())

    def _create_body(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return {"config": config, "region": self.region} if self.region else {"config": config}

    def update(self, machine_id: str, config: Mapping[str, Any], *, current_version: str, lease_nonce: str) -> Machine:
        # Only refusals are repeated: an update that may have applied is re-read by the next attempt of the task.
        response = self._call(
            "POST", f"/machines/{machine_id}", "update",
            json_body={"config": config, "current_version": current_version},
            headers={_LEASE_HEADER: lease_nonce}, retry_statuses=_NOT_APPLIED, repeat_after_send=False,
        )
        return _machine(response.json())

    def start(self, machine_id: str, *, lease_nonce: str | None) -> None:
        headers = {_LEASE_HEADER: lease_nonce} if lease_nonce else {}
        # 412: the machine is still between states (created, replacing, stopping); it starts once it settles.
        self._call("POST", f"/machines/{machine_id}/start", "start", headers=headers,
                   retry_statuses=TRANSIENT_STATUSES | {412})

    def wait_started(self, machine_id: str, *, version: str, timeout_s: int) -> None:
        timeout_s = max(1, min(timeout_s, 60))  # Fly's maximum per call; Step Functions loops beyond it
        try:
            self._call(
                "GET", f"/machines/{machine_id}/wait", "wait",
                params={"state": "started", "version": version, "timeout": timeout_s},
                # 404 right after a create: the machine is not visible yet.
                retry_statuses=TRANSIENT_STATUSES - {408} | {404}, read_timeout_s=timeout_s + 10, attempts=2,
            )
        except FlyUnavailableError:
            raise FlyUnavailableError("the machine did not start in time") from None

    @contextmanager
    def lease(self, machine_id: str, description: str) -> Iterator[str]:
        response = self._call(
            "POST", f"/machines/{machine_id}/lease", "lease",
            json_body={"description": description, "ttl": self.lease_ttl_s},
            retry_statuses=TRANSIENT_STATUSES | {409},
        )
        body = response.json()
        nonce = (body.get("data") or body)["nonce"]  # the real API wraps the spec's Lease in {"status","data"}
        try:
            yield nonce
        finally:
            self._release(machine_id, nonce)

    def _release(self, machine_id: str, nonce: str) -> None:
        try:
            self._call("DELETE", f"/machines/{machine_id}/lease", "release lease", headers={_LEASE_HEADER: nonce})
        except (FlyUnavailableError, FlyRejectedError):
            # Not fatal: the lease expires after its TTL. Never mask the error that is already propagating.
            logger.warning("could not release a machine lease", extra={"machine_id": machine_id})

    def _call(
        self,
        method: str,
        path: str,
        action: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_statuses: frozenset[int] = TRANSIENT_STATUSES,
        repeat_after_send: bool = True,
        read_timeout_s: float | None = None,
        attempts: int | None = None,
    ) -> requests.Response:
        url = f"{self.base_url.rstrip('/')}/v1/apps/{self.app_name}{path}"
        all_headers = {"Authorization": authorization_header(self.token), **(headers or {})}
        timeout = (self.connect_timeout_s, read_timeout_s or self.read_timeout_s)

        def attempt() -> requests.Response:
            try:
                response = self.session.request(method, url, params=params, json=json_body, headers=all_headers,
                                                timeout=timeout)
            except requests.ConnectTimeout:
                raise _RetryableTransport() from None  # nothing was sent
            except (requests.ConnectionError, requests.Timeout):
                if repeat_after_send:
                    raise _RetryableTransport() from None
                raise FlyUnavailableError(f"no answer from Fly to {action}") from None
            if response.status_code in retry_statuses:
                raise _RetryableStatus(response, _retry_after(response))
            return response

        retrying = Retrying(
            stop=stop_after_attempt(attempts or self.attempts),
            wait=_WaitRetryAfterOrJitter(self.backoff_initial_s, self.backoff_max_s, self.max_retry_after_s),
            retry=retry_if_exception_type((_RetryableStatus, _RetryableTransport)),
            reraise=True,
        )
        try:
            response = retrying(attempt)
        except _RetryableTransport:
            raise FlyUnavailableError(f"no answer from Fly to {action}") from None
        except _RetryableStatus as exc:
            response = exc.response
        if response.status_code >= 400:
            raise _error_for(action, response) from None
        return response


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return Retry().parse_retry_after(value)
    except InvalidHeader:
        return None


def _error_for(action: str, response: requests.Response) -> Exception:
    """Map a failed response to one error code; Fly's body is not logged (it may echo the config)."""
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = {}
    fly_status = body.get("status") if isinstance(body, dict) else None
    logger.warning("fly call failed", extra={"action": action, "status": status, "fly_status": fly_status,
                                             "fly_request_id": response.headers.get("fly-request-id")})
    if fly_status == "insufficient_capacity":
        return FlyCapacityError(f"Fly has no capacity for the machine ({action})")
    if status in TRANSIENT_STATUSES or status in (409, 412) or status >= 500:
        return FlyUnavailableError(f"Fly did not complete {action} (HTTP {status})")
    return FlyRejectedError(f"Fly refused {action} (HTTP {status})")


def _machine(body: Any) -> Machine:
    if not isinstance(body, dict) or "id" not in body:
        raise FlyUnavailableError("Fly returned an unexpected machine document")
    return Machine(
        id=str(body["id"]),
        state=str(body.get("state") or ""),
        instance_id=str(body.get("instance_id") or ""),
        config=body.get("config") or {},
    )
