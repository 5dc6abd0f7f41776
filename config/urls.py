from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

# The admin signs in through allauth (rate limits, MFA).
admin.site.login = secure_admin_login(admin.site.login)  # type: ignore[method-assign]  # allauth's way
admin.site.site_header = "Trellis administration"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    # Every page, by audience (dashboard.views): teacher, school, district, home.
    path("", include("dashboard.urls")),
    # Families' pages (portal.views).
    path("family/", include("portal.urls")),
]
