from django.urls import path

from dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("sections/<int:pk>/mastery.csv", views.section_csv, name="section_csv"),
    path(
        "sections/<int:pk>/distribution.csv",
        views.section_distribution_csv,
        name="section_distribution_csv",
    ),
    path("sections/<int:pk>/changes.json", views.section_changes, name="section_changes"),
    path(
        "sections/<int:pk>/standards/<int:standard_id>/",
        views.standard_detail,
        name="standard_detail",
    ),
    path(
        "sections/<int:pk>/standards/<int:standard_id>/students.csv",
        views.standard_csv,
        name="standard_csv",
    ),
    path(
        "sections/<int:pk>/students/<int:student_id>/standards/<int:standard_id>/",
        views.student_standard,
        name="student_standard",
    ),
    path(
        "sections/<int:pk>/students/<int:student_id>/standards/<int:standard_id>/history.csv",
        views.student_standard_csv,
        name="student_standard_csv",
    ),
    path(
        "students/<int:pk>/tabs/<slug:tab>/", views.student_profile_tab, name="student_profile_tab"
    ),
    path("students/<int:pk>/mastery.csv", views.student_mastery_csv, name="student_mastery_csv"),
]
