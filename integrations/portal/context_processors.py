"""What every page's top bar needs: the signed-in user's companies, for the company switcher."""

from django.utils.functional import SimpleLazyObject

from integrations.companies.models import Company

from .access import CURRENT_COMPANY_SESSION_KEY


def companies(request):
    """`my_companies`: the user's companies (one query, run only when a template reads it) and
    `current_company_id`: the one they last worked in (set by the access helper and the switcher).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    session = getattr(request, "session", {})
    return {
        "my_companies": SimpleLazyObject(
            lambda: list(Company.objects.for_user(user).only("pk", "name"))
        ),
        "current_company_id": session.get(CURRENT_COMPANY_SESSION_KEY),
    }
