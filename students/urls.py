from django.urls import path

from students import views

app_name = "students"
urlpatterns = [
    path("sections/<int:pk>/", views.section_detail, name="section_detail"),
    path("students/<int:pk>/", views.student_detail, name="student_detail"),
    path("schools/<int:pk>/", views.school_detail, name="school_detail"),
    path("schools/<int:pk>/substitutes/", views.school_substitutes, name="school_substitutes"),
]
