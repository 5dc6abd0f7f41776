"""Bench-only pages: the same reads and writes as an app page, without templates.

Served only under bench.settings (ROOT_URLCONF = "bench.urls"); they are the baseline that the
app's pages are compared with, so they must call exactly the selectors and services the page
calls, in the same order, and nothing else. The school and district pages' baselines
(bench_school_rollup) are their access check alone, as their issue asks, with a second page
that adds the rollups selectors' reads (the part of the page's work these pages isolate). The
family portal's (bench_portal) is what every page about one child does before its own reads.
The lesson plan's (bench_lessons) is what every plan page does first: the plan's access check and
the read's log.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone

from accounts.access import districts_administered_by, school_for_user, section_for_user
from lessons.selectors import plan_for_user
from portal.views.common import child_page
from privacy.services import log_shown
from rollups.counting import month_first
from rollups.selectors import district_rollup, rollup_months, rollup_subjects, school_rollup
from students import selectors


@login_required
def plain_section_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The section page's access check, roster read and access-log write, in plain text."""
    access = section_for_user(request.user, pk)
    roster = selectors.section_roster(access.section)
    log_shown(
        request,
        access,
        what="section roster",
        students=[enrollment.student for enrollment in roster],
    )
    teachers = selectors.section_teachers(access.section)
    return HttpResponse(
        f"section {access.section.pk}: {len(roster)} students, {len(teachers)} teachers\n",
        content_type="text/plain",
    )


def _text(message: str) -> HttpResponse:
    return HttpResponse(message + "\n", content_type="text/plain")


@login_required
def plain_school(request: HttpRequest, pk: int) -> HttpResponse:
    """The school report's access check, in plain text: the baseline of bench_school_rollup (no
    reads of the report; aggregates only, so nothing is logged, as on the page)."""
    access = school_for_user(request.user, pk)
    return _text(f"school {access.school.pk}")


@login_required
def plain_school_rollups(request: HttpRequest, pk: int) -> HttpResponse:
    """The school report's access check and the rollups selectors' reads for this month (its
    filters' choices, and the school's or ?grade='s rollup), without suppression or template."""
    access = school_for_user(request.user, pk)
    district_id = access.school.district_id
    month = month_first(timezone.localdate())
    months = rollup_months(district_id)
    subjects = rollup_subjects(district_id, month=month)
    rollup = school_rollup(access.school, month=month, grade=request.GET.get("grade") or None)
    return _text(
        f"{len(months)} months, {len(subjects)} subjects, {len(rollup.grades)} grades, "
        f"{len(rollup.standards)} standards, {len(rollup.sections)} sections"
    )


@login_required
def plain_district(request: HttpRequest, pk: int) -> HttpResponse:
    """The district page's access check, in plain text: the baseline of bench_school_rollup."""
    district = districts_administered_by(request.user).filter(pk=pk).first()
    if district is None:
        raise Http404("No such district.")
    return _text(f"district {district.pk}")


@login_required
def plain_district_rollups(request: HttpRequest, pk: int) -> HttpResponse:
    """The district page's access check and the rollups selectors' reads for this month, without
    suppression or template."""
    district = districts_administered_by(request.user).filter(pk=pk).first()
    if district is None:
        raise Http404("No such district.")
    month = month_first(timezone.localdate())
    months = rollup_months(district.pk)
    subjects = rollup_subjects(district.pk, month=month)
    rollup = district_rollup(district, month=month)
    return _text(f"{len(months)} months, {len(subjects)} subjects, {len(rollup.schools)} schools")


@login_required
def plain_child(request: HttpRequest, pk: int) -> HttpResponse:
    """What every portal page about one child does before its own reads, in plain text: the
    guardian's access check, the read's log and the child switcher's names and log
    (portal.views.common.child_page, as the progress page calls it). The baseline of
    bench_portal."""
    access, context = child_page(request, pk, what="family portal: progress")
    return _text(f"child {access.student.pk}, {len(context['child_switcher'])} children")


@login_required
def plain_plan(request: HttpRequest, pk: int) -> HttpResponse:
    """What every plan page does first, in plain text: the plan's access check
    (lessons.selectors.plan_for_user) and the read's log of the section's students, whom the
    plan's groups name (students.selectors.section_roster). The baseline of bench_lessons."""
    access = plan_for_user(request.user, pk)
    roster = selectors.section_roster(access.section)
    log_shown(request, access, what="lesson plan", students=[entry.student for entry in roster])
    return _text(f"plan {access.plan.pk}: {len(roster)} students")
