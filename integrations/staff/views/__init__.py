"""Staff pages, one module per page: overview, triage, clusters, company, legend."""

from .clusters import cluster_action, cluster_detail, clusters
from .company import company_action, company_detail
from .legend import legend
from .overview import liveness, overview
from .triage import triage

__all__ = [
    "cluster_action",
    "cluster_detail",
    "clusters",
    "company_action",
    "company_detail",
    "legend",
    "liveness",
    "overview",
    "triage",
]
