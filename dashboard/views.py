"""The teacher dashboard's pages: thin views over dashboard.selectors, charts from
dashboard.charts (serialized once, with orjson), tables and CSV from dashboard.tables."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import orjson
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import (
    SectionAccess,
    StudentAccess,
    can_see_section,
    section_for_user,
    student_for_user,
)
from assessments.methods import policy_for_district
from assessments.services import mastery_override_clear, mastery_override_set
from dashboard import cache as dashboard_cache
from dashboard import charts, selectors, tables
from dashboard.forms import (
    OverrideForm,
    OverviewFilterForm,
    filter_form_with_choices,
    filters_query,
)
from dashboard.templatetags.dashboard_tags import json_bytes_script
from privacy.services import log_shown
from students.models import Section
from students.selectors import (
    StudentRecord,
    section_teachers,
    student_attendance,
    student_cohorts_programs,
    student_discipline,
    student_grades,
    student_record,
    student_sections,
)

# How often an open section page asks whether anything changed (milliseconds).
POLL_INTERVAL_MS = 4000
# Ids no row has, reversed into URLs that the page's script completes per cell.
STUDENT_PLACEHOLDER = 987_654_321
STANDARD_PLACEHOLDER = 987_654_322


def _serialized(figure: dict) -> bytes:
    return orjson.dumps(figure)


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _section_inputs(request: HttpRequest, section: Section) -> selectors.SectionInputs:
    """The section's fresh reads under the filters that apply: a subject or cluster the section
    does not have falls back to all of them, like any other wrong filter (the form names it)."""
    # The choices come with the inputs; the filters they hold are read first without them (the
    # subject and cluster only narrow columns, which the inputs do not depend on).
    inputs = selectors.section_inputs(section, OverviewFilterForm(request.GET).filters())
    inputs.filters = filter_form_with_choices(request.GET, inputs.choices).filters()
    return inputs


def _section_export(
    request: HttpRequest, pk: int, what: str, build: Callable[[selectors.SectionMastery], str]
) -> tuple[SectionAccess, str]:
    """A section export: the page's access check, fresh reads and access log, and the text
    cached as the page's grid is (the same key: an export is exactly what the page shows)."""
    access = section_for_user(request.user, pk)
    inputs = _section_inputs(request, access.section)
    log_shown(
        request,
        access,
        what=what,
        students=[e.student for e in inputs.roster],
    )
    version = dashboard_cache.section_versions(access.section)
    text = dashboard_cache.cached(
        (what, inputs.fingerprint(), version),
        lambda: build(selectors.section_mastery(access.section, inputs.filters, inputs)),
    )
    return access, text


@dataclass(frozen=True)
class OverviewGrid:
    """The section page's user-independent parts, built once per version (dashboard.cache)."""

    figure_json: bytes
    figure_script: SafeString  # figure_json in its <script type="application/json"> element
    grid_head: SafeString
    grid_body: SafeString
    distribution_body: SafeString
    roster_body: SafeString
    student_count: int
    column_count: int
    attention: tuple[tuple[int, tuple[str, ...]], ...]  # (student id, reasons), most first
    attention_list: SafeString


def _student_url_template() -> str:
    """A student's profile as the section page links it: on the assessments tab, since a
    teacher comes from the class's levels to see this student's (the record is a tab away)."""
    url = reverse("students:student_detail", kwargs={"pk": STUDENT_PLACEHOLDER})
    return url.replace(str(STUDENT_PLACEHOLDER), "{student}") + "#assessments"


def _filter_fields(data: QueryDict, choices: selectors.FilterChoices) -> SafeString:
    """The filter form's fields and errors as HTML, cached (dashboard.cache) under what they
    show: the choices, the submitted values, today's date (a future "as of" is an error) and the
    language of the error messages."""
    submitted = tuple((name, tuple(data.getlist(name))) for name in OverviewFilterForm.base_fields)

    def build() -> SafeString:
        form = filter_form_with_choices(data, choices)
        form.is_valid()
        return render_to_string("dashboard/_filter_fields.html", {"form": form})

    return dashboard_cache.cached(
        ("filter fields", choices, submitted, timezone.localdate(), get_language()), build
    )


