"""Simulated card spend for the demo companies, so `make run` shows spend reaching the ledger.

Each run makes a few card payments per company, from merchants that suit the category, in
the card's currency with the category's tax rate, now and then a foreign-currency spend with
its rate or a refund, each with a small receipt (a real PDF or PNG). The rows are created
ready to sync, so the sync engine picks them up like any other spend.

Development only: nothing here runs unless the portal talks to the embedded sandbox, because
made-up spend sent to a real ledger would be a real bookkeeping error.
"""

from __future__ import annotations

import random
import re
import struct
import uuid
import zlib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from integrations.companies.management.commands.seed_demo import COMPANIES as DEMO_COMPANIES
from integrations.companies.models import Company, Connection
from integrations.ledger.models import Card, ExpenseCategory
from integrations.transactions.models import Receipt, Transaction

CENT = Decimal("0.01")

# Shares of all simulated spend: refunds, foreign-currency spend, and photographed (PNG)
# rather than e-mailed (PDF) receipts.
REFUND_SHARE = 0.08
FOREIGN_SHARE = 0.12
PHOTO_SHARE = 0.3
# How many spends each company gets per run when no count is given.
SPENDS_PER_RUN = (1, 3)


@dataclass(frozen=True, slots=True)
class Merchant:
    name: str
    low: int  # net amount range, in whole units of the spend's currency
    high: int


def _m(name: str, low: int, high: int) -> Merchant:
    return Merchant(name, low, high)


# Merchants by the currency of the card, then by the demo categories' codes. A code that is
# not listed takes the currency's GENERAL list.
MERCHANTS: dict[str, dict[str, list[Merchant]]] = {
    "GBP": {
        "TRAVEL": [
            _m("Great Western Railway", 25, 180),
            _m("Transport for London", 3, 25),
            _m("Addison Lee", 18, 70),
            _m("Premier Inn", 65, 140),
        ],
        "MEALS": [
            _m("Pret A Manger", 5, 25),
            _m("Dishoom", 40, 180),
            _m("Leon", 8, 30),
            _m("Wagamama", 20, 90),
        ],
        "SOFTWARE": [
            _m("Slack", 6, 120),
            _m("Figma", 12, 90),
            _m("Microsoft 365", 10, 150),
            _m("Shopify", 25, 79),
        ],
        "SUPPLIES": [
            _m("Bean Bros Roasters", 90, 420),
            _m("Booths Dairy", 20, 120),
            _m("Nisbets", 30, 300),
            _m("Whittard of Chelsea", 15, 80),
        ],
        "GENERAL": [_m("Amazon UK", 8, 150), _m("Ryman", 5, 60), _m("Screwfix", 10, 120)],
    },
    "USD": {
        "TRAVEL": [
            _m("Delta Air Lines", 180, 650),
            _m("Uber", 9, 60),
            _m("Hertz", 60, 240),
            _m("Marriott", 140, 320),
        ],
        "FUEL": [_m("Shell", 35, 95), _m("Chevron", 30, 90), _m("ExxonMobil", 35, 100)],
        "GEAR": [
            _m("REI", 40, 450),
            _m("Patagonia", 60, 380),
            _m("The Home Depot", 15, 260),
            _m("B&H Photo", 80, 900),
        ],
        "MEALS": [_m("Chipotle", 9, 40), _m("Starbucks", 4, 25), _m("Olive Garden", 30, 160)],
        "GENERAL": [_m("Amazon", 10, 200), _m("Staples", 5, 80), _m("Costco", 20, 250)],
    },
}
OTHER_CURRENCY = [_m("Amazon", 10, 200), _m("Staples", 5, 80)]

# Spend abroad, in the currency of the country (whole units of that currency).
FOREIGN_MERCHANTS: dict[str, list[Merchant]] = {
    "EUR": [_m("Lufthansa", 90, 420), _m("Hotel Adlon Berlin", 150, 390), _m("SNCF", 30, 140)],
    "USD": [_m("Hilton New York", 180, 420), _m("Amtrak", 40, 190), _m("Lyft", 9, 55)],
    "GBP": [_m("British Airways", 120, 600), _m("Hilton London", 140, 320), _m("Uber UK", 9, 45)],
    "CAD": [_m("Air Canada", 150, 700), _m("Fairmont Royal York", 220, 480)],
}
# Rough market rates, units of each currency per US dollar; a simulated rate wobbles ±1 %
# around the cross rate derived from these.
UNITS_PER_USD = {
    "USD": Decimal("1"),
    "GBP": Decimal("0.79"),
    "EUR": Decimal("0.92"),
    "CAD": Decimal("1.37"),
}
# The rate used when a category has no usable tax rate mapped: the usual VAT or sales tax.
DEFAULT_TAX_PERCENT = {"GBP": Decimal(20), "EUR": Decimal(20), "CAD": Decimal(5)}


