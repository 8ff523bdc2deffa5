"""Every input of the staff pages goes through a form, GET filters included."""

import uuid

from django import forms
from django.db.models import Q

from integrations.companies.models import Company, Connection
from integrations.syncs.codes import STATUS_CODES
from integrations.syncs.models import ErrorCluster
from integrations.syncs.services import health
from integrations.syncs.services.platforms import PLATFORMS

STUCK = "stuck"
NOT_CONNECTED = "none"


def _blank(label):
    return [("", label)]


class TriageFilterForm(forms.Form):
    """The triage list's filters; they live in the query string so a view is a shareable link."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="Company name, Codat company id or sync id",
    )
    platform = forms.ChoiceField(label="Platform", required=False, choices=())
    health = forms.ChoiceField(label="Health", required=False, choices=())
    code = forms.TypedChoiceField(
        label="Status code", required=False, coerce=int, empty_value=None, choices=()
    )
    connection = forms.ChoiceField(label="Connection", required=False, choices=())
    since = forms.DateField(
        label="Last sync from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="Last sync to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = _blank("Any platform") + sorted(
            (p.key, p.name) for p in PLATFORMS.values()
        )
        self.fields["health"].choices = (
            _blank("Any health") + list(Company.Health.choices) + [(STUCK, "Stuck")]
        )
        self.fields["code"].choices = _blank("Any code") + [
            (row.code, f"{row.code} {row.meaning.split(':')[0].rstrip('.')}")
            for row in STATUS_CODES.values()
            if row.code is not None
        ]
        self.fields["connection"].choices = (
            _blank("Any connection") + list(Connection.Status.choices) + [(NOT_CONNECTED, "None")]
        )

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the range is before its start.")
        return data

    def filter(self, rows):
        """Apply the valid filters to a CompanyHealth queryset (no extra query)."""
        if not self.is_valid():
            return rows
        data = self.cleaned_data
        q = data["q"].strip()
        if q:
            try:
                value = uuid.UUID(q)
            except ValueError:
                match = Q(company__name__icontains=q)
                if q.isdigit():
                    match |= Q(company_id=int(q))
            else:
                match = Q(company__codat_company_id=value) | Q(
                    company_id__in=health.company_filter_for_sync(value)
                )
            rows = rows.filter(match)
        if data["platform"]:
            rows = rows.filter(platform_key=data["platform"])
        if data["health"] == STUCK:
            rows = rows.filter(stuck=True)
        elif data["health"]:
            rows = rows.filter(health=data["health"])
        if data["code"] is not None:
            rows = rows.filter(Q(last_status_code=data["code"]) | Q(last_failure_code=data["code"]))
        if data["connection"] == NOT_CONNECTED:
            rows = rows.filter(connection_status="")
        elif data["connection"]:
            rows = rows.filter(connection_status=data["connection"])
        if data["since"]:
            rows = rows.filter(last_sync_at__date__gte=data["since"])
        if data["until"]:
            rows = rows.filter(last_sync_at__date__lte=data["until"])
        return rows


class ClusterFilterForm(forms.Form):
    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=_blank("Open and resolved") + list(ErrorCluster.State.choices),
    )
    code = forms.TypedChoiceField(
        label="Status code", required=False, coerce=int, empty_value=None, choices=()
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = _blank("Any code") + [
            (row.code, str(row.code)) for row in STATUS_CODES.values() if row.code is not None
        ]

    def filter(self, rows):
        if not self.is_valid():
            return rows
        if self.cleaned_data["state"]:
            rows = rows.filter(state=self.cleaned_data["state"])
        if self.cleaned_data["code"] is not None:
            rows = rows.filter(status_code=self.cleaned_data["code"])
        return rows


class ConfirmForm(forms.Form):
    """The confirm step's POST: the button is the confirmation; the checkbox makes it explicit."""

    confirm = forms.BooleanField(
        label="Yes, do this", required=True, error_messages={"required": "Tick to confirm."}
    )
