from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import views as accounts_views
from api.endpoints import api as orderer_api
from esure import health, metrics_view

# Staff log in through allauth (and its MFA), never through Django admin's own form.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", accounts_views.home, name="home"),
    # For load balancers: public, cheap, never redirected to https (esure/health.py).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus, for the same addresses as /readyz (esure/metrics_view.py).
    path("metrics", metrics_view.metrics, name="metrics"),
    path("accounts/", include("allauth.urls")),
    path("company/", include("accounts.urls")),
    path("applications/", include("applications.urls")),
    path("certificates/", include("certs.urls")),
    path("dsure/", include("dsure.urls")),
    path("advances/", include("advances.urls")),
    path("reservations/", include("reservations.urls")),
    path("bank/", include("advances.bank_urls")),
    path("claims/", include("claims.urls")),
    path("api/", include("api.urls")),
    path("api/v1/", orderer_api.urls),
    path(settings.ESURE_ADMIN_PATH, admin.site.urls),
]
