"""Forms of the mapping pages: accounts and contacts, categories, and new ledger records.

The choosers are built from what the page already loaded (the company's usable ledger records),
so a form never offers or accepts another company's record, and never one the ledger archived.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxLengthValidator

from integrations.ledger.models import ExpenseCategory

NO_CHOICE = ("", "— not mapped —")


def account_label(account) -> str:
    return f"{account.nominal_code} · {account.name}" if account.nominal_code else account.name


class _RecordChoice(forms.ChoiceField):
    """A choice among loaded records by primary key; cleans to the record (or None)."""

    def __init__(self, records, *, label_of=str, empty=NO_CHOICE[1], **kwargs):
        self.records = {str(r.pk): r for r in records}
        choices = [("", empty), *((pk, label_of(r)) for pk, r in self.records.items())]
        super().__init__(choices=choices, required=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return self.records.get(value) if value else None


class CategoryRowForm(forms.Form):
    """One category's row: account, tax rate and tracking."""

    def __init__(self, *args, accounts, tax_rates, tracking, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound and hasattr(self.data, "getlist"):
            # One chooser per tracking category, each sending "" when left on "—".
            self.data = self.data.copy()
            self.data.setlist("tracking", [v for v in self.data.getlist("tracking") if v])
        self.fields["account"] = _RecordChoice(
            accounts,
            label_of=account_label,
            error_messages={
                "invalid_choice": "Choose an account from the list: that one cannot take card "
                "spend, or is no longer in the ledger."
            },
        )
        self.fields["tax_rate"] = _RecordChoice(
            tax_rates,
            empty="— no tax rate —",
            error_messages={"invalid_choice": "Choose a tax rate from the list."},
        )
        self.tracking_records = {str(t.pk): t for t in tracking}
        self.fields["tracking"] = forms.MultipleChoiceField(
            choices=[(pk, str(t)) for pk, t in self.tracking_records.items()],
            required=False,
            error_messages={"invalid_choice": "Choose tracking from the list."},
        )

    def clean_tracking(self):
        chosen = [self.tracking_records[pk] for pk in self.cleaned_data["tracking"]]
        parents = [t.parent_id for t in chosen if t.parent_id]
        if len(parents) != len(set(parents)):
            raise forms.ValidationError("Choose at most one value under each tracking category.")
        return chosen


class CategoryFilterForm(forms.Form):
    STATES = [
        ("", "All"),
        ("unmapped", "Unmapped"),
        ("attention", "Needs attention"),
        ("mapped", "Mapped"),
    ]
    q = forms.CharField(required=False, max_length=100, label="Search")
    state = forms.ChoiceField(choices=STATES, required=False, label="Show")
    page = forms.IntegerField(required=False, min_value=1)


class BulkApplyForm(forms.Form):
    """Several categories at once: set the account, the tax rate, or both."""

    categories = forms.ModelMultipleChoiceField(
        queryset=ExpenseCategory.objects.none(),
        error_messages={"required": "Tick the categories to change first."},
    )

    def __init__(self, *args, company, accounts, tax_rates, **kwargs):
        kwargs.setdefault("auto_id", "bulk-%s")
        super().__init__(*args, **kwargs)
        self.fields["categories"].queryset = ExpenseCategory.objects.filter(company=company)
        self.fields["account"] = _RecordChoice(
            accounts, label_of=account_label, empty="— keep each one's account —"
        )
        self.fields["tax_rate"] = _RecordChoice(tax_rates, empty="— keep each one's tax rate —")

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("account") and not cleaned.get("tax_rate"):
            raise forms.ValidationError("Choose an account or a tax rate to apply.")
        return cleaned


class DefaultsForm(forms.Form):
    """The company's default bank account, supplier and customer (Codat needs all three)."""

    def __init__(self, *args, bank_accounts, suppliers, customers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank_account"] = _RecordChoice(
            bank_accounts, label="Default bank or card account", empty="— choose —"
        )
        self.fields["supplier"] = _RecordChoice(
            suppliers, label="Default supplier", empty="— choose —"
        )
        self.fields["customer"] = _RecordChoice(
            customers, label="Default customer", empty="— choose —"
        )
        for name in ("bank_account", "supplier", "customer"):
            self.fields[name].error_messages["invalid_choice"] = (
                "Choose one from the list: that one is archived or no longer in the ledger."
            )


class CardsForm(forms.Form):
    """Each card's bank or card account; left empty, the card uses the default."""

    def __init__(self, *args, cards, bank_accounts, **kwargs):
        super().__init__(*args, **kwargs)
        self.cards = list(cards)
        for card in self.cards:
            self.fields[f"card_{card.pk}"] = _RecordChoice(
                bank_accounts, label=str(card), empty="— use the default —"
            )
            self.fields[f"card_{card.pk}"].error_messages["invalid_choice"] = (
                "Choose one from the list: that one is archived or no longer in the ledger."
            )

    def wanted(self) -> dict:
        return {card: self.cleaned_data[f"card_{card.pk}"] for card in self.cards}

    def rows(self):
        for card in self.cards:
            yield card, self[f"card_{card.pk}"]


class LedgerRecordForm(forms.Form):
    """A new supplier, customer, account or bank account, built from the platform's model
    (`integrations.ledger.writes.FieldSpec`): its fields, required flags, length limits and
    allowed values, so what the platform would refuse is refused here first."""

    def __init__(self, *args, specs, **kwargs):
        super().__init__(*args, **kwargs)
        self.specs = {spec.name: spec for spec in specs}
        for spec in specs:
            self.fields[spec.name] = self._field(spec)
            # The platform's own words about the field (limits, uniqueness), shown under it.
            self.fields[spec.name].notes = list(spec.notes)

    @staticmethod
    def _field(spec):
        common = {"label": spec.label, "required": spec.required, "help_text": spec.help}
        if spec.choices:
            blank = [] if spec.required else [("", "—")]
            initial = "Active" if "Active" in spec.choices else None
            return forms.ChoiceField(
                choices=blank + [(c, c) for c in spec.choices], initial=initial, **common
            )
        if spec.type == "Number":
            return forms.DecimalField(max_digits=18, decimal_places=4, **common)
        if spec.type == "Boolean":
            return forms.BooleanField(**{**common, "required": False})
        field = forms.CharField(max_length=spec.max_length, strip=True, **common)
        if spec.max_length:
            # Say the limit in the platform's terms, not Django's.
            field.validators = [
                v for v in field.validators if not isinstance(v, MaxLengthValidator)
            ] + [
                MaxLengthValidator(
                    spec.max_length,
                    message=f"At most {spec.max_length} characters in this accounting software.",
                )
            ]
        if spec.name.lower().endswith("currency"):
            field.widget.attrs.update({"maxlength": 3, "autocapitalize": "characters"})
        return field

    def record(self) -> dict:
        """The cleaned values in Codat's shape (numbers as strings, keeping them exact)."""
        out = {}
        for name, value in self.cleaned_data.items():
            if isinstance(value, Decimal):
                value = str(value)
            if isinstance(value, str) and name.lower().endswith("currency"):
                value = value.upper()
            out[name] = value
        return out

    def add_codat_errors(self, by_field: dict, general: list) -> None:
        for name, messages in by_field.items():
            for message in messages:
                self.add_error(name, message)
        for message in general:
            self.add_error(None, message)
