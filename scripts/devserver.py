"""Run the web server, a Celery worker and Celery beat together for `make run`.

Each child's output is prefixed with its name so all three are visibly running in one terminal.
Ctrl-C (or any child exiting) stops all of them: a half-running stack, say a web server whose
worker died, would look healthy while nothing syncs.
"""

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

HOST_PORT = os.environ.get("PORTAL_ADDR", "127.0.0.1:8000")
PY = sys.executable
# The same as expenses_portal/settings.py's (tests/api/test_readme.py holds them together).
DEV_PARTNER_API_KEY = "epk_dev_expenses-portal-development-key"
PROCESSES = {
    "web": [PY, "manage.py", "runserver", HOST_PORT, "--noreload"],
    "worker": [
        PY,
        "-m",
        "celery",
        "-A",
        "expenses_portal",
        "worker",
        "--loglevel=INFO",
        "--pool=threads",
        "--concurrency=4",
        "--hostname=worker@%h",
    ],
    "beat": [PY, "-m", "celery", "-A", "expenses_portal", "beat", "--loglevel=INFO"],
}
COLOURS = {"web": "\033[36m", "worker": "\033[35m", "beat": "\033[33m", "demo": "\033[32m"}
RESET = "\033[0m"


def pump(name, stream):
    colour = COLOURS[name] if sys.stdout.isatty() else ""
    reset = RESET if colour else ""
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{colour}{name:>6} |{reset} {line}")
        sys.stdout.flush()


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (our own server)
            return True
    except OSError:  # refused while starting up (URLError is an OSError)
        return False


def connect_demo_when_up(stopping):
    """Connect the demo companies to the sandbox once the web server answers.

    Done here rather than in the Makefile or as a Celery task: the sandbox is served by this
    very web server, so nothing can reach it before it is up, and a one-off command after the
    first healthy /healthz/ shows its outcome in this terminal and does not depend on the
    worker. `connect_demo` skips itself when the sandbox is off and changes nothing on re-runs.
    A failure is printed and leaves the rest of the stack running: the portal is still usable.
    """
    health = f"http://{HOST_PORT}/healthz/"
    deadline = time.monotonic() + 60
    while not answers(health):
        if time.monotonic() > deadline:
            print("web did not answer /healthz/ within 60 s; demo companies not connected.")
            return
        if stopping.wait(0.5):
            return
    # In this terminal's process group, so Ctrl-C ends it along with everything else.
    proc = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
        [PY, "manage.py", "connect_demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    pump("demo", proc.stdout)
    proc.wait()


def main():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    children = {}
    for name, cmd in PROCESSES.items():
        # A process group per child so Ctrl-C in this terminal reaches us only, and we decide
        # the shutdown order; celery's own children go down with their group.
        children[name] = subprocess.Popen(  # noqa: S603  (fixed argv, no shell)
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        threading.Thread(target=pump, args=(name, children[name].stdout), daemon=True).start()

    url = f"http://{HOST_PORT}/"
    print(f"\nExpenses Portal: {url}  (web, worker and beat are starting; Ctrl-C stops all)")
    print(
        "Demo logins (password for all: expenses-demo): alice (owner, Acme Coffee Ltd and "
        "Hooli Bakery Inc, not yet connected), bob (viewer, Acme), carol (owner, Globex Outdoor "
        "Inc), erin (member, Globex), dave (accountant of all three), staff (staff + admin)"
    )
    print(f"Codat sandbox: {url}codat-sandbox/ledger/")
    # The development key works only with DJANGO_DEBUG on (expenses_portal/settings.py).
    dev_key = os.environ.get("PARTNER_API_DEV_KEY") or DEV_PARTNER_API_KEY
    print(f"Partner API: {url}api/v1/docs  (development key: {dev_key})\n", flush=True)

    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    threading.Thread(target=connect_demo_when_up, args=(stopping,), daemon=True).start()
    exit_code = 0
    while not stopping.is_set():
        for name, proc in children.items():
            if proc.poll() is not None:
                print(f"{name} exited with code {proc.returncode}; stopping the rest.", flush=True)
                exit_code = proc.returncode or 1
                stopping.set()
                break
        stopping.wait(0.5)

    for proc in children.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for proc in children.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    print("Stopped web, worker and beat.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
