"""Signing in and out, resetting and changing a password: Django's auth views, with the few
things this portal adds (links built from PORTAL_BASE_URL, the lockout page of django-axes)."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render

from integrations.portal.forms.auth import PasswordResetForm


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset form, with the email's link built from PORTAL_BASE_URL.

    Django would otherwise put the request's Host header into the link, and a forged Host would
    send a real user's reset token to someone else's site.
    """

    form_class = PasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    def form_valid(self, form):
        self.extra_email_context = {"base_url": settings.PORTAL_BASE_URL}
        return super().form_valid(form)


def locked_out(request, original_response=None, credentials=None):
    """django-axes' answer to a sign-in while the username+address pair is locked (429).

    Says how long the pause lasts and points at the password reset, which is not throttled.
    """
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=429,
    )
