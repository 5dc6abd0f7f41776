"""The teacher's section pages: the overview (the levels grid, the class's bars, needs attention,
roster), its CSV exports and its live check."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
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
    section_for_user,
    section_plan_access,
)
from assessments.services import section_mastery_release
from dashboard import cache as dashboard_cache
from dashboard import charts, selectors, tables
from dashboard.forms import (
    OverviewFilterForm,
    filter_form_with_choices,
    filters_query,
    malformed_values,
)
from dashboard.templatetags.dashboard_tags import json_bytes_script
from dashboard.views.planner.calendar import plan_entry
from dashboard.views.teacher.common import (
    STANDARD_PLACEHOLDER,
    STUDENT_PLACEHOLDER,
    bad_parameters,
    csv_response,
    serialized,
    student_url_template,
)
from lessons import selectors as lesson_selectors
from privacy.services import log_shown
from students.models import Section
from students.selectors import (
    section_teachers,
)

# The "since" a live check accepts: from the filters' earliest day to a year far enough that a
# client may ask "has anything changed after the end of time" without the date arithmetic
# overflowing.
EARLIEST_MOMENT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_MOMENT = datetime(9000, 1, 1, tzinfo=UTC)
# How often an open section page asks whether anything changed (milliseconds).
POLL_INTERVAL_MS = 4000


def _section_inputs(
    request: HttpRequest, section: Section
) -> tuple[selectors.SectionInputs, list[str]]:
    """The section's fresh reads under the filters that apply, and the malformed values among
    them (each 'parameter: message', for a 400). A well-formed filter that does not apply (a
    subject the section lacks) falls back to its default, and the page names it."""
    # The choices come with the inputs; the filters they hold are read first without them (the
    # subject and cluster only narrow columns, which the inputs do not depend on).
    inputs = selectors.section_inputs(section, OverviewFilterForm(request.GET).filters())
    form = filter_form_with_choices(request.GET, inputs.choices)
    inputs.filters = form.filters()
    return inputs, malformed_values(form)


def _section_export(
    request: HttpRequest, pk: int, what: str, build: Callable[[selectors.SectionMastery], str]
) -> tuple[SectionAccess, str | HttpResponse]:
    """A section export: the page's access check, fresh reads and access log, and the text
    cached as the page's grid is (the same key: an export is exactly what the page shows)."""
    access = section_for_user(request.user, pk)
    inputs, problems = _section_inputs(request, access.section)
    if problems:
        return access, bad_parameters(problems)
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

    figure_json: bytes  # the class's bars per standard
    figure_script: SafeString  # figure_json in its <script type="application/json"> element
    heatmap_head: SafeString  # the levels grid: a code per standard, then a row per student
    heatmap_body: SafeString
    distribution_body: SafeString
    roster_body: SafeString
    student_count: int
    column_count: int
    has_levels: bool  # any cell with evidence (or an override): else the page says what to do
    attention: tuple[tuple[int, tuple[str, ...]], ...]  # (student id, reasons), most pressing first
    attention_list: SafeString


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
    student_url = student_url_template()
    figure_json = serialized(charts.section_overview_figure(mastery))
    # Missing work belongs here too: every score write retires the version (as estimate writes
    # do), and the roster and the assessments are part of the key.
    attention = selectors.attention_list(
        mastery,
        selectors.missing_work(
            inputs.section,
            [s.pk for s in mastery.students],
            inputs.filters,
            missing_days=inputs.policy.attention.missing_days,
        ),
        # Lesson plans marked taught count as teaching their standards (plan_mark_taught
        # retires the section's version, so the grid is rebuilt).
        lesson_selectors.standards_taught(
            inputs.section,
            since=inputs.reference_date - timedelta(days=inputs.policy.attention.recent_days),
            until=inputs.reference_date,
        ),
    )
    return OverviewGrid(
        figure_json=figure_json,
        figure_script=json_bytes_script(figure_json, "overview-figure"),
        heatmap_head=tables.heatmap_head(mastery.columns, standard_url),
        heatmap_body=tables.heatmap_body(tables.grid_rows(mastery), student_url),
        distribution_body=tables.distribution_table_body(
            tables.distribution_rows(mastery, standard_url)
        ),
        roster_body=tables.roster_table_body(inputs.roster, student_url),
        student_count=len(mastery.students),
        column_count=len(mastery.columns),
        has_levels=any(
            cell.level != mastery.policy.no_evidence.value for cell in mastery.cells.values()
        ),
        attention=tuple((f.student.pk, tuple(f.reasons)) for f in attention),
        attention_list=tables.attention_list_html(
            attention, student_url, shown=inputs.policy.attention.shown
        ),
    )


