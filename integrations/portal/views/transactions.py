from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from ..access import company_access
from .placeholder import planned

transactions = planned("Transactions")


@login_required
def transaction_detail(request, company_id, transaction_id):
    membership = company_access(request, company_id)
    # The transaction is looked up inside the member's company only.
    get_object_or_404(membership.company.transactions, pk=transaction_id)
    return render(
        request,
        "portal/planned.html",
        {"membership": membership, "company": membership.company, "title": "Transaction"},
    )
