from django.shortcuts import render
from django.views.decorators.http import require_GET

from integrations.syncs.codes import STATUS_CODES

from ..access import staff_required


@staff_required
@require_GET
def legend(request):
    return render(
        request, "staff/legend.html", {"codes": STATUS_CODES.values(), "section": "legend"}
    )
