"""Webhook ingest: signed deliveries with durable commit, as ratios to a bare FastAPI endpoint.

    python -m bench.webhooks [--events 3000] [--concurrency 8] [--rate 300]
                             [--deployment cloud|datacenter]

Two server processes on 127.0.0.1 under the same uvicorn settings: the app (``create_app``, SQLite
inbox in WAL mode: verify on raw bytes, commit, then 202) and a bare FastAPI endpoint answering 200.
The deliveries are Jira Cloud's, or with ``--deployment datacenter`` Data Center's: its payload, and
no delivery id, so the inbox names each by its body's SHA-256 (wrk, which sends one body, would
measure only the deduplication: the Python clients drive both servers instead). This process drives
both: (1) as fast as ``--concurrency`` keep-alive clients can, for the sustained rate (with wrk when
installed, else Python threads, which cap near 400/s on two cores); (2) open-loop at ``--rate``
events/s, for p50/p99 latency. Ingest only: the worker is not running.
Targets: rate >= 0.5x the bare endpoint, p99 < 50 ms at 300 events/s.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import multiprocessing as mp
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from fastapi import FastAPI, Request

from bench.common import verdict

SECRET = "bench-secret"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_app(port: int, database: str, deployment: str = "cloud") -> None:
    """Child: the real app with a Jira webhook secret (of ``deployment``), on ``port``."""
    import uvicorn
    from pydantic import SecretStr

    from v2mom.app.factory import create_app
    from v2mom.settings import JiraSettings, Settings, TrackersSettings
    from v2mom.store.database import Database
    from v2mom.webhooks.ingest import tune_interpreter_for_serving

    credentials: dict[str, Any] = (
        {"deployment": "datacenter", "token": SecretStr("t")}
        if deployment == "datacenter"
        else {"email": "b@x", "api_token": SecretStr("t")}
    )
    jira = JiraSettings(
        url="http://127.0.0.1:9", jql="project = B", webhook_secrets=[SecretStr(SECRET)], **credentials
    )
    settings = Settings(database_url=database, trackers=TrackersSettings(jira=jira))
    tune_interpreter_for_serving()  # as v2mom serve does
    uvicorn.run(
        create_app(settings, Database.open(database)),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )


def serve_bare(port: int) -> None:
    """Child: a bare FastAPI endpoint that answers 200 to any POST body."""
    import uvicorn

    bare = FastAPI()

    @bare.post("/webhooks/jira")
    async def ok(request: Request) -> dict[str, str]:
        await request.body()
        return {"status": "ok"}

    uvicorn.run(bare, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def deliveries(n: int, tag: str, deployment: str = "cloud") -> list[tuple[bytes, dict[str, str]]]:
    """Signed, distinct deliveries: Cloud's with a delivery id each, Data Center's without one (each
    body is distinct, as each event's is: its time and the tag)."""
    out = []
    for i in range(n):
        event: dict[str, Any] = {
            "webhookEvent": "jira:issue_updated",
            "timestamp": 1763900000000 + i,
            "issue": {
                "id": str(10000 + i),
                "key": f"B-{i}",
                "fields": {"updated": "2026-11-20T10:00:00.000+0000"},
            },
        }
        if deployment == "datacenter":  # the acting user, as a Data Center UserJsonBean
            user = {"key": f"JIRAUSER-{tag}", "name": tag}
            event |= {"issue_event_type_name": "issue_generic", "user": user}
        body = json.dumps(event).encode()
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        headers = {"X-Hub-Signature": signature, "Content-Type": "application/json"}
        if deployment != "datacenter":
            headers["X-Atlassian-Webhook-Identifier"] = f"{tag}-{i}"
        out.append((body, headers))
    return out


def wait_up(url: str) -> None:
    """Until the server answers."""
    for _ in range(200):
        try:
            requests.post(url, data=b"{}", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not start")


def max_rate(url: str, batch: list[tuple[bytes, dict[str, str]]], concurrency: int) -> float:
    """Events/s with ``concurrency`` keep-alive clients sending as fast as answers come."""
    local = threading.local()

    def send(item: tuple[bytes, dict[str, str]]) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return int(local.session.post(url, data=item[0], headers=item[1], timeout=10).status_code)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        codes = list(pool.map(send, batch))
    elapsed = time.perf_counter() - started
    bad = [c for c in codes if c >= 300]
    assert not bad, f"{len(bad)} deliveries refused (first: {bad[0]})"
    return len(batch) / elapsed


WRK_SCRIPT = """
local counter = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("prefix", "t" .. threads)
end
function request()
  counter = counter + 1
  wrk.headers["X-Atlassian-Webhook-Identifier"] = prefix .. "-" .. counter
  return wrk.format("POST", nil, nil, nil)
end
function done(summary, latency, requests)
  io.write(string.format("NON2XX %d\\n", summary.errors.status))
end
"""


def wrk_rate(url: str, seconds: int, connections: int, tag: str) -> float:
    """Events/s from wrk (C, closed loop): every request a new delivery id, the same signed body."""
    body, headers = deliveries(1, tag)[0]
    with tempfile.TemporaryDirectory() as tmp:
        script = f"{tmp}/deliveries.lua"
        with open(script, "w", encoding="utf-8") as handle:
            handle.write(f"wrk.method = 'POST'\nwrk.body = {json.dumps(body.decode())}\n")
            for name, value in headers.items():
                if name != "X-Atlassian-Webhook-Identifier":
                    handle.write(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n")
            handle.write(f"prefix = {json.dumps(tag)}\n" + WRK_SCRIPT)
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", script, url]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    refused = int(re.search(r"NON2XX (\d+)", output).group(1))  # type: ignore[union-attr]
    assert refused == 0, f"{refused} deliveries refused by {url}"
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]


def paced_latency(url: str, batch: list[tuple[bytes, dict[str, str]]], rate: float) -> tuple[float, float]:
    """p50 and p99 (ms) when deliveries start at a fixed ``rate`` (open loop)."""
    latencies: list[float] = []
    local = threading.local()
    lock = threading.Lock()

    def send(item: tuple[bytes, dict[str, str]]) -> None:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        started = time.perf_counter()
        answer = local.session.post(url, data=item[0], headers=item[1], timeout=10)
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status_code < 300, answer.text
        with lock:
            latencies.append(elapsed)

    start = time.perf_counter()
    with ThreadPoolExecutor(32) as pool:
        for n, item in enumerate(batch):
            delay = start + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(send, item)
    latencies.sort()
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1]


def _check_stored(database: str, sent: int) -> None:
    """Fail unless the app's inbox holds ``sent`` Jira deliveries."""
    from v2mom.store.database import Database

    store = Database.open(database)
    try:
        stored = sum(store.inbox.counts().get("jira", {}).values())
    finally:
        store.close()
    assert stored == sent, f"{stored} of {sent} deliveries stored"
    print(f"app   stored each of the {sent:,} deliveries once")


def main() -> None:
    """Start both servers, drive them, print ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--seconds", type=int, default=10, help="wrk duration per server")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--deployment", choices=("cloud", "datacenter"), default="cloud", help="Jira's")
    args = parser.parse_args()
    deployment = args.deployment
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        app_port, bare_port = _port(), _port()
        processes = [
            ctx.Process(
                target=serve_app, args=(app_port, f"sqlite:///{tmp}/bench.db", deployment), daemon=True
            ),
            ctx.Process(target=serve_bare, args=(bare_port,), daemon=True),
        ]
        for process in processes:
            process.start()
        app_url = f"http://127.0.0.1:{app_port}/webhooks/jira"
        bare_url = f"http://127.0.0.1:{bare_port}/webhooks/jira"
        try:
            wait_up(bare_url)
            for _ in range(200):  # the app answers 401 to an unsigned probe once it is up
                try:
                    requests.post(app_url, data=b"{}", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.05)
            results: dict[str, Any] = {}
            for name, url in (("bare", bare_url), ("app", app_url)):
                max_rate(url, deliveries(200, f"{name}-warm", deployment), args.concurrency)  # warm up
                if shutil.which("wrk") and deployment == "cloud":
                    rate = wrk_rate(url, args.seconds, args.connections, f"{name}-wrk")
                else:
                    batch = deliveries(args.events, f"{name}-max", deployment)
                    rate = max_rate(url, batch, args.concurrency)
                paced = deliveries(int(args.rate * 5), f"{name}-paced", deployment)
                p50, p99 = paced_latency(url, paced, args.rate)
                results[name] = (rate, p50, p99)
                latency = f"at {args.rate:.0f}/s p50 {p50:.1f} ms, p99 {p99:.1f} ms"
                print(f"{name:5s} {rate:,.0f} events/s max; {latency}")
            # no delivery ids: each distinct body stored, none taken for a retry
            if deployment == "datacenter":
                _check_stored(f"sqlite:///{tmp}/bench.db", 200 + args.events + int(args.rate * 5))
            ratio = results["app"][0] / results["bare"][0]
            p99 = results["app"][2]
            label = "webhooks" if deployment == "cloud" else "webhooks-datacenter"
            print(
                f"RESULT {label}/sqlite: rate ratio {ratio:.2f} (target >= 0.5: {verdict(ratio >= 0.5)}), "
                f"p50 ratio {results['app'][1] / results['bare'][1]:.2f}, "
                f"p99 ratio {p99 / results['bare'][2]:.2f}, "
                f"p99 {p99:.1f} ms at {args.rate:.0f}/s (target < 50 ms: {verdict(p99 < 50)})"
            )
        finally:
            for process in processes:
                process.terminate()
                process.join(timeout=10)


if __name__ == "__main__":
    main()
