"""A deployment cannot run on the sandbox or on development secrets by accident.

`manage.py check --deploy` (which production runs before it starts) fails with our own check ids
for each unsafe value; a webhook secret the verifier cannot use fails every `check`.
"""

import base64

import pytest
from django.core import checks

from tests.test_settings import PRODUCTION_ENV, run_manage

PRODUCTION_SECRET = PRODUCTION_ENV["CODAT_WEBHOOK_SECRET"]
OWN_SANDBOX_SECRET = "whsec_" + base64.b64encode(b"a-staging-sandbox-secret-0123456").decode()


def our_errors(deploy=True) -> list[str]:
    return sorted(
        message.id
        for message in checks.run_checks(
            include_deployment_checks=deploy, tags=[checks.Tags.security]
        )
        if message.id and message.id.startswith("expenses_portal.")
    )


@pytest.fixture
def production(settings):
    """Settings as PRODUCTION_ENV makes them; each test spoils one."""
    settings.DEBUG = False
    settings.CODAT_BASE_URL = settings.CODAT_PRODUCTION_URL
    settings.CODAT_API_KEY = PRODUCTION_ENV["CODAT_API_KEY"]
    settings.CODAT_WEBHOOK_SECRETS = [PRODUCTION_SECRET]
    settings.CODAT_SANDBOX_ENABLED = False
    return settings


def test_production_values_pass_our_checks(production):
    assert our_errors() == []


def test_the_sandbox_as_codat_is_refused(production):
    production.CODAT_BASE_URL = production.CODAT_SANDBOX_URL
    assert our_errors() == ["expenses_portal.E001"]


def test_an_empty_api_key_is_refused(production):
    production.CODAT_API_KEY = ""
    assert our_errors() == ["expenses_portal.E002"]


def test_the_development_api_key_is_refused(production):
    production.CODAT_API_KEY = production.DEV_CODAT_API_KEY
    assert our_errors() == ["expenses_portal.E003"]


def test_no_webhook_secret_is_refused(production):
    production.CODAT_WEBHOOK_SECRETS = []
    assert our_errors() == ["expenses_portal.E004"]


@pytest.mark.parametrize("position", ["current", "previous"])
def test_the_development_webhook_secret_is_refused(production, position):
    dev = production.DEV_WEBHOOK_SECRET
    production.CODAT_WEBHOOK_SECRETS = [dev] if position == "current" else [PRODUCTION_SECRET, dev]
    assert our_errors() == ["expenses_portal.E005"]


def test_a_deployed_sandbox_must_not_keep_the_development_key_or_secret(production):
    production.CODAT_SANDBOX_ENABLED = True
    production.CODAT_SANDBOX_API_KEYS = ["a-staging-key", production.DEV_CODAT_API_KEY]
    production.CODAT_SANDBOX_WEBHOOK_SECRET = production.DEV_WEBHOOK_SECRET
    assert our_errors() == ["expenses_portal.E006", "expenses_portal.E007"]

    production.CODAT_SANDBOX_API_KEYS = ["a-staging-key"]
    production.CODAT_SANDBOX_WEBHOOK_SECRET = OWN_SANDBOX_SECRET
    assert our_errors() == []


def test_a_webhook_secret_too_short_to_use_fails_every_check(production):
    production.CODAT_WEBHOOK_SECRETS = [PRODUCTION_SECRET, "whsec_YQ"]
    assert our_errors(deploy=False) == ["expenses_portal.E008"]


# --- The same through manage.py, as a deployment runs it ---------------------------------------


def test_debug_off_with_nothing_else_set_fails_the_deploy_check():
    env = {"DJANGO_DEBUG": "false", "DJANGO_SECRET_KEY": PRODUCTION_ENV["DJANGO_SECRET_KEY"]}
    result = run_manage("check", "--deploy", env=env)
    assert result.returncode != 0
    for check_id in ("E001", "E002", "E004"):
        assert f"expenses_portal.{check_id}" in result.stderr, result.stderr


def test_a_sandbox_switched_on_in_production_with_development_secrets_fails_the_deploy_check():
    result = run_manage(
        "check", "--deploy", env={**PRODUCTION_ENV, "CODAT_SANDBOX_ENABLED": "true"}
    )
    assert result.returncode != 0
    assert "expenses_portal.E006" in result.stderr and "expenses_portal.E007" in result.stderr


def test_a_sandbox_with_its_own_secrets_passes_the_deploy_check():
    env = {
        **PRODUCTION_ENV,
        "CODAT_SANDBOX_ENABLED": "true",
        "CODAT_SANDBOX_API_KEYS": "a-staging-key",
        "CODAT_SANDBOX_WEBHOOK_SECRET": OWN_SANDBOX_SECRET,
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_development_defaults_pass_the_ordinary_check():
    # What `make run` does before serving (migrate runs the same checks).
    result = run_manage("check", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_trivially_short_webhook_secret_fails_the_ordinary_check():
    result = run_manage("check", env={"CODAT_WEBHOOK_SECRET": "whsec_YQ"})
    assert result.returncode != 0
    assert "expenses_portal.E008" in result.stderr
    assert "too short" in result.stderr