@login_required
@require_GET
def section_overview(request: HttpRequest, pk: int) -> HttpResponse:
    """The section's page: the levels grid, the class's bars, needs attention, roster."""
    access = section_for_user(request.user, pk)
    inputs, problems = _section_inputs(request, access.section)
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
    # Today's lesson plans, for whoever may read them: the section's teachers (who also plan),
    # a substitute covering today, the school's principal.
    today = timezone.localdate()
    plans_access = section_plan_access(request.user, access.section, first_day=today)
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
            # Only the section's teachers enter scores: others see the assessments, read-only.
            "teaches": access.teaches,
            # Where families see levels only once released, its teachers release them here.
            "releases_levels": access.teaches
            and access.section.district.guardians_see_mastery == "released",
            "teachers": section_teachers(access.section),
            "filters": filters,
            "grid": grid,
            "roster": inputs.roster,
            "attention": grid.attention,
            "levels": charts.level_styles(policy),
            "mastery_name": policy.level_named(policy.mastery_level).name,
            "filter_fields": _filter_fields(request.GET, inputs.choices),
            "figure_json": grid.figure_json,
            "recent_days": policy.attention.recent_days,
            "missing_days": policy.attention.missing_days,
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
            "plans_access": plans_access,
            "todays_plans": [
                plan_entry(plan)
                for plan in lesson_selectors.plans_of_section(plans_access, today, today)
            ]
            if plans_access is not None
            else [],
        },
        # The page still shows, each wrong filter named beside its field; the status says so.
        status=400 if problems else 200,
    )


@login_required
@require_GET
def section_csv(request: HttpRequest, pk: int) -> HttpResponse:
    access, text = _section_export(request, pk, "section mastery export", tables.grid_csv)
    if isinstance(text, HttpResponse):
        return text
    return csv_response(text, f"section-{access.section.pk}-mastery.csv")


@login_required
@require_GET
def section_distribution_csv(request: HttpRequest, pk: int) -> HttpResponse:
    access, text = _section_export(
        request, pk, "section distribution export", tables.distribution_csv
    )
    if isinstance(text, HttpResponse):
        return text
    return csv_response(text, f"section-{access.section.pk}-distribution.csv")


def _since(raw: str) -> datetime | None:
    """An ISO date-time from 1900 to 9000, made aware; None for anything else (a well-formed
    but impossible date such as 2024-02-30 included)."""
    try:
        since = parse_datetime(raw) if raw else None
        if since is not None and timezone.is_naive(since):
            since = timezone.make_aware(since)
    except (ValueError, OverflowError):
        return None
    if since is None or not (EARLIEST_MOMENT <= since <= LATEST_MOMENT):
        return None
    return since


@login_required
@require_GET
def section_changes(request: HttpRequest, pk: int) -> JsonResponse:
    """What changed in the section since the client's last check (cheap: polled every few s)."""
    access = section_for_user(request.user, pk)
    raw_since = request.GET.get("since", "")
    since = _since(raw_since)
    if raw_since and since is None:
        return JsonResponse(
            {"error": f"since={raw_since[:64]!r} is not an ISO date-time from 1900 to 9000."},
            status=400,
        )
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


@login_required
@require_http_methods(["GET", "POST"])
def section_release_levels(request: HttpRequest, pk: int) -> HttpResponse:
    """The section's teachers release its current levels to families (the district's "released"
    setting shows families levels only as of a release): a POST from the section page, or from
    this page, which asks first. 404 for anyone who does not teach the section."""
    access = section_for_user(request.user, pk)
    if not access.teaches:
        raise Http404("No such section.")
    if request.method == "POST":
        section_mastery_release(section=access.section, acting_user=request.user)
        messages.success(request, "Levels released: families see this class's levels as of now.")
        return redirect("students:section_detail", pk=access.section.pk)
    return render(request, "dashboard/section_release.html", {"section": access.section})
