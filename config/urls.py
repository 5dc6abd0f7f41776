from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from accounts.language import set_language

# The admin signs in through allauth (rate limits, MFA).
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # allauth's way
admin.site.site_header = "Trellis administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # Django's set_language (django.conf.urls.i18n), keeping a signed-in user's choice as theirs.
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("accounts.urls")),
    # Every page, by audience (dashboard.views): teacher, school, district, home.
    path("", include("dashboard.urls")),
    # Families' pages (portal.views).
    path("family/", include("portal.urls")),
]
