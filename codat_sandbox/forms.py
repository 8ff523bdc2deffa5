"""Inputs of the sandbox's HTML pages (Link and the ledger viewer)."""

from django import forms

from .models import FaultSettings
from .platforms import PLATFORMS


class LinkDecisionForm(forms.Form):
    # "error" stands in for Codat's failure mid-authorisation (statusCode 500, "Unknown error
    # occurred."), which a partner's redirect handler must cope with; a button rather than a
    # random failure keeps demos and tests predictable.
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("cancel", "Cancel"), ("error", "Simulate an error")]
    )


class PlatformChoiceForm(forms.Form):
    platform = forms.ChoiceField(
        choices=sorted(((p.key, p.name) for p in PLATFORMS.values()), key=lambda c: c[1])
    )


class FaultSettingsForm(forms.ModelForm):
    class Meta:
        model = FaultSettings
        fields = [
            "error_rate",
            "latency_ms",
            "timeout_seconds",
            "quota_exhausted",
            "long_running_syncs",
        ]

    def clean_error_rate(self):
        rate = self.cleaned_data["error_rate"]
        if rate > 100:
            raise forms.ValidationError("A percentage cannot exceed 100.")
        return rate


class ConnectionActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("deauthorize", "Deauthorize"), ("relink", "Re-link")])
