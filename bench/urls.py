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
    path("bench/plain/schools/<int:pk>/", views.plain_school, name="bench_plain_school"),
    path(
        "bench/plain/schools/<int:pk>/rollups/",
        views.plain_school_rollups,
        name="bench_plain_school_rollups",
    ),
    path("bench/plain/districts/<int:pk>/", views.plain_district, name="bench_plain_district"),
    path(
        "bench/plain/districts/<int:pk>/rollups/",
        views.plain_district_rollups,
        name="bench_plain_district_rollups",
    ),
    path(
        "bench/plain/family/children/<int:pk>/",
        views.plain_child,
        name="bench_plain_family_child",
    ),
    path("bench/plain/plans/<int:pk>/", views.plain_plan, name="bench_plain_plan"),
    *app_urlpatterns,
]
