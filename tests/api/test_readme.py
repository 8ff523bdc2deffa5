"""The README's `curl` commands work as written: their bodies are sent here as they stand."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from integrations.companies.models import Company
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def block(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\n```sh\n(.*?)```", README, re.S)
    assert match, marker
    return match.group(1)


def test_the_create_and_status_curls(settings):
    settings.DEBUG = True  # the development key, as `make run` has it
    call_command("seed_demo", verbosity=0)
    acme = Company.objects.get(name="Acme Coffee Ltd")
    create = block("api-create")
    url = re.search(r"(http://127\.0\.0\.1:8000)(/api/v1/\S+)", create)
    path = url.group(2).replace("/companies/1/", f"/companies/{acme.pk}/")
    key = re.search(r"Bearer (\S+?)\"", create).group(1)
    assert key == settings.DEV_PARTNER_API_KEY
    body = json.loads(re.search(r"-d '(.*)'", create, re.S).group(1))

    api = Api(key)
    created = api.post(path.removeprefix("/api/v1"), body)
    assert created.status_code == 201, created.content
    txn = created.json()["transactions"][0]

    status = block("api-status")
    status_path = re.search(r"http://127\.0\.0\.1:8000(/api/v1/\S+)", status).group(1)
    status_path = status_path.replace("/companies/1/", f"/companies/{acme.pk}/")
    status_path = status_path.replace("<id>", txn["id"])
    read = api.get(status_path.removeprefix("/api/v1"))
    assert read.status_code == 200
    assert read.json()["reference"] == "readme-0001"
    assert read.json()["status"] in ("ready", "queued", "needs_attention")


def test_make_run_prints_the_development_key_and_docs():
    script = (ROOT / "scripts" / "devserver.py").read_text()
    assert f'DEV_PARTNER_API_KEY = "{settings.DEV_PARTNER_API_KEY}"' in script
    assert "api/v1/docs" in script
    assert f"PARTNER_API_DEV_KEY={''}" in (ROOT / ".env.example").read_text()
    assert settings.DEV_PARTNER_API_KEY in (ROOT / ".env.example").read_text()
