from django.urls import path

from interop import views

app_name = "interop"
urlpatterns = [
    path("imports/", views.import_upload, name="import_upload"),
    path("imports/<int:pk>/", views.import_run, name="import_run"),
    path("imports/<int:pk>/status.json", views.import_run_status, name="import_run_status"),
]
