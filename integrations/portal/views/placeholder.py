"""A page that is planned and routed but not built yet: it keeps the navigation whole while the
areas are built in parallel. Each area's module replaces its use of this."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from ..access import company_access


def planned(title):
    @login_required
    def view(request, company_id, **ids):
        membership = company_access(request, company_id)
        return render(
            request,
            "portal/planned.html",
            {"membership": membership, "company": membership.company, "title": title},
        )

    return view
