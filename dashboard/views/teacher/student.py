"""The student profile: a header and tabs (record, attendance and discipline, assessments, grades),
each tab its own logged read; and the student's mastery CSV. Principals, district staff and
guardians open it too, through the same access check."""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET

from accounts.access import (
    AnyUser,
    StudentAccess,
    can_see_section,
    student_for_user,
)
from assessments.methods import policy_for_district
from assessments.selectors import student_gradebook
from dashboard import charts, selectors, tables
from dashboard.views.teacher.common import csv_response, serialized
from privacy.services import log_shown
from rights.selectors import StatementShown, statements_for
from students.models import Section
from students.selectors import (
    StudentRecord,
    student_attendance,
    student_cohorts_programs,
    student_discipline,
    student_grades,
    student_record,
    student_sections,
)


def _linkable_section_ids(user: AnyUser, sections: list[Section]) -> set[int]:
    """The student's sections whose pages this user may open (the pages check again)."""
    return {s.pk for s in sections if can_see_section(user, s)}


def _student_mastery_for(
    access: StudentAccess, record: StudentRecord | None = None
) -> tuple[list[Section], selectors.StudentMastery]:
    """The student's current sections (the record's, when the page has read it), and their
    mastery on every standard of them."""
    sections = (
        [e.section for e in record.enrollments]
        if record is not None
        else student_sections(access.student)
    )
    return sections, selectors.student_mastery(
        access.student, [s.pk for s in sections], {s.pk: s.title for s in sections}
    )


# What a tab's template reads, from the request, the access and the record when the page has
# read it already.
TabContext = Callable[[HttpRequest, StudentAccess, StudentRecord | None], dict]


def _record_tab(request: HttpRequest, access: StudentAccess, record: StudentRecord | None) -> dict:
    record = record or student_record(request.user, access)
    return {
        "record": record,
        "cohorts_programs": student_cohorts_programs(access, record),
        "field_statements": _student_field_statements(_family_statements(request, access)),
    }


def _attendance_tab(
    request: HttpRequest, access: StudentAccess, record: StudentRecord | None
) -> dict:
    return {"attendance": student_attendance(access), "discipline": student_discipline(access)}


def _assessments_tab(
    request: HttpRequest, access: StudentAccess, record: StudentRecord | None
) -> dict:
    sections, mastery = _student_mastery_for(access, record)
    linkable = _linkable_section_ids(request.user, sections)
    standard_rows = []
    for item in mastery.standards:
        link_section = next((sid for sid in item.section_ids if sid in linkable), None)
        url = (
            reverse(
                "dashboard:student_standard",
                kwargs={
                    "pk": link_section,
                    "student_id": access.student.pk,
                    "standard_id": item.standard.pk,
                },
            )
            if link_section
            else ""
        )
        standard_rows.append((item, mastery.policy.level_named(item.cell.level), url))
    return {
        "mastery": mastery,
        "standard_rows": standard_rows,
        "standard_rows_html": tables.profile_standards_body(standard_rows, mastery.history),
        "score_rows_html": tables.score_history_body(mastery.scores),
        "trend_figures": [
            (f"trend-figure-{index}", subject, serialized(figure))
            for index, (subject, figure) in enumerate(charts.profile_trend_figures(mastery))
        ],
        "levels": charts.level_styles(mastery.policy),
    }


def _grades_tab(request: HttpRequest, access: StudentAccess, record: StudentRecord | None) -> dict:
    return {
        "grades": student_grades(access),
        "gradebook": student_gradebook(access.student) if access.can_see_scores else [],
    }


@dataclass(frozen=True)
class ProfileTab:
    """A tab of the student profile. The record tab is on every profile page; any other tab's
    panel is on the page when the address names it (?tab=), and is otherwise fetched when it is
    first opened: each tab is its own read of the student's data, logged in its own words."""

    slug: str
    label: str
    template: str
    what: str  # the access log's words for this read
    context: TabContext


PROFILE_TABS = {
    tab.slug: tab
    for tab in (
        ProfileTab(
            "record",
            "Record",
            "dashboard/profile/_record_tab.html",
            "student record",
            _record_tab,
        ),
        ProfileTab(
            "attendance",
            "Attendance & discipline",
            "dashboard/profile/_attendance_tab.html",
            "student attendance and discipline",
            _attendance_tab,
        ),
        ProfileTab(
            "assessments",
            "Assessments",
            "dashboard/profile/_assessments.html",
            "student mastery and scores",
            _assessments_tab,
        ),
        ProfileTab(
            "grades", "Grades", "students/profile/_grades.html", "student grades", _grades_tab
        ),
    )
}


def _profile_tab_named(slug: str) -> ProfileTab:
    tab = PROFILE_TABS.get(slug)
    if tab is None:
        raise Http404(f"A student profile has no tab {slug!r}: it has {', '.join(PROFILE_TABS)}.")
    return tab


