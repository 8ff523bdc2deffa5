from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from integrations.syncs import limits
from integrations.syncs.models import CompanyHealth, ErrorCluster
from integrations.syncs.services import health

from .. import liveness as live
from ..access import staff_required

CHART_DAYS = 14
# The SVG's own coordinate space; CSS scales it to the card's width.
CHART_WIDTH, CHART_HEIGHT, CHART_LABELS = 700, 160, 24
SERIES = (("success", "Written"), ("empty", "Nothing to write"), ("failed", "Failed"))


def chart(days: list[dict]) -> dict:
    """Stacked bars (failed on top) for the SVG, computed here so the template only draws."""
    peak = max((sum(d[key] for key, _ in SERIES) for d in days), default=0) or 1
    slot = CHART_WIDTH / len(days)
    width = slot * 0.7
    bars = []
    for index, day in enumerate(days):
        x = index * slot + (slot - width) / 2
        y = CHART_HEIGHT
        parts = []
        for key, label in SERIES:
            height = CHART_HEIGHT * day[key] / peak
            y -= height
            if day[key]:
                parts.append(
                    {
                        "key": key,
                        "label": label,
                        "count": day[key],
                        "y": round(y, 1),
                        "height": round(height, 1),
                    }
                )
        total = sum(day[key] for key, _ in SERIES)
        bars.append(
            {
                "x": round(x, 1),
                "width": round(width, 1),
                "centre": round(x + width / 2, 1),
                "day": day["day"],
                "parts": parts,
                "total": total,
                "show_label": index % 2 == (len(days) - 1) % 2,
            }
        )
    return {
        "bars": bars,
        "peak": peak,
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "full_height": CHART_HEIGHT + CHART_LABELS,
        "label_y": CHART_HEIGHT + 16,
        "series": SERIES,
    }


def _quota():
    state = limits.quota_state()
    if state is None:
        return None
    used = state.limit - state.remaining if state.limit is not None else None
    share = used / state.limit if state.limit else None
    return {"state": state, "used": used, "share": share}


@staff_required
@require_GET
def overview(request):
    now = timezone.now()
    days = health.syncs_per_day(CHART_DAYS, now=now)
    context = {
        "section": "overview",
        "now": now,
        "totals": health.totals(),
        "rates": health.success_rates(now),
        "chart": chart(days),
        "quota": _quota(),
        "worst": list(
            CompanyHealth.objects.select_related("company")
            .filter(score__gt=0)
            .order_by("-score", "company_id")[:5]
        ),
        "open_clusters": list(
            ErrorCluster.objects.filter(state=ErrorCluster.State.OPEN).order_by(
                "-transactions_count", "-last_seen_at"
            )[:5]
        ),
    }
    return render(request, "staff/overview.html", context)


@staff_required
@require_GET
def liveness(request):
    """The worker and beat box, loaded after the page so a slow ping never delays it."""
    return render(request, "staff/overview.html#liveness", {"live": live.check()})
