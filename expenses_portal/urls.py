from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import views

admin.site.site_header = "Expenses Portal operations"
admin.site.site_title = "Expenses Portal admin"
admin.site.index_title = "Fix things, with an audit trail"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("link/return/", views.link_return, name="link-return"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("webhooks/", include("integrations.webhooks.urls")),
    path("", include("integrations.portal.urls")),
]

if settings.CODAT_SANDBOX_ENABLED:
    # The sandbox is mounted under its own prefix; the portal reaches it over HTTP like real Codat.
    urlpatterns.append(path("codat-sandbox/", include("codat_sandbox.urls")))
