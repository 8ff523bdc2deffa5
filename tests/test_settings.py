"""Settings are read strictly from the environment, and CI really runs on PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "q8Zr2-not-a-real-secret-but-long-and-random-enough-XyW3kP0sLmN7vB5tR9uE",
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "CODAT_BASE_URL": "https://api.codat.io",
    "CODAT_API_KEY": "a-real-looking-production-key",
    "CODAT_WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}

# Variables a developer or CI may have set that would change what a subprocess under test sees.
_SCRUB = {
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "CODAT_BASE_URL",
    "CODAT_API_KEY",
    "CODAT_SANDBOX_URL",
    "CODAT_WEBHOOK_SECRET",
    "CODAT_WEBHOOK_PREVIOUS_SECRETS",
    "CODAT_SANDBOX_ENABLED",
    "CODAT_SANDBOX_API_KEYS",
    "CODAT_SANDBOX_WEBHOOK_SECRET",
    "LOG_LEVEL",
}


def run_manage(*args, env=None):
    base = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_it_runs_on_the_database_ci_asks_for():
    expected = os.environ.get("EXPECT_DATABASE_VENDOR")
    if os.environ.get("CI") == "true":
        # .ci/run exports this; if it ever stops doing so, CI must fail rather than quietly
        # fall back to SQLite.
        assert expected == "postgresql"
    if expected:
        assert connection.vendor == expected
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    else:
        assert connection.vendor in {"sqlite", "postgresql"}


def test_redis_is_the_cache_and_broker_when_configured():
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("REDIS_URL not set (embedded defaults in use)")
    from django.core.cache import cache

    assert settings.CACHES["default"]["BACKEND"].endswith("RedisCache")
    cache.set("settings-test", "round-trip", 5)
    assert cache.get("settings-test") == "round-trip"
    assert settings.CELERY_BROKER_URL.startswith("redis://")


def test_embedded_defaults_need_no_server():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.CODAT_BASE_URL)",
        env={"DATABASE_URL": "", "REDIS_URL": "", "CELERY_BROKER_URL": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "django.db.backends.sqlite3",
        "filesystem://",
        "http://127.0.0.1:8000/codat-sandbox",
    ]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ({"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY must be set"),
        ({"DATABASE_URL": "nosuchdb://x/y"}, "DATABASE_URL is not a usable database URL"),
        ({"CELERY_BROKER_URL": "ftp://broker"}, "CELERY_BROKER_URL must be a URL"),
        ({"CODAT_BASE_URL": "https://api.codat.io.evil.example"}, "CODAT_BASE_URL must be"),
        ({"CODAT_BASE_URL": "https://api.codat.io"}, "CODAT_API_KEY must be set to a real key"),
        (
            {"CODAT_WEBHOOK_SECRET": "plain-secret"},
            "CODAT_WEBHOOK_SECRET and CODAT_WEBHOOK_PREVIOUS_SECRETS must be",
        ),
        ({"CODAT_TIMEOUT_SECONDS": "thirty"}, "CODAT_TIMEOUT_SECONDS='thirty' is not an integer"),
        ({"CODAT_TIMEOUT_SECONDS": "0"}, "CODAT_TIMEOUT_SECONDS=0 is below the minimum"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL='LOUD' is not a logging level"),
        ({"CODAT_SANDBOX_WEBHOOK_RETRY_SCHEDULE": "0,5s"}, "must be comma-separated whole"),
        ({"CODAT_SANDBOX_BACKGROUND": "sometimes"}, "CODAT_SANDBOX_BACKGROUND='sometimes'"),
        ({"CODAT_QUOTA_RESERVE": "5 percent"}, "CODAT_QUOTA_RESERVE='5 percent' must be a count"),
        ({"CODAT_QUOTA_RESERVE": "150%"}, "CODAT_QUOTA_RESERVE='150%' must be a count"),
        ({"CODAT_CONCURRENCY_PER_COMPANY": "0"}, "CODAT_CONCURRENCY_PER_COMPANY=0 is below"),
    ],
)
def test_it_refuses_to_start_with_a_malformed_value(env, message):
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_deploy_check_is_clean_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_values_switch_the_sandbox_off():
    result = run_manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings as s; print(s.CODAT_SANDBOX_ENABLED)",
        env=PRODUCTION_ENV,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_models_and_migrations_agree():
    result = run_manage("makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr
