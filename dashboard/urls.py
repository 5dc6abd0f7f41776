"""Every page's URL. The namespaces are the pages' public names (`students:section_detail`,
`dashboard:student_standard`, ...), kept stable for bookmarks, templates and district scripts,
whichever module serves them."""

from django.urls import include, path

from dashboard.views import district, home, invitations, privacy, school, search
from dashboard.views.planner import calendar as plan_calendar
from dashboard.views.planner import groups as plan_groups
from dashboard.views.planner import hub, plans
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

# Lesson plans (issue 22): the planner, its groups and the calendars.
planner = (
    [
        path("plans/", plan_calendar.teacher_calendar, name="teacher_calendar"),
        path("plans/templates/", plans.plan_templates, name="plan_templates"),
        path("plans/templates/<int:pk>/new/", plans.plan_from_template, name="plan_from_template"),
        path("sections/<int:pk>/plans/", plan_calendar.section_calendar, name="section_calendar"),
        path("sections/<int:pk>/plans/new/", plans.plan_new, name="plan_new"),
        path("plans/<int:pk>/", hub.plan_detail, name="plan_detail"),
        path("plans/<int:pk>/edit/", plans.plan_edit, name="plan_edit"),
        path("plans/<int:pk>/print/", plans.plan_print, name="plan_print"),
        path("plans/<int:pk>/copy/", plans.plan_copy, name="plan_copy"),
        path("plans/<int:pk>/delete/", plans.plan_delete, name="plan_delete"),
        path("plans/<int:pk>/taught/", plans.plan_taught, name="plan_taught"),
        path("plans/<int:pk>/save-template/", plans.plan_save_template, name="plan_save_template"),
        path("plans/<int:pk>/materials/", plans.plan_materials, name="plan_materials"),
        path(
            "plans/<int:pk>/materials/<int:material_id>/",
            plans.plan_material,
            name="plan_material",
        ),
        path(
            "plans/<int:pk>/materials/<int:material_id>/remove/",
            plans.plan_material_remove,
            name="plan_material_remove",
        ),
        path(
            "plans/<int:pk>/groups/build/", plan_groups.plan_groups_build, name="plan_groups_build"
        ),
        path("plans/<int:pk>/groups/move/", plan_groups.plan_group_move, name="plan_group_move"),
        path("plans/<int:pk>/groups/add/", plan_groups.plan_group_add, name="plan_group_add"),
        path(
            "plans/<int:pk>/groups/<int:group_id>/",
            plan_groups.plan_group_edit,
            name="plan_group_edit",
        ),
        path("plans/<int:pk>/groups/lock/", plan_groups.plan_groups_lock, name="plan_groups_lock"),
        path("plans/<int:pk>/moves.json", plan_groups.plan_moves, name="plan_moves"),
        path(
            "plans/<int:pk>/moves/accept/", plan_groups.plan_moves_accept, name="plan_moves_accept"
        ),
        path("plans/<int:pk>/exit-ticket/", plan_groups.plan_exit_ticket, name="plan_exit_ticket"),
    ],
    "lessons",
)

urlpatterns = [
    path("", home.home, name="home"),
    path("", include(records)),
    path("", include(score_entry)),
    path("", include(imports)),
    path("", include(dashboard)),
    path("", include(planner)),
]
