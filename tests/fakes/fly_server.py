"""A local fake of the Fly Machines API subset a launch uses, with request validation and fault injection.

Request bodies are checked against the schemas of the official spec (fly-machines-openapi.json next to this file,
a copy of https://docs.machines.dev/spec/openapi3.json), made strict (unknown fields are refused) so a typo in our client fails a test instead of being ignored by Fly.
"""
from __future__ import annotations

import copy
import json
import re
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPEC_PATH = Path(__file__).resolve().with_name("fly-machines-openapi.json")
_ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_ROUTE = re.compile(r"^/v1/apps/(?P<app>[^/]+)/machines(?:/(?P<id>[^/]+)(?:/(?P<action>[a-z_]+))?)?$")


def _strict(schema: Any) -> Any:
    """The spec's schemas with additionalProperties: false wherever properties are listed."""
    if isinstance(schema, dict):
        strict = {key: _strict(value) for key, value in schema.items()}
        if "properties" in strict and "additionalProperties" not in strict:
            strict["additionalProperties"] = False
        return strict
    if isinstance(schema, list):
        return [_strict(item) for item in schema]
    return schema


def _request_validators() -> dict[str, jsonschema.Validator]:
    spec = _strict(json.loads(SPEC_PATH.read_text()))
    # Properties next to allOf ("config": {"allOf": [MachineConfig], "type": ...}) would be closed too early.
    for name in ("CreateMachineRequest", "UpdateMachineRequest"):
        spec["components"]["schemas"][name]["properties"]["config"].pop("additionalProperties", None)
    registry = Registry().with_resource("urn:fly", Resource.from_contents(spec, default_specification=DRAFT4))
    return {
        name: jsonschema.Draft4Validator({"$ref": f"urn:fly#/components/schemas/{name}"}, registry=registry)
        for name in ("CreateMachineRequest", "UpdateMachineRequest", "CreateLeaseRequest")
    }


def new_instance_id() -> str:
    return "".join(secrets.choice(_ULID_ALPHABET) for _ in range(26))


@dataclass
class Lease:
    nonce: str
    expires_at: float
    description: str


@dataclass
class FakeMachine:
    id: str
    instance_id: str
    state: str
    config: dict[str, Any]
    versions: list[dict[str, Any]] = field(default_factory=list)
    lease: Lease | None = None
    ready_at: float = 0.0  # monotonic time at which "starting" becomes "started"
    # An update Fly accepted but silently rolled back: waiting for it looks successful.
    rolled_back_versions: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": f"fake-{self.id}", "state": self.state, "region": "iad",
                "instance_id": self.instance_id, "config": copy.deepcopy(self.config), "host_status": "ok",
                "private_ip": "fdaa::1", "created_at": "2025-01-01T00:00:00Z", "updated_at": "2025-01-01T00:00:00Z"}


@dataclass
class Faults:
    """Faults to inject; each queue entry is consumed by one matching request."""

    # route -> queued (status, headers, body) answered instead of handling the request
    responses: dict[str, deque[tuple[int, dict[str, str], dict[str, Any]]]] = field(
        default_factory=lambda: defaultdict(deque))
    # create the machine, then answer 408 as if the reply was lost
    timeouts_after_create: int = 0
    rollback_updates: int = 0
    # the next `slow_waits` /wait calls sleep slow_wait_s (bounded by their timeout) before looking
    slow_waits: int = 0
    slow_wait_s: float = 0.0
    # a machine stays "starting" this long after a create/update/start before it is "started"
    boot_s: float = 0.0

    def fail(self, route: str, status: int, count: int = 1, *, headers: dict[str, str] | None = None,
             body: dict[str, Any] | None = None) -> None:
        for _ in range(count):
            self.responses[route].append((status, headers or {}, body or {"error": f"injected {status}"}))

    def throttle(self, route: str, count: int, retry_after: str | None = "1") -> None:
        self.fail(route, 429, count, headers={"Retry-After": retry_after} if retry_after else {},
                  body={"error": "rate limit exceeded"})


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int
    started: float
    authorization: str | None = field(repr=False)


