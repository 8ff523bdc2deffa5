"""Forms of the onboarding pages: connect, Link's return, review's test post, automatic sync and
the connection page's unlink confirmation."""

from django import forms

from integrations.syncs.services.platforms import PLATFORMS
from integrations.transactions.models import Transaction

# Two-letter marks shown beside each platform's name (no logos are shipped with the portal).
LETTERMARKS = {
    "qhyg": "QB",
    "gbol": "X",
    "akxx": "NS",
    "knfz": "SI",
    "pqsw": "QD",
    "trji": "BC",
    "fbrh": "FA",
    "rwuv": "ZB",
}

# The order people look for them in: the two big small-business ledgers first.
PLATFORM_ORDER = ("qhyg", "gbol", "fbrh", "rwuv", "akxx", "knfz", "trji", "pqsw")


def platform_choices():
    return [(key, PLATFORMS[key].name) for key in PLATFORM_ORDER if key in PLATFORMS]


class ConnectForm(forms.Form):
    platform = forms.ChoiceField(
        label="Your accounting software",
        choices=platform_choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose your accounting software.",
            "invalid_choice": "Choose one of the accounting software listed.",
        },
    )


class LinkReturnForm(forms.Form):
    """The query string Codat Link sends the person back with (its reserved placeholders)."""

    companyId = forms.UUIDField()  # Codat's own parameter names
    connectionId = forms.UUIDField()
    statusCode = forms.IntegerField(min_value=100, max_value=599)
    errorMessage = forms.CharField(required=False, max_length=500)
    platform = forms.CharField(required=False, max_length=4)


class TestPostForm(forms.Form):
    """One of the company's ready transactions, to push now as a test."""

    transaction = forms.ModelChoiceField(
        queryset=Transaction.objects.none(),
        label="Transaction to send",
        empty_label=None,
        error_messages={
            "required": "Choose a transaction to send.",
            "invalid_choice": "That transaction is not ready to send any more; choose another.",
        },
    )

    # How many ready transactions the chooser offers (the newest).
    LIMIT = 25

    def __init__(self, *args, company, **kwargs):
        super().__init__(*args, **kwargs)
        ready = Transaction.objects.filter(
            company=company, status=Transaction.Status.READY
        ).order_by("-issue_date", "-created_at")
        field = self.fields["transaction"]
        field.queryset = ready
        field.label_from_instance = _transaction_label
        self.ready = list(ready[: self.LIMIT])
        field.choices = [(t.pk, _transaction_label(t)) for t in self.ready]


def _transaction_label(txn) -> str:
    what = txn.merchant_name or txn.get_kind_display()
    return (
        f"{txn.issue_date:%d %b %Y} · {what} · {txn.net_amount + txn.tax_amount:.2f} {txn.currency}"
    )


class TestResultForm(forms.Form):
    """The ?test=<id> a review page follows after a test post."""

    test = forms.UUIDField()


INTERVAL_CHOICES = [
    (15, "Every 15 minutes"),
    (60, "Every hour"),
    (240, "Every 4 hours"),
    (720, "Twice a day"),
    (1440, "Once a day"),
]


class AutomaticSyncForm(forms.Form):
    enabled = forms.TypedChoiceField(
        label="Automatic sync",
        choices=[("on", "On: send ready spend on a schedule"), ("off", "Off: only when I sync")],
        coerce=lambda value: value == "on",
        widget=forms.RadioSelect,
        error_messages={"required": "Choose on or off."},
    )
    interval = forms.TypedChoiceField(
        label="How often",
        choices=INTERVAL_CHOICES,
        coerce=int,
        error_messages={"invalid_choice": "Choose one of the intervals listed."},
        help_text="Ready spend is checked and sent this often.",
    )

    def __init__(self, *args, company=None, **kwargs):
        if company is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "enabled": "on" if company.auto_sync_enabled else "off",
                "interval": company.auto_sync_interval_minutes,
            }
        super().__init__(*args, **kwargs)
        if company is not None:
            current = company.auto_sync_interval_minutes
            choices = list(INTERVAL_CHOICES)
            if current not in dict(choices):
                # Set elsewhere (the admin); offered so saving the page keeps it.
                from integrations.portal.onboarding import interval_words

                choices.append((current, interval_words(current).capitalize()))
                choices.sort()
            self.fields["interval"].choices = choices


class UnlinkForm(forms.Form):
    confirm = forms.BooleanField(
        label="I understand spend stops going to the ledger until it is connected again.",
        error_messages={"required": "Tick the box to confirm."},
    )