def _overview_grid(inputs: selectors.SectionInputs) -> OverviewGrid:
    mastery = selectors.section_mastery(inputs.section, inputs.filters, inputs)
    section_pk = inputs.section.pk
    standard_url = reverse(
        "dashboard:standard_detail",
        kwargs={"pk": section_pk, "standard_id": STANDARD_PLACEHOLDER},
    ).replace(str(STANDARD_PLACEHOLDER), "{standard}")
    student_url = _student_url_template()
    figure_json = _serialized(charts.section_overview_figure(mastery))
    # Missing work belongs here too: every score write retires the version (as estimate writes
    # do), and the roster and the assessments are part of the key.
    attention = selectors.attention_list(
        mastery,
        selectors.missing_work(inputs.section, [s.pk for s in mastery.students], inputs.filters),
    )
    return OverviewGrid(
        figure_json=figure_json,
        figure_script=json_bytes_script(figure_json, "overview-figure"),
        grid_head=tables.grid_table_head(mastery.columns, standard_url),
        grid_body=tables.grid_table_body(tables.grid_rows(mastery), student_url),
        distribution_body=tables.distribution_table_body(
            tables.distribution_rows(mastery, standard_url)
        ),
        roster_body=tables.roster_table_body(inputs.roster, student_url),
        student_count=len(mastery.students),
        column_count=len(mastery.columns),
        attention=tuple((f.student.pk, tuple(f.reasons)) for f in attention),
        attention_list=tables.attention_list_html(attention, student_url),
    )


@login_required
@require_GET
def section_overview(request: HttpRequest, pk: int) -> HttpResponse:
    """The section's page: heatmap, distribution, needs attention, roster."""
    access = section_for_user(request.user, pk)
    inputs = _section_inputs(request, access.section)
    filters = inputs.filters
    # The same words as the roster page this replaced: families read them in the access log.
    log_shown(
        request,
        access,
        what="section roster",
        students=[e.student for e in inputs.roster],
    )
    # The versions first: a grid built while a write commits is stored under a version that the
    # write then retires.
    version = dashboard_cache.section_versions(access.section)
    grid = dashboard_cache.cached(
        ("section overview", inputs.fingerprint(), version), lambda: _overview_grid(inputs)
    )
    query = filters_query(filters)
    policy = inputs.policy
    cell_url = reverse(
        "dashboard:student_standard",
        kwargs={
            "pk": access.section.pk,
            "student_id": STUDENT_PLACEHOLDER,
            "standard_id": STANDARD_PLACEHOLDER,
        },
    )
    return render(
        request,
        "dashboard/section_overview.html",
        {
            "section": access.section,
            "role": access.role,
            "teachers": section_teachers(access.section),
            "filters": filters,
            "grid": grid,
            "roster": inputs.roster,
            "attention": grid.attention,
            "levels": charts.level_styles(policy),
            "mastery_name": policy.level_named(policy.mastery_level).name,
            "filter_fields": _filter_fields(request.GET, inputs.choices),
            "figure_json": grid.figure_json,
            "recent_days": selectors.RECENT_DAYS,
            "missing_days": selectors.MISSING_DAYS,
            "query": query,
            "is_filtered": bool(query.replace("students=need", "").strip("&")),
            # The script puts a cell's student and standard ids in place of the placeholders.
            "cell_url_template": cell_url.replace(str(STUDENT_PLACEHOLDER), "{student}").replace(
                str(STANDARD_PLACEHOLDER), "{standard}"
            ),
            "standard_url_template": reverse(
                "dashboard:standard_detail",
                kwargs={"pk": access.section.pk, "standard_id": STANDARD_PLACEHOLDER},
            ).replace(str(STANDARD_PLACEHOLDER), "{standard}"),
            "changes_url": reverse("dashboard:section_changes", kwargs={"pk": access.section.pk}),
            "poll_ms": POLL_INTERVAL_MS if filters.as_of is None else 0,
            "checked_at": timezone.now().isoformat(),
        },
    )