class FakeFly:
    """State and behaviour of the fake; the HTTP handler below only translates to and from it."""

    def __init__(self, app_name: str, token: str) -> None:
        self.app_name = app_name
        self.token = token
        self.machines: dict[str, FakeMachine] = {}
        self.faults = Faults()
        self.requests: list[RecordedRequest] = []
        self.schema_errors: list[str] = []
        self.fly_time_s = 0.0  # time spent handling requests, so a benchmark can subtract "Fly's own time"
        self.lock = threading.RLock()
        self._validators = _request_validators()
        self.url = ""

    # ---- inspection helpers for tests -------------------------------------------------------------------
    def live_machines(self) -> list[FakeMachine]:
        return [m for m in self.machines.values() if m.state != "destroyed"]

    def machines_for(self, project_id: str) -> list[FakeMachine]:
        return [m for m in self.live_machines() if m.config.get("metadata", {}).get("aether_project_id") == project_id]

    def active_leases(self) -> list[str]:
        now = time.time()
        return [m.id for m in self.machines.values() if m.lease and m.lease.expires_at > now]

    def calls(self, method: str, action: str | None = None) -> list[RecordedRequest]:
        def action_of(path: str) -> str | None:
            match = _ROUTE.match(path)
            return match and (match["action"] or ("machine" if match["id"] else "machines"))
        return [r for r in self.requests if r.method == method and (action is None or action_of(r.path) == action)]

    def stop_machine(self, machine_id: str, state: str = "stopped") -> None:
        with self.lock:
            self.machines[machine_id].state = state

    # ---- request handling ---------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, Any]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        started = time.perf_counter()
        status, extra_headers, payload = self._dispatch(method, parts.path, query, headers, body)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.fly_time_s += elapsed
            self.requests.append(RecordedRequest(method, parts.path, query, status, time.time(),
                                                 headers.get("authorization")))
        return status, extra_headers, payload

    def _dispatch(self, method, path, query, headers, body):
        match = _ROUTE.match(path)
        if match is None or match["app"] != self.app_name:
            return 404, {}, {"error": "not found"}
        if headers.get("authorization") != self._expected_authorization():
            return 401, {}, {"error": "Authenticate: token validation error"}
        machine_id, action = match["id"], match["action"]
        route = {
            ("GET", None, False): "list", ("POST", None, False): "create",
            ("GET", None, True): "get", ("POST", None, True): "update",
            ("POST", "start", True): "start", ("GET", "wait", True): "wait",
            ("POST", "lease", True): "lease", ("DELETE", "lease", True): "release",
            ("GET", "metadata", True): "metadata",
        }.get((method, action, machine_id is not None))
        if route is None:
            return 405, {}, {"error": "method not allowed"}
        with self.lock:
            queued = self.faults.responses[route]
            if queued:
                return queued.popleft()
        try:
            document = json.loads(body) if body else None
        except ValueError:
            return 400, {}, {"error": "invalid json"}
        if route == "wait":  # outside the lock: it may sleep
            return self._wait(machine_id, query)
        with self.lock:
            if route == "list":
                return self._list(query)
            if route == "create":
                return self._create(document)
            machine = self.machines.get(machine_id)
            if machine is None or machine.state == "destroyed":
                return 404, {}, {"error": "machine not found"}
            self._settle(machine)
            handler = {"get": self._get, "update": self._update, "start": self._start, "lease": self._lease,
                       "release": self._release, "metadata": self._metadata}[route]
            return handler(machine, document, headers)

    def _expected_authorization(self) -> str:
        scheme = "FlyV1" if self.token.startswith(("fm1r_", "fm1a_", "fm2_")) else "Bearer"
        return f"{scheme} {self.token}"

    def _invalid(self, schema: str, document: Any) -> tuple[int, dict, Any] | None:
        errors = sorted(self._validators[schema].iter_errors(document), key=lambda e: list(e.path))
        if not errors:
            return None
        message = "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message[:200]}" for e in errors)
        self.schema_errors.append(f"{schema}: {message}")
        return 400, {}, {"error": f"invalid request: {schema}"}

    def _list(self, query):
        include_deleted = query.get("include_deleted", ["false"])[0] == "true"
        wanted = {key[len("metadata."):]: values[0] for key, values in query.items() if key.startswith("metadata.")}
        found = []
        for machine in self.machines.values():
            self._settle(machine)
            metadata = machine.config.get("metadata", {})
            if machine.state == "destroyed" and not include_deleted:
                continue
            if all(metadata.get(k) == v for k, v in wanted.items()):
                found.append(machine.to_json())
        return 200, {}, found

    def _create(self, document):
        if (invalid := self._invalid("CreateMachineRequest", document)) is not None:
            return invalid
        if not document.get("config", {}).get("image"):
            return 400, {}, {"error": "config.image is required"}
        machine = FakeMachine(id=secrets.token_hex(7), instance_id=new_instance_id(), state="created",
                              config=copy.deepcopy(document["config"]))
        machine.versions.append({"version": machine.instance_id, "user_config": copy.deepcopy(machine.config)})
        if not document.get("skip_launch"):
            self._boot(machine)
        self.machines[machine.id] = machine
        if self.faults.timeouts_after_create > 0:
            self.faults.timeouts_after_create -= 1
            return 408, {}, {"error": "request timed out"}
        return 200, {}, machine.to_json()

    def _get(self, machine, document, headers):
        return 200, {}, machine.to_json()

    def _metadata(self, machine, document, headers):
        return 200, {}, dict(machine.config.get("metadata", {}))

    def _lease_refused(self, machine, headers):
        lease = machine.lease
        if lease and lease.expires_at > time.time() and headers.get("fly-machine-lease-nonce") != lease.nonce:
            return 409, {}, {"error": f"aborted: machine ID {machine.id} lease currently held by someone else"}
        return None

    def _update(self, machine, document, headers):
        if (invalid := self._invalid("UpdateMachineRequest", document)) is not None:
            return invalid
        if (refused := self._lease_refused(machine, headers)) is not None:
            return refused
        if document.get("current_version") not in (None, machine.instance_id):
            return 412, {}, {"error": "failed_precondition: current_version does not match"}
        new_version = new_instance_id()
        if self.faults.rollback_updates > 0:
            # Fly answers as if the update worked, but the old version keeps running.
            self.faults.rollback_updates -= 1
            machine.rolled_back_versions.add(new_version)
            answer = machine.to_json() | {"instance_id": new_version, "config": copy.deepcopy(document["config"])}
            return 200, {}, answer
        machine.config = copy.deepcopy(document["config"])
        machine.instance_id = new_version
        machine.versions.append({"version": new_version, "user_config": copy.deepcopy(machine.config)})
        if machine.state in ("started", "starting"):
            self._boot(machine)  # a running machine reboots into the new version
        else:
            machine.state = "stopped"  # "leaving the new version stopped"; a suspended snapshot is discarded
        return 200, {}, machine.to_json()

    def _start(self, machine, document, headers):
        if (refused := self._lease_refused(machine, headers)) is not None:
            return refused
        if machine.state in ("starting", "replacing", "stopping"):
            return 412, {}, {"error": f"failed_precondition: unable to start machine from current state: '{machine.state}'"}
        previous = machine.state
        if previous != "started":
            self._boot(machine)
        return 200, {}, {"previous_state": previous, "migrated": False, "new_host": ""}

    def _lease(self, machine, document, headers):
        if (invalid := self._invalid("CreateLeaseRequest", document or {})) is not None:
            return invalid
        if (refused := self._lease_refused(machine, headers)) is not None:
            return refused
        lease = Lease(nonce=secrets.token_hex(6), expires_at=time.time() + (document or {}).get("ttl", 30),
                      description=(document or {}).get("description", ""))
        machine.lease = lease
        data = {"nonce": lease.nonce, "expires_at": int(lease.expires_at), "owner": "fake@tokens.fly.io",
                "description": lease.description, "version": machine.instance_id}
        return 201, {}, {"status": "success", "data": data}

    def _release(self, machine, document, headers):
        if machine.lease is None:
            return 404, {}, {"error": "lease not found"}
        if headers.get("fly-machine-lease-nonce") != machine.lease.nonce:
            return 409, {}, {"error": "lease nonce mismatch"}
        machine.lease = None
        return 200, {}, {}

    def _wait(self, machine_id, query):
        timeout = float(query.get("timeout", ["60"])[0])
        version = (query.get("version") or query.get("instance_id") or [None])[0]
        wanted = query.get("state", ["started"])[0]
        deadline = time.monotonic() + timeout
        with self.lock:
            slow = self.faults.slow_waits > 0
            self.faults.slow_waits -= slow
        if slow:
            time.sleep(min(self.faults.slow_wait_s, timeout))
            if self.faults.slow_wait_s >= timeout:
                return 408, {}, {"error": "deadline_exceeded: timeout waiting for machine to be started"}
        while True:
            with self.lock:
                machine = self.machines.get(machine_id)
                if machine is None:
                    return 404, {}, {"error": "machine not found"}
                self._settle(machine)
                rolled_back = version in machine.rolled_back_versions
                if (version in (None, machine.instance_id) or rolled_back) and machine.state == wanted:
                    # A rolled-back version "arrives" too: the old version's started state is reported.
                    return 200, {}, {"ok": True, "state": machine.state, "version": version or machine.instance_id,
                                     "event_id": secrets.token_hex(8)}
            if time.monotonic() >= deadline:
                return 408, {}, {"error": "deadline_exceeded: timeout waiting for machine to be started"}
            time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))

    def _boot(self, machine: FakeMachine) -> None:
        machine.state = "starting"
        machine.ready_at = time.monotonic() + self.faults.boot_s
        self._settle(machine)

    @staticmethod
    def _settle(machine: FakeMachine) -> None:
        if machine.state == "starting" and time.monotonic() >= machine.ready_at:
            machine.state = "started"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeFly
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, delayed ACKs add ~40 ms per keep-alive call.
    disable_nagle_algorithm = True

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, extra_headers, payload = self.fake.handle(self.command, self.path, headers, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("fly-request-id", secrets.token_hex(8))
        for key, value in extra_headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's signature
        """Silent: the fake must not print request lines into test output."""


@contextmanager
def running_fake_fly(app_name: str = "aether-test", token: str = "fm2_faketoken") -> Iterator[FakeFly]:
    """Serve a FakeFly on 127.0.0.1 (a free port) for the duration of the block."""
    fake = FakeFly(app_name, token)
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
