"""The spend simulator: realistic ready-to-sync card spend with real receipt files."""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import call_command

from expenses_portal.celery import app
from integrations.companies.models import Company, Connection
from integrations.demo import simulator, tasks
from integrations.ledger.models import CategoryMapping, TaxRate
from integrations.transactions.models import Receipt, Transaction
from tests.test_settings import run_manage

pytestmark = pytest.mark.django_db

TODAY = date(2026, 3, 2)
MERCHANT_NAMES = {
    m.name
    for by_category in simulator.MERCHANTS.values()
    for merchants in by_category.values()
    for m in merchants
} | {m.name for merchants in simulator.FOREIGN_MERCHANTS.values() for m in merchants}


@pytest.fixture(autouse=True)
def _sandbox(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CODAT_SANDBOX_ENABLED = True
    settings.CODAT_BASE_URL = settings.CODAT_SANDBOX_URL
    settings.SPEND_SIMULATOR_ENABLED = True


@pytest.fixture
def demo():
    call_command("seed_demo")
    return {c.name: c for c in Company.objects.all()}


def link(company):
    Connection.objects.create(
        company=company,
        codat_connection_id=uuid.uuid4(),
        platform_key="gbol",
        source_type=Connection.SourceType.ACCOUNTING,
        status=Connection.Status.LINKED,
    )


def described(spends):
    """Everything about simulated spend but its id (always fresh) and stored file name."""
    rows = []
    for spend in spends:
        receipt = spend.receipts.get()
        with receipt.file.open("rb") as f:
            content = f.read()
        rows.append(
            (
                spend.company_id,
                spend.card_id,
                spend.category_id,
                spend.expense_type,
                spend.merchant_name,
                spend.reference,
                spend.currency,
                spend.net_amount,
                spend.tax_amount,
                spend.currency_rate,
                receipt.original_filename,
                receipt.content_type,
                content,
            )
        )
    return rows


# --- Sniffing the receipt files, from their bytes alone ------------------------------------------


def sniff(content: bytes) -> str | None:
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def check_png(content: bytes) -> tuple[int, int]:
    """Walk every chunk, checking its CRC, and inflate the image data: (width, height)."""
    position, chunks = 8, {}
    while position < len(content):
        (length,) = struct.unpack(">I", content[position : position + 4])
        kind = content[position + 4 : position + 8]
        data = content[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", content[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + data) & 0xFFFFFFFF, f"bad CRC on {kind!r}"
        chunks.setdefault(kind, b"")
        chunks[kind] += data
        position += 12 + length
    assert position == len(content) and b"IEND" in chunks
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 0)
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (width + 1)
    return width, height


def check_pdf(content: bytes) -> str:
    """The cross-reference table points at each object exactly; returns the page's text."""
    assert content.rstrip().endswith(b"%%EOF")
    startxref = int(re.search(rb"startxref\n(\d+)\n", content).group(1))
    assert content[startxref:].startswith(b"xref\n")
    table = re.findall(rb"(\d{10}) 00000 n \n", content[startxref:])
    assert table
    for number, offset in enumerate(table, start=1):
        assert content[int(offset) :].startswith(b"%d 0 obj" % number)
    (stream,) = re.findall(rb"stream\n(.*?)\nendstream", content, re.S)
    length = int(re.search(rb"/Length (\d+)", content).group(1))
    assert len(stream) == length
    return " ".join(m.decode() for m in re.findall(rb"\((.*?)\) Tj", stream))


# --- The spend ---------------------------------------------------------------------------------


def test_simulated_spend_is_realistic_ready_card_spend(demo):
    spends = simulator.simulate_spend(demo.values(), count=40, seed=7, today=TODAY)

    assert len(spends) == 40 * len(demo)
    assert {s.company.name for s in spends} == set(demo)
    for spend in spends:
        spend.refresh_from_db()
        company = spend.company
        assert spend.status == Transaction.Status.READY
        assert spend.kind == Transaction.Kind.EXPENSE
        assert spend.card.company == company and spend.category.company == company
        assert spend.merchant_name in MERCHANT_NAMES
        assert spend.issue_date == TODAY
        assert spend.net_amount > 0 and spend.net_amount == spend.net_amount.quantize(
            Decimal("0.01")
        )
        if spend.currency == spend.card.currency:
            assert spend.currency_rate is None
            # Unmapped categories: the currency's usual rate (20 % VAT, no US sales tax).
            percent = simulator.DEFAULT_TAX_PERCENT.get(spend.currency, Decimal(0))
            expected = (spend.net_amount * percent / 100).quantize(Decimal("0.01"))
            assert spend.tax_amount == expected
        else:
            # Abroad: a rate (foreign units per base unit) near the market, no tax reclaimed.
            assert spend.tax_amount == 0
            market = (
                simulator.UNITS_PER_USD[spend.currency]
                / simulator.UNITS_PER_USD[spend.card.currency]
            )
            assert abs(spend.currency_rate / market - 1) <= Decimal("0.0101")
    kinds = {s.expense_type for s in spends}
    assert kinds == {Transaction.ExpenseType.PAYMENT, Transaction.ExpenseType.REFUND}
    assert any(s.currency != s.card.currency for s in spends), "some spend abroad"
    acme = [s for s in spends if s.company.name == "Acme Coffee Ltd"]
    assert {s.category.code for s in acme} == {"TRAVEL", "MEALS", "SOFTWARE", "SUPPLIES"}


def test_each_spend_has_one_receipt_whose_bytes_are_what_it_says(demo):
    spends = simulator.simulate_spend(demo.values(), count=15, seed=3, today=TODAY)

    types = set()
    for spend in spends:
        receipt = Receipt.objects.get(transaction=spend)
        with receipt.file.open("rb") as f:
            content = f.read()
        assert receipt.size == len(content) < 10_000
        assert receipt.upload_status == Receipt.UploadStatus.PENDING
        assert sniff(content) == receipt.content_type
        assert receipt.original_filename.endswith(
            {"image/png": ".png", "application/pdf": ".pdf"}[receipt.content_type]
        )
        assert receipt.file.name.startswith(f"receipts/{spend.company_id}/{spend.pk}/")
        if receipt.content_type == "image/png":
            width, height = check_png(content)
            assert width > 0 and height > 0
        else:
            text = check_pdf(content)
            total = spend.net_amount + spend.tax_amount
            assert spend.merchant_name.replace("(", "\\(") in text
            assert f"Total {total:.2f} {spend.currency}" in text
        types.add(receipt.content_type)
    assert types == {"image/png", "application/pdf"}


def test_the_same_seed_makes_the_same_spend_with_fresh_ids(demo):
    first = simulator.simulate_spend(demo.values(), count=5, seed=11, today=TODAY)
    second = simulator.simulate_spend(demo.values(), count=5, seed=11, today=TODAY)
    other = simulator.simulate_spend(demo.values(), count=5, seed=12, today=TODAY)

    assert described(first) == described(second)
    assert described(first) != described(other)
    assert not {s.pk for s in first} & {s.pk for s in second}


def test_tax_follows_the_categorys_mapped_tax_rate(demo):
    acme = demo["Acme Coffee Ltd"]
    travel = acme.expense_categories.get(code="TRAVEL")
    reduced = TaxRate.objects.create(company=acme, codat_id="RR", name="5%", effective_rate=5)
    CategoryMapping.objects.create(category=travel, tax_rate=reduced)

    spends = simulator.simulate_spend([acme], count=40, seed=5, today=TODAY)

    at_home = [s for s in spends if s.category == travel and s.currency == s.card.currency]
    assert at_home
    for spend in at_home:
        assert spend.tax_amount == (spend.net_amount * 5 / 100).quantize(Decimal("0.01"))


def test_scheduled_run_makes_spend_for_linked_demo_companies_only(demo):
    link(demo["Acme Coffee Ltd"])
    Company.objects.create(name="Not A Demo Ltd")

    spends = simulator.run_scheduled()

    assert 1 <= len(spends) <= 3
    assert {s.company.name for s in spends} == {"Acme Coffee Ltd"}


def test_switched_off_the_scheduled_run_creates_nothing(demo, settings):
    link(demo["Acme Coffee Ltd"])
    settings.SPEND_SIMULATOR_ENABLED = False

    tasks.simulate_spend()

    assert not Transaction.objects.filter(notes__startswith="Simulated").exists()
    assert not Receipt.objects.exists()


def test_it_never_invents_spend_for_real_codat(demo, settings):
    link(demo["Acme Coffee Ltd"])
    settings.CODAT_BASE_URL = "https://api.codat.io"

    assert simulator.run_scheduled() == []
    with pytest.raises(simulator.SimulatorRefused):
        simulator.simulate_spend(demo.values(), count=1)
    assert not Receipt.objects.exists()


def test_the_command_makes_spend_for_the_named_company(demo, capsys):
    call_command("simulate_spend", "--company", "Globex Outdoor Inc", "--count", "2", "--seed", "1")

    made = Transaction.objects.filter(notes__startswith="Simulated")
    assert made.count() == 2
    assert {t.company.name for t in made} == {"Globex Outdoor Inc"}
    assert "Created 2 simulated spend(s)." in capsys.readouterr().out


def test_beat_runs_the_simulator_every_minute():
    entry = app.conf.beat_schedule["spend-simulator"]
    assert entry["task"] == tasks.simulate_spend.name
    assert entry["schedule"] == 60.0


def test_switched_off_by_environment_beat_has_no_simulator_entry():
    check = (
        "from django.conf import settings as s; "
        "print(s.SPEND_SIMULATOR_ENABLED, 'spend-simulator' in s.CELERY_BEAT_SCHEDULE)"
    )
    off = run_manage("shell", "-v", "0", "-c", check, env={"SPEND_SIMULATOR_ENABLED": "false"})
    assert off.stdout.split() == ["False", "False"], off.stderr
    production = run_manage("shell", "-v", "0", "-c", check, env={"CODAT_SANDBOX_ENABLED": "false"})
    assert production.stdout.split() == ["False", "False"], production.stderr