class SimulatorRefused(Exception):
    """The portal is not talking to the embedded sandbox, so no spend may be invented."""


def talks_to_sandbox() -> bool:
    return settings.CODAT_SANDBOX_ENABLED and settings.CODAT_BASE_URL == settings.CODAT_SANDBOX_URL


def simulator_enabled() -> bool:
    """Whether the every-minute run makes spend (settings.SPEND_SIMULATOR_ENABLED, and only
    ever against the sandbox)."""
    return settings.SPEND_SIMULATOR_ENABLED and talks_to_sandbox()


def demo_companies() -> QuerySet[Company]:
    """The companies seed_demo made whose accounting software is linked: spend for a company
    that cannot sync would only pile up."""
    return Company.objects.filter(
        name__in=[spec["name"] for spec in DEMO_COMPANIES],
        connections__source_type=Connection.SourceType.ACCOUNTING,
        connections__status=Connection.Status.LINKED,
    ).order_by("pk")


def run_scheduled() -> list[Transaction]:
    """Beat's every-minute run: a little spend for each linked demo company, when switched on."""
    if not simulator_enabled():
        return []
    return simulate_spend(demo_companies())


def simulate_spend(
    companies, *, count: int | None = None, seed: int | None = None, today: date | None = None
) -> list[Transaction]:
    """Create `count` card spends (1 to 3 when None) for each company, each with a receipt.

    The same `seed` (and `today`) gives the same spend, receipt bytes included; only the
    transactions' ids are always fresh, since Codat knows a transaction by its id for good.
    A company with no active card or category gets nothing.
    """
    if not talks_to_sandbox():
        raise SimulatorRefused(
            "The spend simulator only runs against the embedded Codat sandbox "
            "(CODAT_SANDBOX_ENABLED with CODAT_BASE_URL equal to CODAT_SANDBOX_URL)."
        )
    rng = random.Random(seed)  # noqa: S311  (made-up spend, not secrets)
    today = today or timezone.localdate()
    created = []
    for company in sorted(companies, key=lambda c: c.pk):
        cards = list(Card.objects.filter(company=company, is_active=True).order_by("pk"))
        categories = list(
            ExpenseCategory.objects.filter(company=company, is_active=True)
            .select_related("mapping__tax_rate")
            .order_by("pk")
        )
        if not cards or not categories:
            continue
        spends = count if count is not None else rng.randint(*SPENDS_PER_RUN)
        for _ in range(spends):
            created.append(_create_spend(company, cards, categories, rng, today))
    return created


def _create_spend(company, cards, categories, rng: random.Random, today: date) -> Transaction:
    card = rng.choice(cards)
    category = rng.choice(categories)
    base = _base_currency(company, card)
    refund = rng.random() < REFUND_SHARE
    foreign = [c for c in sorted(FOREIGN_MERCHANTS) if c not in (base, card.currency)]
    if not refund and foreign and rng.random() < FOREIGN_SHARE:
        currency = rng.choice(foreign)
        merchant = rng.choice(FOREIGN_MERCHANTS[currency])
        # VAT or sales tax paid abroad cannot be reclaimed at home, so none is booked.
        tax_percent = Decimal(0)
    else:
        currency = card.currency
        by_category = MERCHANTS.get(currency, {})
        merchant = rng.choice(
            by_category.get(category.code) or by_category.get("GENERAL") or OTHER_CURRENCY
        )
        tax_percent = _tax_percent(category, currency)
    net = _amount(rng, merchant)
    if refund:
        # Part or all of a purchase comes back.
        net = (net * Decimal(rng.randint(20, 100)) / 100).quantize(CENT, ROUND_HALF_UP)
    tax = (net * tax_percent / 100).quantize(CENT, ROUND_HALF_UP)
    rate = _currency_rate(rng, currency, base) if base not in ("", currency) else None
    reference = f"SIM-{rng.randrange(16**8):08X}"
    photo = rng.random() < PHOTO_SHARE

    with transaction.atomic():
        spend = Transaction.objects.create(
            id=uuid.uuid4(),
            company=company,
            kind=Transaction.Kind.EXPENSE,
            expense_type=(
                Transaction.ExpenseType.REFUND if refund else Transaction.ExpenseType.PAYMENT
            ),
            card=card,
            category=category,
            merchant_name=merchant.name,
            reference=reference,
            issue_date=today,
            currency=currency,
            net_amount=net,
            tax_amount=tax,
            currency_rate=rate,
            notes="Simulated card spend (development).",
            status=Transaction.Status.READY,
        )
        lines = _receipt_lines(spend, card, refund)
        if photo:
            content, suffix, content_type = receipt_png(lines), "png", "image/png"
        else:
            content, suffix, content_type = receipt_pdf(lines), "pdf", "application/pdf"
        filename = f"receipt-{_slug(merchant.name)}-{today.isoformat()}.{suffix}"
        Receipt.objects.create(
            transaction=spend,
            file=ContentFile(content, name=filename),
            original_filename=filename,
            size=len(content),
            content_type=content_type,
        )
    return spend


