import importlib.util

from allauth.account import views as allauth_views
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from hiroba.accounts import views as account_views
from hiroba.core import health
from hiroba.core.throttle import posted, throttle

admin.site.site_header = "hiroba システム管理"
admin.site.site_title = "hiroba システム管理"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    path("", include("hiroba.core.urls")),
    path("", include("hiroba.api.urls")),  # /api/v1/, /opendata/, /staff/api/
    path("staff/", include("hiroba.backoffice.staff_urls")),  # the staff shell
    path("accounts/login/", account_views.LoginView.as_view(), name="account_login"),
    path("accounts/2fa/authenticate/", account_views.MFAAuthenticateView.as_view(), name="mfa_authenticate"),
    # allauth's sign-up and password reset, rate-limited per address and per e-mail address
    path("accounts/signup/", throttle("accounts.signup", key=posted("email"))(allauth_views.signup),
         name="account_signup"),
    path("accounts/password/reset/", throttle("accounts.password_reset", key=posted("email"))(
        allauth_views.password_reset), name="account_reset_password"),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler400 = "hiroba.core.views.error_400"
handler403 = "hiroba.core.views.error_403"
handler404 = "hiroba.core.views.error_404"
handler500 = "hiroba.core.views.error_500"

for _name in settings.HIROBA_MODULES:
    if f"hiroba.{_name}" not in settings.INSTALLED_APPS:
        continue
    if importlib.util.find_spec(f"hiroba.{_name}.urls"):
        urlpatterns.append(path(f"{_name}/", include(f"hiroba.{_name}.urls")))
    if importlib.util.find_spec(f"hiroba.{_name}.staff_urls"):
        urlpatterns.append(path(f"staff/{_name}/", include(f"hiroba.{_name}.staff_urls")))

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
