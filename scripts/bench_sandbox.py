#!/usr/bin/env python
"""Load benchmark for the embedded Codat sandbox.

Fires N requests (default 2000) with concurrency C (default 8) at a mix of read endpoints
(get company, mapping options, list syncs) and, with --writes, expense creates, then prints
requests/s, latency percentiles and error counts by status.

    # against a sandbox that is already running
    .venv/bin/python scripts/bench_sandbox.py http://127.0.0.1:8000/codat-sandbox

    # start gunicorn (or runserver) on a free loopback port with a throwaway SQLite database,
    # migrate it, run the benchmark, stop the server
    .venv/bin/python scripts/bench_sandbox.py --serve --writes

    # wrk at concurrency 8 against gunicorn with DJANGO_DEBUG=false: /healthz/ (the floor),
    # get company and mapping options, each for 10 s, with ratios to the floor
    .venv/bin/python scripts/bench_sandbox.py --serve --production --wrk 10

Only loopback addresses are accepted, and both the request count and the run time are bounded.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import html.parser
import ipaddress
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

BASE_DIR = Path(__file__).resolve().parent.parent
BENCH_SITE = BASE_DIR / "scripts" / "benchsite"
DEFAULT_URL = "http://127.0.0.1:8000/codat-sandbox"
DEFAULT_KEY = "sandbox-dev-key"
MAX_REQUESTS = 100_000
MAX_CONCURRENCY = 64
MAX_SECONDS = 600
# A throwaway Standard Webhooks secret (32 random-looking bytes) for --production runs.
BENCH_WEBHOOK_SECRET = "whsec_YmVuY2gtc2FuZGJveC13ZWJob29rLXNlY3JldC0zMmI="


# --- safety -------------------------------------------------------------------------------------


def require_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    sys.exit(f"refusing to benchmark {url!r}: only loopback addresses are allowed")


# --- server -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served_sandbox(args):
    """Migrate a throwaway SQLite database and serve the project on a free loopback port."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    port = free_port()
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": env.get("BENCH_DATABASE_URL", f"sqlite:///{workdir / 'db.sqlite3'}"),
            "CODAT_SANDBOX_ENABLED": "true",
            "CODAT_SANDBOX_DAILY_QUOTA": str(args.quota),
            "CODAT_SANDBOX_CONCURRENCY": str(max(10, args.concurrency * 2)),
            # Webhooks must not reach a developer's server on :8000.
            "CODAT_SANDBOX_WEBHOOK_URL": "http://127.0.0.1:9/bench-webhooks/",
            "LOG_LEVEL": "WARNING",
            # The project's settings plus the trivial view the read figures are compared with.
            "DJANGO_SETTINGS_MODULE": "bench_settings",
            "PYTHONPATH": os.pathsep.join(
                filter(None, [str(BENCH_SITE), str(BASE_DIR), env.get("PYTHONPATH")])
            ),
        }
    )
    if args.production:
        # What a production process would run with; every secret is explicit and throwaway.
        secret = uuid.uuid4().hex
        env.update(
            {
                "DJANGO_DEBUG": "false",
                "DJANGO_SECRET_KEY": secret * 2,
                "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
                "DJANGO_SECURE_SSL_REDIRECT": "false",
                "CODAT_API_KEY": args.api_key,
                "CODAT_SANDBOX_API_KEYS": args.api_key,
                "CODAT_WEBHOOK_SECRET": BENCH_WEBHOOK_SECRET,
                "CODAT_SANDBOX_WEBHOOK_SECRET": BENCH_WEBHOOK_SECRET,
            }
        )
    python = sys.executable
    subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [python, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    if args.server == "gunicorn" and shutil.which("gunicorn", path=str(Path(python).parent)):
        command = [
            str(Path(python).parent / "gunicorn"),
            "expenses_portal.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            str(args.threads),
            "--log-level",
            "warning",
        ]
        label = f"gunicorn ({args.workers} workers x {args.threads} threads)"
    else:
        command = [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
        label = "manage.py runserver (threaded)"
    log = open(workdir / "server.log", "wb")  # noqa: SIM115 (closed in finally)
    process = subprocess.Popen(  # noqa: S603 (fixed argv, no shell)
        command,
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/codat-sandbox"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                sys.exit(f"server exited early; see {workdir / 'server.log'}")
            try:
                httpx.get(url + "/companies", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    sys.exit("server did not start within 30 s")
                time.sleep(0.2)
        print(f"serving with {label} on {url} (database {env['DATABASE_URL']})")
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


# --- setup through the API ----------------------------------------------------------------------


class _Forms(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form = None
        self._button = None

    def handle_starttag(self, tag, attrs):
        attrs = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self._form = {"action": attrs.get("action", ""), "fields": {}, "buttons": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "input":
            if attrs.get("type", "text").lower() == "submit":
                self._form["buttons"].append([attrs.get("name"), attrs.get("value", ""), ""])
            elif attrs.get("name"):
                self._form["fields"][attrs["name"]] = attrs.get("value", "")
        elif self._form is not None and tag == "button":
            self._button = [attrs.get("name"), attrs.get("value", ""), ""]
            self._form["buttons"].append(self._button)

    def handle_data(self, data):
        if self._button is not None:
            self._button[2] += data

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None
        elif tag == "form":
            self._form = None


def approve_link(link_url: str) -> None:
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(link_url)
        page.raise_for_status()
        parser = _Forms()
        parser.feed(page.text)
        for form in parser.forms:
            for name, value, text in form["buttons"]:
                if "approve" in f"{name} {value} {text}".lower():
                    data = dict(form["fields"])
                    if name:
                        data[name] = value
                    target = urljoin(str(page.url), form["action"] or str(page.url))
                    # With DJANGO_DEBUG=false the CSRF cookie is Secure, which httpx keeps
                    # to itself over plain http; a browser on localhost would send it back.
                    cookie = "; ".join(f"{k}={v}" for k, v in page.cookies.items())
                    response = browser.post(
                        target, data=data, headers={"Referer": str(page.url), "Cookie": cookie}
                    )
                    if response.status_code >= 400:
                        raise RuntimeError(f"Link approve answered {response.status_code}")
                    return
        raise RuntimeError("no Approve button on the Link page")


def set_up_company(api: httpx.Client, platform_key: str) -> dict:
    """Create a company, link it, and set its configuration; return what the load mix needs."""
    company = api.post("/companies", json={"name": f"Bench {uuid.uuid4().hex[:6]}"})
    company.raise_for_status()
    company_id = company.json()["id"]
    info = {"company_id": company_id, "linked": False}
    connection = api.post(
        f"/companies/{company_id}/connections", json={"platformKey": platform_key}
    )
    if connection.status_code != 200:
        print(f"warning: create connection answered {connection.status_code}; reads only")
        return info
    try:
        approve_link(connection.json()["linkUrl"])
    except (RuntimeError, httpx.HTTPError) as exc:
        print(f"warning: could not approve the connection ({exc}); reads only")
        return info
    api.post(f"/companies/{company_id}/sync/expenses/connections/partnerExpense").raise_for_status()
    mapping = api.get(f"/companies/{company_id}/sync/expenses/mappingOptions").json()
    accounts = mapping.get("accounts") or []
    expense = next(
        a
        for a in accounts
        if not a.get("isBankAccount")
        and "expense-transactions.Payment" in (a.get("validFor") or [])
    )
    bank = next(
        (
            a
            for a in accounts
            if a.get("isBankAccount") and a.get("currency") == expense.get("currency")
        ),
        next(a for a in accounts if a.get("isBankAccount")),
    )
    supplier = api.get(f"/companies/{company_id}/data/suppliers").json()["results"][0]
    customer = api.get(f"/companies/{company_id}/data/customers").json()["results"][0]
    api.post(
        f"/companies/{company_id}/sync/expenses/config",
        json={
            "bankAccount": {"id": bank["id"]},
            "supplier": {"id": supplier["id"]},
            "customer": {"id": customer["id"]},
        },
    ).raise_for_status()
    info.update(linked=True, account_id=expense["id"], currency=bank.get("currency") or "USD")
    return info


# --- load ---------------------------------------------------------------------------------------


def build_mix(info: dict, writes: bool) -> list[tuple[str, str, str]]:
    company = f"/companies/{info['company_id']}"
    mix = [
        ("get company", "GET", company),
        ("list syncs", "GET", f"{company}/sync/expenses/syncs/list/status"),
    ]
    if info["linked"]:
        mix.append(("mapping options", "GET", f"{company}/sync/expenses/mappingOptions"))
    if writes and info["linked"]:
        mix.append(("create expense", "POST", f"{company}/sync/expenses/expense-transactions"))
    return mix


def expense_payload(info: dict) -> list[dict]:
    return [
        {
            "id": str(uuid.uuid4()),
            "type": "Payment",
            "issueDate": time.strftime("%Y-%m-%dT00:00:00", time.gmtime()),
            "currency": info["currency"],
            "merchantName": "Bench Coffee",
            "lines": [{"netAmount": 4.2, "accountRef": {"id": info["account_id"]}}],
        }
    ]


def run_load(api_url: str, headers: dict, info: dict, args) -> dict:
    mix = build_mix(info, args.writes)
    lock = threading.Lock()
    next_index = [0]
    results: list[tuple[str, int, float]] = []  # (kind, status or 0 for transport error, seconds)
    deadline = time.monotonic() + args.max_seconds

    def worker():
        with httpx.Client(base_url=api_url, headers=headers, timeout=args.timeout) as client:
            while True:
                with lock:
                    index = next_index[0]
                    if index >= args.requests or time.monotonic() > deadline:
                        return
                    next_index[0] += 1
                kind, method, path = mix[index % len(mix)]
                started = time.perf_counter()
                try:
                    if method == "POST":
                        response = client.post(path, json=expense_payload(info))
                    else:
                        response = client.get(path)
                    status = response.status_code
                except httpx.HTTPError:
                    status = 0
                elapsed = time.perf_counter() - started
                with lock:
                    results.append((kind, status, elapsed))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return {"results": results, "wall": wall, "mix": [m[0] for m in mix]}


def run_wrk(api_url: str, headers: dict, info: dict, args) -> int:
    """Each URL in turn under wrk; requests/s and the ratio to the floor measured in the same
    run: a JSON view that does nothing (scripts/benchsite), and /healthz/ for comparison."""
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install -y wrk)")
    root = api_url.removesuffix("/codat-sandbox")
    company = f"{api_url}/companies/{info['company_id']}"
    targets = [
        ("trivial JSON view", f"{root}/bench/trivial/"),
        ("/healthz/", f"{root}/healthz/"),
        ("get company", company),
    ]
    if info["linked"]:
        targets.append(("mapping options", f"{company}/sync/expenses/mappingOptions"))
    floor = None
    failed = False
    for label, url in targets:
        command = ["wrk", "-t", "2", "-c", str(args.concurrency), "-d", f"{args.wrk}s"]
        command += ["-H", f"Authorization: {headers['Authorization']}", url]
        print("$ " + " ".join(command).replace(headers["Authorization"], "Basic …"))
        output = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            command, capture_output=True, text=True, check=True
        ).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        errors = re.search(r"Socket errors: .*", output)
        floor = floor or rate
        print(
            f"  {label:<24} {rate:9.1f} req/s  ratio to the floor {rate / floor:.2f}"
            f"  non-2xx: {bad.group(1) if bad else 0}" + (f"  {errors.group(0)}" if errors else "")
        )
        failed = failed or bool(bad) or bool(errors)
    return 1 if failed else 0


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def report(outcome: dict, args) -> int:
    results = outcome["results"]
    wall = outcome["wall"]
    latencies = sorted(r[2] for r in results)
    ok = [r for r in results if 200 <= r[1] < 300]
    errors = Counter(r[1] for r in results if not 200 <= r[1] < 300)
    print(f"mix: {', '.join(outcome['mix'])}")
    print(f"requests: {len(results)} in {wall:.2f} s with concurrency {args.concurrency}")
    print(f"throughput: {len(results) / wall:.1f} requests/s ({len(ok)} 2xx)")
    print(
        "latency ms: p50 {:.1f}  p95 {:.1f}  p99 {:.1f}  max {:.1f}  mean {:.1f}".format(
            *(1000 * percentile(latencies, f) for f in (0.5, 0.95, 0.99)),
            1000 * (latencies[-1] if latencies else float("nan")),
            1000 * (statistics.fmean(latencies) if latencies else float("nan")),
        )
    )
    by_kind: dict[str, list[float]] = {}
    for kind, _, elapsed in results:
        by_kind.setdefault(kind, []).append(elapsed)
    for kind, values in sorted(by_kind.items()):
        values.sort()
        print(
            f"  {kind:<16} n={len(values):<6} p50 {1000 * percentile(values, 0.5):7.1f} ms"
            f"  p95 {1000 * percentile(values, 0.95):7.1f} ms  max {1000 * values[-1]:7.1f} ms"
        )
    if errors:
        print(
            "errors by status (0 = transport error): "
            + ", ".join(f"{status}: {count}" for status, count in sorted(errors.items()))
        )
    else:
        print("errors: none")
    return 1 if errors else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "url", nargs="?", default=DEFAULT_URL, help=f"sandbox base URL ({DEFAULT_URL})"
    )
    parser.add_argument("-n", "--requests", type=int, default=2000)
    parser.add_argument("-c", "--concurrency", type=int, default=8)
    parser.add_argument("--writes", action="store_true", help="add expense creates to the mix")
    parser.add_argument("--platform", default="qhyg", help="platform key to link (default qhyg)")
    parser.add_argument("--api-key", default=DEFAULT_KEY)
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout, seconds")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop the load after this")
    parser.add_argument("--serve", action="store_true", help="start and stop a server ourselves")
    parser.add_argument("--server", choices=("gunicorn", "runserver"), default="gunicorn")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (--serve)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker")
    parser.add_argument("--quota", type=int, default=10_000_000, help="CODAT_SANDBOX_DAILY_QUOTA")
    parser.add_argument(
        "--production", action="store_true", help="serve with DJANGO_DEBUG=false (--serve)"
    )
    parser.add_argument(
        "--wrk", type=int, metavar="SECONDS", help="measure each read endpoint with wrk instead"
    )
    args = parser.parse_args(argv)

    if not 1 <= args.requests <= MAX_REQUESTS:
        parser.error(f"--requests must be 1..{MAX_REQUESTS}")
    if not 1 <= args.concurrency <= MAX_CONCURRENCY:
        parser.error(f"--concurrency must be 1..{MAX_CONCURRENCY}")
    args.max_seconds = min(max(args.max_seconds, 1.0), MAX_SECONDS)

    headers = {"Authorization": "Basic " + base64.b64encode(args.api_key.encode()).decode()}
    server = served_sandbox(args) if args.serve else contextlib.nullcontext(args.url)
    with server as api_url:
        api_url = api_url.rstrip("/")
        require_loopback(api_url)
        with httpx.Client(base_url=api_url, headers=headers, timeout=args.timeout) as api:
            try:
                info = set_up_company(api, args.platform)
            except httpx.TransportError as exc:
                sys.exit(f"cannot reach the sandbox at {api_url}: {exc} (start it, or use --serve)")
            except httpx.HTTPStatusError as exc:
                sys.exit(f"setting up the benchmark company failed: {exc}")
        print(f"company {info['company_id']} (linked: {info['linked']})")
        if args.wrk:
            return run_wrk(api_url, headers, info, args)
        outcome = run_load(api_url, headers, info, args)
        return report(outcome, args)


if __name__ == "__main__":
    sys.exit(main())
