"""The benchmark command, run small, so it cannot rot: it serves the sandbox itself on its own
throwaway database, so it runs as the real `manage.py` in a subprocess, like a developer would."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def test_bench_push_pushes_every_transaction_and_prints_the_figures(tmp_path):
    env = dict(os.environ)
    # Its own SQLite file, whatever database the suite runs on.
    env.pop("BENCH_DATABASE_URL", None)
    env["TMPDIR"] = str(tmp_path)
    run = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "bench_push",
            "--companies",
            "2",
            "--transactions",
            "60",
            "--naive-transactions",
            "4",
            # Once there are webhooks, polling still finishes a sync whose webhook is late.
            "--poll-delay",
            "5",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = run.stdout
    assert run.returncode == 0, out + run.stderr
    batched, naive = out.split("--- batched")[1].split("--- naive")
    assert "transactions: 60 of 60; final states: completed 60" in batched
    # Two companies, 30 each: one sync each, sent once.
    assert "POST create 2" in batched
    requests = int(re.search(r"Codat requests: (\d+)", batched).group(1))
    counted = int(re.search(r"the sandbox counted (\d+)", batched).group(1))
    # The sandbox's own count, read when the run is over; it counts a request as it answers.
    assert 0 < counted <= requests
    assert "syncs: 2, " in batched
    assert "worker peak RSS: " in batched
    assert "transactions: 4 of 4; final states: completed 4" in naive
    assert "POST create 4" in naive
    assert re.search(r"batched / naive throughput: [\d.]+x", out)
    # The throwaway database and the server's files are gone.
    assert not list(tmp_path.glob("bench-push-*"))
