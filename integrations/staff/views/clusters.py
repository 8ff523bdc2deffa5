from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from integrations.syncs.codes import describe
from integrations.syncs.models import ErrorCluster
from integrations.syncs.services import fixes

from ..access import staff_required
from ..forms import ClusterFilterForm
from .actions import confirm_and_run

PAGE_SIZE = 50
MEMBERS_SHOWN = 100


@staff_required
@require_GET
def clusters(request):
    form = ClusterFilterForm(request.GET or None)
    rows = form.filter(ErrorCluster.objects.order_by("state", "-last_seen_at", "-pk"))
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "staff/clusters.html",
        {"section": "clusters", "form": form, "page": page, "filters": query.urlencode()},
    )


@staff_required
@require_GET
def cluster_detail(request, cluster_id):
    cluster = get_object_or_404(ErrorCluster, pk=cluster_id)
    members = list(
        cluster.members.select_related("company", "transaction", "sync").order_by(
            "resolved_at", "-last_seen_at", "-pk"
        )[:MEMBERS_SHOWN]
    )
    return render(
        request,
        "staff/cluster.html",
        {
            "section": "clusters",
            "cluster": cluster,
            "code": describe(cluster.status_code),
            "members": members,
            "shown": MEMBERS_SHOWN,
        },
    )


CLUSTER_ACTIONS = {
    "retry": (
        "Retry all",
        "Every failed transaction still open in this cluster goes back through pre-flight and "
        "is sent again. Do this after fixing the cause.",
        fixes.retry_cluster,
    ),
    "refresh-ledger": (
        "Refresh ledger data for all affected",
        "Each affected company's ledger (accounts, tax rates, contacts) is read again from "
        "Codat, so pre-flight checks against what the ledger holds today.",
        fixes.refresh_cluster_ledgers,
    ),
}


@staff_required
@require_http_methods(["GET", "POST"])
def cluster_action(request, cluster_id, action):
    cluster = get_object_or_404(ErrorCluster, pk=cluster_id)
    if action not in CLUSTER_ACTIONS:
        raise Http404("No such action.")
    title, words, func = CLUSTER_ACTIONS[action]
    return confirm_and_run(
        request,
        action=(title, words, lambda actor: func(cluster, actor=actor)),
        target=f"Cluster {cluster.status_code or 'refused'}: {cluster.pattern}",
        back=reverse("staff:cluster", args=[cluster.pk]),
        extra={"section": "clusters", "affected": cluster.transactions_count},
    )