# --- A family's statements on contested values (34 CFR 99.21(b)(2)): each beside its value where
# the page shows the row and field (the record tab's own fields), and every one listed in the
# profile's header, above the tabs, so that staff see them whichever tab shows the value. One
# query, on the page only: a tab fetched alone reads none (but the record tab, for its fields).

# The record tab's own fields (templates/dashboard/profile/_record.html) and the Student fields
# each shows.
STUDENT_FIELDS_SHOWN = {
    "legal_name": ("first_name", "middle_name", "last_name", "legal_name"),
    "preferred_first_name": ("preferred_first_name",),
    "birth_date": ("birth_date",),
    "sex": ("sex",),
    "home_language": ("home_language",),
}
_STATEMENTS_ATTRIBUTE = "_trellis_family_statements"


def _family_statements(request: HttpRequest, access: StudentAccess) -> list[StatementShown]:
    """The family's statements in the student's record, read once per request (one query)."""
    cached: dict[int, list[StatementShown]] = getattr(request, _STATEMENTS_ATTRIBUTE, {})
    if access.student.pk not in cached:
        cached[access.student.pk] = statements_for(access.student)
        setattr(request, _STATEMENTS_ATTRIBUTE, cached)
    return cached[access.student.pk]


def _student_field_statements(statements: list[StatementShown]) -> dict[str, list]:
    """The statements about the record tab's own fields, by the field that shows them."""
    return {
        shown: [
            s
            for s in statements
            if s.record_model.lower() == "students.student"
            and s.record_id == s.student_id
            and s.field_name in fields
        ]
        for shown, fields in STUDENT_FIELDS_SHOWN.items()
    }


def _profile_tab_html(
    tab: ProfileTab, request: HttpRequest, access: StudentAccess, record: StudentRecord | None
) -> SafeString:
    log_shown(
        request,
        access,
        what=tab.what,
        students=[access.student],
        path=request.get_full_path(),
    )
    context = {"student": access.student, **tab.context(request, access, record)}
    return render_to_string(tab.template, context, request)


# Where a guardian who opens the profile (with a tab named) reads the same in the family portal.
GUARDIAN_PAGES = {"grades": "portal:child_grades", "attendance": "portal:child_attendance"}


@login_required
@require_GET
def student_profile(request: HttpRequest, pk: int) -> HttpResponse:
    """The student's profile: a header, and tabs for the record, attendance and discipline,
    assessments (mastery, tests, scores) and grades."""
    access = student_for_user(request.user, pk)
    if access.is_guardian:
        # A family reads their child's record in the portal (the same address keeps working).
        page = GUARDIAN_PAGES.get(request.GET.get("tab") or "", "portal:child_progress")
        return redirect(page, pk=access.student.pk)
    shown = _profile_tab_named(request.GET.get("tab") or "record")
    # The header (schools, programs) is the record's: the record tab is always on the page.
    record = student_record(request.user, access)
    panels = []
    for tab in PROFILE_TABS.values():
        html = (
            _profile_tab_html(tab, request, access, record)
            if tab.slug in {"record", shown.slug}
            else None
        )
        panels.append(
            (
                tab,
                html,
                reverse("dashboard:student_profile_tab", kwargs={"pk": pk, "tab": tab.slug}),
            )
        )
    return render(
        request,
        "dashboard/student_profile.html",
        {
            "record": record,
            "student": access.student,
            "panels": panels,
            "shown": shown.slug,
            "family_statements": _family_statements(request, access),
            # The level colours, for the assessments tab whether it is here or fetched.
            "levels": charts.level_styles(
                policy_for_district(access.student.district_id, with_fit=False)
            ),
        },
    )


@login_required
@require_GET
def student_profile_tab(request: HttpRequest, pk: int, tab: str) -> HttpResponse:
    """One tab's panel of the student profile, fetched by the page's script when it is opened."""
    access = student_for_user(request.user, pk)
    shown = _profile_tab_named(tab)
    if request.headers.get("Sec-Fetch-Mode") == "navigate":
        # Somebody opened the panel's own address (a copied link): the page that shows it.
        url = reverse("students:student_detail", kwargs={"pk": access.student.pk})
        return redirect(f"{url}?tab={shown.slug}#{shown.slug}")
    return HttpResponse(_profile_tab_html(shown, request, access, None))


@login_required
@require_GET
def student_mastery_csv(request: HttpRequest, pk: int) -> HttpResponse:
    access = student_for_user(request.user, pk)
    _, mastery = _student_mastery_for(access)
    log_shown(request, access, what="student mastery export", students=[access.student])
    return csv_response(
        tables.student_mastery_csv(mastery), f"student-{access.student.pk}-mastery.csv"
    )
