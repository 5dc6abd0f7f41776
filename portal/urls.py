"""The family portal's URLs, under /family/ (config/urls.py). Each page is about one child the
signed-in guardian may see (accounts.access); any other child is a 404."""

from django.urls import path  # noqa: F401  # the pages' modules add their paths below

app_name = "portal"

urlpatterns: list = []

# The guardian's children, and each child's pages (portal.views.children, progress, record).
from portal.views import children, progress, record  # noqa: E402

urlpatterns += [
    path("", children.children, name="children"),
    path("children/<int:pk>/", progress.progress, name="child_progress"),
    path("children/<int:pk>/grades/", record.grades, name="child_grades"),
    path("children/<int:pk>/attendance/", record.attendance, name="child_attendance"),
    path("children/<int:pk>/teachers/", record.teachers, name="child_teachers"),
]

# The guardian's own preferences, and an alert email's signed unsubscribe link
# (portal.views.preferences).
from portal.views import preferences  # noqa: E402

urlpatterns += [
    path("preferences/", preferences.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", preferences.unsubscribe, name="unsubscribe"),
]

# Who has seen the child's record (portal.views.seen).
from portal.views import seen  # noqa: E402

urlpatterns += [
    path("children/<int:pk>/seen/", seen.seen, name="child_seen"),
]

# Families' rights (portal.views.rights): the annual notice, and each child's "Your rights" tab
# with its forms and the inspection package's downloads.
from portal.views import rights  # noqa: E402

urlpatterns += [
    path("rights/", rights.notice, name="rights_notice"),
    path("children/<int:pk>/rights/", rights.rights, name="child_rights"),
    path("children/<int:pk>/rights/directory/", rights.directory, name="child_rights_directory"),
    path(
        "children/<int:pk>/rights/consent/<int:request_id>/",
        rights.consent,
        name="child_rights_consent",
    ),
    path(
        "children/<int:pk>/rights/consents/<int:consent_id>/revoke/",
        rights.revoke,
        name="child_rights_revoke",
    ),
    path("children/<int:pk>/rights/inspection/", rights.inspection, name="child_rights_inspection"),
    path(
        "children/<int:pk>/rights/inspection/<int:request_id>/records.<slug:fmt>",
        rights.download,
        name="child_rights_download",
    ),
    path("children/<int:pk>/rights/amendment/", rights.amendment, name="child_rights_amendment"),
    path(
        "children/<int:pk>/rights/amendment/<int:request_id>/statement/",
        rights.statement,
        name="child_rights_statement",
    ),
]
