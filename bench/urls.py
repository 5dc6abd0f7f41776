"""The app's URLs plus the bench-only plain pages (bench.settings only; never config/urls.py)."""

from django.urls import path

from bench import views
from config.urls import urlpatterns as app_urlpatterns

urlpatterns = [
    path(
        "bench/plain/sections/<int:pk>/",
        views.plain_section_detail,
        name="bench_plain_section_detail",
    ),
    *app_urlpatterns,
]
