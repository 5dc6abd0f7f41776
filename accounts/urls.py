from django.urls import path

from accounts import views

urlpatterns = [
    path("", views.home, name="home"),
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
]
