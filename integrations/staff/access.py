"""The one guard of every staff page: signed in and `is_staff`, or nothing to see.

Anonymous visitors are sent to sign in; signed-in customers get 404, so the staff area does
not even admit to existing. tests/staff/test_access.py walks every staff route.
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404


def staff_required(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_staff:
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped
