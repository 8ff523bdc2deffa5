"""The project's settings plus one URL that exists only while a benchmark serves the project."""

import os
from pathlib import Path

from expenses_portal.settings import *  # noqa: F403 (the real settings, unchanged)

ROOT_URLCONF = "bench_urls"

# The sandbox gateway's quota counter and slot locks: a benchmark's own, when it says where, so
# its load never spends the daily quota of a developer's sandbox (and its count is its own).
if os.environ.get("BENCH_SANDBOX_STATE_DIR"):
    CODAT_SANDBOX_STATE_DIR = Path(os.environ["BENCH_SANDBOX_STATE_DIR"])
