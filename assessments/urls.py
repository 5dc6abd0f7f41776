from django.urls import path

from assessments import views

app_name = "assessments"
urlpatterns = [
    path("sections/<int:pk>/assessments/", views.section_assessments, name="section_assessments"),
    path(
        "sections/<int:pk>/assessments/<int:assessment_id>/scores/",
        views.score_grid,
        name="score_grid",
    ),
]
