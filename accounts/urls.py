from django.urls import path

from accounts import views

urlpatterns = [
    path("invitations/<str:token>/", views.invitation_accept_view, name="invitation_accept"),
    # A letter's invitation code, typed by a family without email (public: the code is the key).
    path("join/", views.invitation_redeem_view, name="invitation_redeem"),
    # Two-factor enrolment: the page staff without the link are sent to, and the emailed link.
    path("two-factor/", views.mfa_enrolment_needed_view, name="mfa_enrolment_needed"),
    path(
        "two-factor/enrol/<str:token>/",
        views.mfa_enrolment_accept_view,
        name="mfa_enrolment_accept",
    ),
]
