"""The family portal's URLs, under /family/ (config/urls.py). Each page is about one child the
signed-in guardian may see (accounts.access); any other child is a 404."""

from django.urls import path  # noqa: F401  # the pages' modules add their paths below

app_name = "portal"

urlpatterns: list = []