@login_required
@require_GET
def section_csv(request: HttpRequest, pk: int) -> HttpResponse:
    access, text = _section_export(request, pk, "section mastery export", tables.grid_csv)
    return _csv_response(text, f"section-{access.section.pk}-mastery.csv")


@login_required
@require_GET
def section_distribution_csv(request: HttpRequest, pk: int) -> HttpResponse:
    access, text = _section_export(
        request, pk, "section distribution export", tables.distribution_csv
    )
    return _csv_response(text, f"section-{access.section.pk}-distribution.csv")


@login_required
@require_GET
def section_changes(request: HttpRequest, pk: int) -> JsonResponse:
    """What changed in the section since the client's last check (cheap: polled every few s)."""
    access = section_for_user(request.user, pk)
    raw_since = request.GET.get("since", "")
    since: datetime | None = parse_datetime(raw_since) if raw_since else None
    if raw_since and since is None:
        return JsonResponse({"error": f"since={raw_since!r} is not an ISO date-time."}, status=400)
    if since is not None and timezone.is_naive(since):
        since = timezone.make_aware(since)
    found = selectors.section_changes(access.section, since)
    if found.changes:
        log_shown(
            request,
            access,
            what="section mastery live update",
            students=found.students,
        )
    changes = [
        {
            "student": change.student_id,
            "standard": change.standard_id,
            "level": change.cell.level,
            "overridden": change.cell.overridden,
        }
        for change in found.changes
    ]
    return JsonResponse(
        {"checked_at": found.checked_at.isoformat(), "pending": found.pending, "changes": changes}
    )


def _standard_view(
    request: HttpRequest, pk: int, standard_id: int, what: str
) -> tuple[SectionAccess, selectors.StandardInSection]:
    """A standard within a section, access-checked, its read logged for the section's students."""
    access = section_for_user(request.user, pk)
    view = selectors.standard_in_section(access.section, standard_id)
    log_shown(
        request,
        access,
        what=what,
        students=[e.student for e in view.roster],
    )
    return access, view


@login_required
@require_GET
def standard_detail(request: HttpRequest, pk: int, standard_id: int) -> HttpResponse:
    access, view = _standard_view(request, pk, standard_id, "standard in section")
    levels = charts.level_styles(view.policy)
    rows = [(e.student, view.cell(e.student_id)) for e in view.roster]
    selected_level = request.GET.get("level", "")
    selected = int(selected_level) if selected_level.isdigit() else None
    student_url = reverse(
        "dashboard:student_standard",
        kwargs={"pk": pk, "student_id": STUDENT_PLACEHOLDER, "standard_id": view.standard.pk},
    ).replace(str(STUDENT_PLACEHOLDER), "{student}")
    return render(
        request,
        "dashboard/standard_detail.html",
        {
            "section": access.section,
            "view": view,
            "standard": view.standard,
            "short_code": selectors.standard_short_code(view.standard.code),
            "levels": levels,
            "rows": rows,
            "rows_html": tables.standard_students_body(rows, levels, selected, student_url),
            "groups": [
                (group, tables.student_links_html(group.students, student_url))
                for group in selectors.level_groups(view)
            ],
            "counts": [
                (level, sum(1 for _, c in rows if c.level == level.value)) for level in levels
            ],
            "selected_level": selected,
            "figure_json": _serialized(charts.distribution_figure(view)),
        },
    )


@login_required
@require_GET
def standard_csv(request: HttpRequest, pk: int, standard_id: int) -> HttpResponse:
    access, view = _standard_view(request, pk, standard_id, "standard in section export")
    return _csv_response(
        tables.standard_students_csv(view),
        f"section-{access.section.pk}-{selectors.standard_short_code(view.standard.code)}.csv",
    )


