"""Every page's URL. The namespaces are the pages' public names (`students:section_detail`,
`dashboard:student_standard`, ...), kept stable for bookmarks, templates and district scripts,
whichever module serves them."""

from django.urls import include, path

from dashboard.views import district, home, invitations, privacy, school, search
from dashboard.views.teacher import scores, section, standard, student

records = (
    [
        path("sections/<int:pk>/", section.section_overview, name="section_detail"),
        path("students/<int:pk>/", student.student_profile, name="student_detail"),
        path("schools/<int:pk>/", school.school_detail, name="school_detail"),
        path(
            "schools/<int:pk>/substitutes/",
            school.school_substitutes,
            name="school_substitutes",
        ),
        # Families and the portal: invitations by email or printed letter (issue 20).
        path(
            "schools/<int:pk>/invitations/",
            invitations.school_invitations,
            name="school_invitations",
        ),
    ],
    "students",
)
score_entry = (
    [
        path(
            "sections/<int:pk>/assessments/",
            scores.section_assessments,
            name="section_assessments",
        ),
        path(
            "sections/<int:pk>/assessments/<int:assessment_id>/scores/",
            scores.score_grid,
            name="score_grid",
        ),
    ],
    "assessments",
)
imports = (
    [
        path("imports/", district.import_upload, name="import_upload"),
        path("imports/<int:pk>/", district.import_run, name="import_run"),
        path("imports/<int:pk>/status.json", district.import_run_status, name="import_run_status"),
    ],
    "interop",
)
dashboard = (
    [
        path("search/", search.student_search, name="search"),
        path("districts/<int:pk>/schools/", school.district_schools, name="district_schools"),
        path(
            "schools/<int:pk>/counted/",
            school.school_counted_students,
            name="school_counted_students",
        ),
        path("sections/<int:pk>/mastery.csv", section.section_csv, name="section_csv"),
        path(
            "sections/<int:pk>/distribution.csv",
            section.section_distribution_csv,
            name="section_distribution_csv",
        ),
        path("sections/<int:pk>/changes.json", section.section_changes, name="section_changes"),
        path(
            "sections/<int:pk>/release-levels/",
            section.section_release_levels,
            name="section_release_levels",
        ),
        path(
            "sections/<int:pk>/standards/<int:standard_id>/",
            standard.standard_detail,
            name="standard_detail",
        ),
        path(
            "sections/<int:pk>/standards/<int:standard_id>/students.csv",
            standard.standard_csv,
            name="standard_csv",
        ),
        path(
            "sections/<int:pk>/students/<int:student_id>/standards/<int:standard_id>/",
            standard.student_standard,
            name="student_standard",
        ),
        path(
            "sections/<int:pk>/students/<int:student_id>/standards/<int:standard_id>/history.csv",
            standard.student_standard_csv,
            name="student_standard_csv",
        ),
        path(
            "students/<int:pk>/tabs/<slug:tab>/",
            student.student_profile_tab,
            name="student_profile_tab",
        ),
        path(
            "students/<int:pk>/mastery.csv", student.student_mastery_csv, name="student_mastery_csv"
        ),
        # The district privacy office: families' rights under FERPA (issue 21).
        path("privacy/", privacy.privacy_overview, name="privacy_overview"),
        path("privacy/requests/", privacy.privacy_requests, name="privacy_requests"),
        path(
            "privacy/inspections/<int:pk>/", privacy.privacy_inspection, name="privacy_inspection"
        ),
        path("privacy/amendments/<int:pk>/", privacy.privacy_amendment, name="privacy_amendment"),
        path("privacy/consents/", privacy.privacy_consents, name="privacy_consents"),
        path("privacy/consents/new/", privacy.privacy_consent_new, name="privacy_consent_new"),
        path("privacy/consents/<int:pk>/", privacy.privacy_consent, name="privacy_consent"),
        path("privacy/disclosures/", privacy.privacy_disclosures, name="privacy_disclosures"),
        path(
            "privacy/disclosures/new/",
            privacy.privacy_disclosure_new,
            name="privacy_disclosure_new",
        ),
        path("privacy/notices/", privacy.privacy_notices, name="privacy_notices"),
        path("privacy/notices/new/", privacy.privacy_notice_new, name="privacy_notice_new"),
        path("privacy/notices/<int:pk>/", privacy.privacy_notice, name="privacy_notice"),
        path(
            "privacy/students/<int:pk>/export.json",
            privacy.privacy_student_export_json,
            name="privacy_student_export_json",
        ),
        path(
            "privacy/students/<int:pk>/export.csv",
            privacy.privacy_student_export_csv,
            name="privacy_student_export_csv",
        ),
    ],
    "dashboard",
)

urlpatterns = [
    path("", home.home, name="home"),
    path("", include(records)),
    path("", include(score_entry)),
    path("", include(imports)),
    path("", include(dashboard)),
]
