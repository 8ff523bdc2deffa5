"""Inputs of the sandbox's HTML pages (Link and the ledger viewer)."""

from django import forms

from .models import (
    FAULT_MAX_ERROR_RATE,
    FAULT_MAX_LATENCY_MS,
    FAULT_MAX_TIMEOUT_SECONDS,
    FaultSettings,
)
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
        # The bounds themselves are the model's validators (so the admin enforces them too); the
        # attributes only let the browser say so before the round trip.
        widgets = {
            "error_rate": forms.NumberInput(attrs={"min": 0, "max": FAULT_MAX_ERROR_RATE}),
            "latency_ms": forms.NumberInput(attrs={"min": 0, "max": FAULT_MAX_LATENCY_MS}),
            "timeout_seconds": forms.NumberInput(
                attrs={"min": 0, "max": FAULT_MAX_TIMEOUT_SECONDS}
            ),
        }

    def error_summary(self) -> str:
        """One line naming each field at fault, for a flash message above the form."""
        return " ".join(
            f"{self[field].label if field in self.fields else 'Settings'}: {' '.join(errors)}"
            for field, errors in self.errors.items()
        )


class ConnectionActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("deauthorize", "Deauthorize"), ("relink", "Re-link")])


class AccountStatusForm(forms.Form):
    """Archive or restore one account, as a bookkeeper does in the ledger itself: pushes that
    use an archived account are then refused the way the real platform refuses them."""

    account_id = forms.CharField(max_length=100)
    account_status = forms.ChoiceField(choices=[("Archived", "Archive"), ("Active", "Restore")])