def _base_currency(company: Company, card: Card) -> str:
    info = getattr(company, "ledger_info", None)
    return (info.base_currency if info is not None else "") or card.currency


def _tax_percent(category: ExpenseCategory, currency: str) -> Decimal:
    """The mapped tax rate when there is a usable one, so the spend matches what the ledger
    books; otherwise the currency's usual rate."""
    mapping = getattr(category, "mapping", None)
    tax_rate = mapping.tax_rate if mapping is not None else None
    if tax_rate is not None and tax_rate.is_usable:
        return Decimal(tax_rate.effective_rate)
    return DEFAULT_TAX_PERCENT.get(currency, Decimal(0))


def _amount(rng: random.Random, merchant: Merchant) -> Decimal:
    # Whole cents from the integer generator, so a seed gives the same amounts everywhere.
    return Decimal(rng.randint(merchant.low * 100, merchant.high * 100)) / 100


def _currency_rate(rng: random.Random, currency: str, base: str) -> Decimal | None:
    """Foreign units per base unit, as Codat defines currencyRate."""
    if currency not in UNITS_PER_USD or base not in UNITS_PER_USD:
        return None
    wobble = Decimal(rng.randint(9900, 10100)) / 10000
    return (UNITS_PER_USD[currency] / UNITS_PER_USD[base] * wobble).quantize(Decimal("0.000001"))


def _receipt_lines(spend: Transaction, card: Card, refund: bool) -> list[str]:
    total = spend.net_amount + spend.tax_amount
    return [
        spend.merchant_name,
        spend.issue_date.isoformat(),
        "REFUND" if refund else "SALE",
        f"Net   {spend.net_amount:.2f} {spend.currency}",
        f"Tax   {spend.tax_amount:.2f} {spend.currency}",
        f"Total {total:.2f} {spend.currency}",
        f"Card ending {card.last_four}",
        f"Ref {spend.reference}",
    ]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "merchant"


# --- Receipt files, built here so no binary fixture or imaging library is needed -------------


def receipt_pdf(lines: list[str]) -> bytes:
    """A one-page PDF (a till roll, 80 mm wide) with `lines` in Courier.

    Built object by object so the cross-reference table holds the real byte offsets, as a
    strict reader (or a ledger's attachment check) expects.
    """
    width, height = 226, 40 + 14 * len(lines)
    text = "\n".join(f"({_pdf_text(line)}) Tj T*" for line in lines)
    stream = f"BT /F1 10 Tf 14 TL 16 {height - 24} Td\n{text}\nET".encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] "
            "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ).encode("ascii"),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref_at,
    )
    return bytes(out)


def _pdf_text(line: str) -> str:
    # Courier in PDF's standard encoding: plain ASCII, with the string delimiters escaped.
    ascii_only = line.encode("ascii", "replace").decode("ascii")
    return ascii_only.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def receipt_png(lines: list[str]) -> bytes:
    """A small greyscale PNG that looks like a photographed till receipt: a grey bar per line
    of text, as long as the line."""
    width, height = 64, 8 + 6 * len(lines)
    rows = []
    for y in range(height):
        row = bytearray(b"\xf4" * width)  # off-white paper
        index, offset = divmod(y - 6, 6)
        if y >= 6 and offset < 3 and index < len(lines):
            for x in range(4, 4 + min(width - 8, len(lines[index]) * 2)):
                row[x] = 0x50
        rows.append(b"\x00" + bytes(row))  # filter type 0 (None) per scanline

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )
