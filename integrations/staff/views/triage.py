from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.syncs.models import CompanyHealth

from ..access import staff_required
from ..forms import TriageFilterForm

PAGE_SIZE = 50


@staff_required
@require_GET
def triage(request):
    """Companies worst first; the list polls its own partial with the same query string."""
    form = TriageFilterForm(request.GET or None)
    rows = form.filter(
        CompanyHealth.objects.select_related("company").order_by("-score", "company_id")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "section": "triage",
        "form": form,
        "page": page,
        "filters": query.urlencode(),
        "query": request.GET.urlencode(),
        # Filters beyond the search box that are set (or wrong): their box starts open.
        "more_filters": sum(
            1 for name in form.fields if name not in ("q",) and request.GET.get(name)
        ),
    }
    template = "staff/triage.html#triage-list" if request.htmx else "staff/triage.html"
    return render(request, template, context)
