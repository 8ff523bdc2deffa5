"""The project's settings plus one URL that exists only while a benchmark serves the project."""

from expenses_portal.settings import *  # noqa: F403 (the real settings, unchanged)

ROOT_URLCONF = "bench_urls"
