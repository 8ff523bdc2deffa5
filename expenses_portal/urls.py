from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from integrations.portal.views import auth as portal_auth
from integrations.portal.views import home as portal_home
from integrations.portal.views import onboarding as portal_onboarding

from . import views

admin.site.site_header = "Expenses Portal operations"
admin.site.site_title = "Expenses Portal admin"
admin.site.index_title = "Fix things, with an audit trail"

urlpatterns = [
    path("", portal_home.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    # Codat Link sends the person back here (the redirect URL configured at Codat).
    path("link/return/", portal_onboarding.link_return, name="link-return"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Password change (signed in) and reset (by email; the email goes to the console in
    # development). Django's views and names; the reset link is built from PORTAL_BASE_URL.
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/", portal_auth.PasswordResetView.as_view(), name="password_reset"
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            extra_context={"timeout_days": settings.PASSWORD_RESET_TIMEOUT // 86400}
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("webhooks/", include("integrations.webhooks.urls")),
    path("staff/", include("integrations.staff.urls")),
    path("api/v1/", include("integrations.api.urls")),
    path("", include("integrations.portal.urls")),
]

if settings.CODAT_SANDBOX_ENABLED:
    # The sandbox is mounted under its own prefix; the portal reaches it over HTTP like real Codat.
    urlpatterns.append(path("codat-sandbox/", include("codat_sandbox.urls")))