@login_required
@require_http_methods(["GET", "POST"])
def student_standard(
    request: HttpRequest, pk: int, student_id: int, standard_id: int
) -> HttpResponse:
    """One student's history on one standard, and the override form for the section's teacher."""
    access = section_for_user(request.user, pk)
    student = selectors.enrolled_student(access.section, student_id)
    history = selectors.student_standard_history(access.section, student, standard_id)
    can_override = access.teaches
    form = OverrideForm(
        request.POST if request.method == "POST" and "note" in request.POST else None,
        policy=history.policy,
        initial={"level": history.cell.level if history.cell.level else None},
    )
    if request.method == "POST":
        if not can_override:
            raise PermissionDenied("Only the section's teachers override a level.")
        if request.POST.get("action") == "clear":
            cleared = mastery_override_clear(
                student_id=student.pk, standard_id=history.standard.pk, acting_user=request.user
            )
            if cleared:
                messages.success(request, "Override cleared: the estimate shows again.")
            return redirect(request.path)
        if form.is_valid():
            level = history.policy.level_named(form.cleaned_data["level"])
            mastery_override_set(
                student_id=student.pk,
                standard_id=history.standard.pk,
                level=level.value,
                note=form.cleaned_data["note"],
                acting_user=request.user,
                clear_on_new_score=form.cleaned_data["clear_on_new_score"],
            )
            messages.success(
                request, f"{student.display_name} is now shown at “{level.name}” on this standard."
            )
            return redirect(request.path)
    log_shown(
        request,
        access,
        what="student history on a standard",
        students=[student],
    )
    return render(
        request,
        "dashboard/student_standard.html",
        {
            "section": access.section,
            "student": student,
            "history": history,
            "standard": history.standard,
            "short_code": selectors.standard_short_code(history.standard.code),
            "level": history.policy.level_named(history.cell.level),
            "estimated_level": history.policy.level_named(history.cell.estimated_level)
            if history.cell.overridden and history.cell.estimated_level is not None
            else None,
            "can_override": can_override,
            "form": form,
            "figure_json": _serialized(charts.trend_figure(history)),
        },
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_GET
def student_standard_csv(
    request: HttpRequest, pk: int, student_id: int, standard_id: int
) -> HttpResponse:
    access = section_for_user(request.user, pk)
    student = selectors.enrolled_student(access.section, student_id)
    history = selectors.student_standard_history(access.section, student, standard_id)
    log_shown(
        request,
        access,
        what="student history on a standard export",
        students=[student],
    )
    return _csv_response(
        tables.student_standard_csv(history),
        f"student-{student.pk}-{selectors.standard_short_code(history.standard.code)}.csv",
    )


def _linkable_section_ids(user: object, sections: list) -> set[int]:
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
    return {"record": record, "cohorts_programs": student_cohorts_programs(access, record)}


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
        "standard_rows_html": tables.profile_standards_body(standard_rows),
        "score_rows_html": tables.score_history_body(mastery.scores),
        "trend_figures": [
            (f"trend-figure-{index}", subject, _serialized(figure))
            for index, (subject, figure) in enumerate(charts.profile_trend_figures(mastery))
        ],
        "levels": charts.level_styles(mastery.policy),
    }


def _grades_tab(request: HttpRequest, access: StudentAccess, record: StudentRecord | None) -> dict:
    return {"grades": student_grades(access)}


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


@login_required
@require_GET
def student_profile(request: HttpRequest, pk: int) -> HttpResponse:
    """The student's profile: a header, and tabs for the record, attendance and discipline,
    assessments (mastery, tests, scores) and grades."""
    access = student_for_user(request.user, pk)
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
    return _csv_response(
        tables.student_mastery_csv(mastery), f"student-{access.student.pk}-mastery.csv"
    )
