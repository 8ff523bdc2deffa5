"""The confirm step every staff action goes through: GET shows what will happen, POST does it."""

from django.contrib import messages
from django.shortcuts import redirect, render

from integrations.codat.errors import CodatError
from integrations.companies.services import ConnectError

from ..forms import ConfirmForm


def confirm_and_run(request, *, action, target, back, extra=None):
    """`action` is (title, what it does in words, function(actor) -> Outcome)."""
    title, words, run = action
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            outcome = run(request.user)
        except ConnectError as exc:  # the service's refusal in words (nothing to unlink)
            messages.error(request, f"{title}: {exc}")
        except CodatError as exc:
            messages.error(request, f"{title}: Codat refused it ({exc}). Nothing was changed.")
        else:
            messages.success(request, outcome.message)
        return redirect(back)
    context = {"title": title, "words": words, "target": target, "back": back, "form": form}
    context.update(extra or {})
    return render(request, "staff/confirm.html", context, status=400 if form.errors else 200)
