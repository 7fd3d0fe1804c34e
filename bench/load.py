"""The load driver: run in its own process, it sends one kind of request from several threads
for a while, and prints the latencies as JSON.

    echo '{"base": "http://127.0.0.1:8000", "cookie": "...", "kind": "get", "path": "/healthz",
           "concurrency": 4, "duration": 10}' | python -m bench.load

Kinds:

- ``get``: GET ``path``; a 200 is a success.
- ``save``: for each request, GET an action's page (not timed) for its CSRF token and version,
  then POST a changed assessment (timed); a 302 is a success. Each thread saves its own actions
  (``codes``), so saves never conflict with one another.
- ``job``: POST ``start_path`` (a background job), then poll ``path`` until it answers with
  ``expect_type``; the time to the finished file is what is timed. One thread.

Each thread keeps its own cookies (it starts with the signed-in session's) and opens a new
connection per request, as gunicorn's sync workers close each connection after the response.
"""

from __future__ import annotations

import http.client
import json
import re
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode, urlsplit

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')


#: a form's fields: a mapping (a list value repeats the name) or (name, value) pairs in order
Fields = Mapping[str, Any] | Sequence[tuple[str, str]]


def multipart(fields: Fields, files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    """A ``multipart/form-data`` body and its Content-Type, as a browser sends a file form."""
    boundary = f"----bench{uuid.uuid4().hex}"
    pairs = fields.items() if isinstance(fields, Mapping) else fields
    parts: list[bytes] = []
    for name, value in pairs:
        for one in value if isinstance(value, list | tuple) else [value]:
            parts.append(
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                f"{one}\r\n".encode()
            )
    for name, (filename, content, content_type) in files.items():
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'
        )
        parts.append(head.encode() + content + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class Client:
    """One thread's HTTP client: a cookie jar and a new connection per request."""

    host: str
    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    timeout: float = 120

    def request(
        self,
        method: str,
        path: str,
        body: Fields | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request; ``files`` (field name → file name, contents, content type) makes
        it ``multipart/form-data`` with ``body``'s fields beside them."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        headers = {"Host": f"{self.host}:{self.port}", "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if files:
            data, headers["Content-Type"] = multipart(body or {}, files)
        elif body is not None:
            data = urlencode(body, doseq=True).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie":
                    cookie = SimpleCookie()
                    cookie.load(value)
                    for name, morsel in cookie.items():
                        if morsel["max-age"] == "0" or not morsel.value:
                            self.cookies.pop(name, None)
                        else:
                            self.cookies[name] = morsel.value
            return response.status, {k.lower(): v for k, v in response.getheaders()}, content
        finally:
            connection.close()


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (milliseconds)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[rank]


@dataclass
class Tally:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    server_errors: int = 0
    locked: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, elapsed: float, ok: bool, content: bytes) -> None:
        with self.lock:
            self.latencies.append(elapsed * 1000)
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
            if not ok:
                self.errors += 1
            if status >= 500:
                self.server_errors += 1
            if b"database is locked" in content:
                self.locked += 1


def _get(spec: dict[str, Any], client: Client, tally: Tally, _thread: int, _n: int) -> None:
    started = time.perf_counter()
    status, _headers, content = client.request("GET", spec["path"])
    tally.add(status, time.perf_counter() - started, status == 200, content)


def _save(spec: dict[str, Any], client: Client, tally: Tally, thread: int, n: int) -> None:
    codes = spec["codes"]
    mine = codes[thread :: spec["concurrency"]] or codes
    code = mine[n % len(mine)]
    path = spec["path"].replace("{code}", code)
    status, _headers, page = client.request("GET", path)
    text = page.decode("utf-8", "replace")
    token, version = CSRF.search(text), VERSION.search(text)
    if status != 200 or not token or not version:
        tally.add(status, 0.0, False, page)
        return
    stages = ("planning", "implementing")
    body = {
        "csrf_token": token.group(1),
        "version": version.group(1),
        "stage": stages[n % 2],
        "rag": ("green", "amber", "red")[n % 3],
        "narrative": f"Benchmark save {thread}-{n}: progress reported to the board.",
        "next_steps": "Review next quarter.",
        "lead_officer": "Head of Commissioning",
        "target_stage": "embedded",
        "is_co_produced": "no",
    }
    started = time.perf_counter()
    status, _headers, content = client.request("POST", path, body)
    tally.add(status, time.perf_counter() - started, status in (302, 303), content)


def _job(spec: dict[str, Any], client: Client, tally: Tally, _thread: int, _n: int) -> None:
    status, _headers, page = client.request("GET", spec["form_path"])
    token = CSRF.search(page.decode("utf-8", "replace"))
    started = time.perf_counter()
    status, _headers, content = client.request(
        "POST", spec["start_path"], {"csrf_token": token.group(1) if token else ""}
    )
    if status not in (302, 303):
        tally.add(status, time.perf_counter() - started, False, content)
        return
    deadline = started + spec.get("job_timeout", 300)
    while time.perf_counter() < deadline:
        status, headers, content = client.request("GET", spec["path"])
        if status == 200 and headers.get("content-type", "").startswith(spec["expect_type"]):
            tally.add(status, time.perf_counter() - started, True, b"")
            return
        time.sleep(0.1)
    tally.add(599, time.perf_counter() - started, False, b"timed out")


KINDS = {"get": _get, "save": _save, "job": _job}


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Drive the server as ``spec`` says; returns the summary printed by ``main``."""
    base = urlsplit(spec["base"])
    concurrency = int(spec.get("concurrency", 1))
    duration = float(spec.get("duration", 10))
    max_requests = int(spec.get("max_requests", 0)) or None
    warmup = int(spec.get("warmup", 1))
    #: carry on past the duration until this many requests have been timed (slow pages)
    min_requests = int(spec.get("min_requests", 0))
    kind = KINDS[spec["kind"]]
    tally, discard = Tally(), Tally()
    counter = iter(range(10**9))
    counter_lock = threading.Lock()
    # Every thread warms up (first requests, sign-in cookies, caches), then all start together.
    ready = threading.Barrier(concurrency + 1)
    window: dict[str, float] = {}

    def worker(thread: int) -> None:
        client = Client(base.hostname or "127.0.0.1", base.port or 80, dict(spec["cookies"]))
        for n in range(warmup):
            kind(spec, client, discard, thread, n)
        ready.wait()
        n = warmup
        while True:
            with counter_lock:
                taken = next(counter)
            if max_requests is not None and taken >= max_requests:
                break
            if time.perf_counter() >= window["stop"] and taken >= min_requests:
                break
            kind(spec, client, tally, thread, n)
            n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    window["stop"] = float("inf")
    ready.wait()
    started = time.perf_counter()
    window["stop"] = started + duration
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    values = tally.latencies
    return {
        "requests": len(values),
        "errors": tally.errors,
        "server_errors": tally.server_errors,
        "database_locked": tally.locked,
        "statuses": tally.statuses,
        "p50_ms": round(percentile(values, 0.50), 1),
        "p95_ms": round(percentile(values, 0.95), 1),
        "p99_ms": round(percentile(values, 0.99), 1),
        "max_ms": round(max(values), 1) if values else 0.0,
        "latencies_ms": [round(v, 1) for v in values] if spec.get("keep_latencies") else [],
        "throughput_rps": round(len(values) / elapsed, 1) if elapsed else 0.0,
        "seconds": round(elapsed, 1),
    }


def main() -> None:
    spec = json.loads(sys.stdin.read())
    print(json.dumps(run(spec)))


if __name__ == "__main__":
    main()
