"""The school's pages, for its principal and its district's staff: the school at a glance, and
its dated exceptions (substitutes given a section between two dates)."""

import csv
import io
from typing import TypeVar
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString
from django.views.decorators.http import require_GET, require_http_methods

from accounts.access import (
    SchoolAccess,
    SignedInRequest,
    districts_administered_by,
    school_for_user,
)
from accounts.services import GrantRefused, substitute_end, substitute_grant
from dashboard.cache import cached, report_versions
from dashboard.forms import (
    CountedStudentsForm,
    DistrictReportForm,
    EngagementCountedForm,
    SchoolReportForm,
    SubstituteEndForm,
    SubstituteForm,
)
from dashboard.rollup_charts import district_chart, grade_chart, subject_chart, trend_chart
from dashboard.selectors import school_overview
from dashboard.selectors import school_substitutes as school_substitutes_of
from dashboard.selectors.district import DistrictReport, district_csv_rows, district_report
from dashboard.selectors.periods import ReportPeriods, report_periods, report_terms
from dashboard.selectors.school import (
    EXPORT_TABLES,
    REPORT_TABLES,
    SchoolEngagement,
    SchoolOverview,
    SchoolReport,
    counted_students,
    engagement_students,
    overview_decided,
    report_csv_rows,
    school_engagement,
    school_report,
)
from dashboard.views.teacher.common import csv_response, school_url_template
from privacy.services import log_shown
from rollups.selectors import rollup_months, rollup_subjects
from rollups.subgroups import subgroup_label
from students.models import District, School, Section

ReportForm = TypeVar("ReportForm", bound=SchoolReportForm)


def _report_form(
    request: HttpRequest, district_id: int, form_class: type[ReportForm], tables: tuple[str, ...]
) -> ReportForm:
    months = rollup_months(district_id)
    return form_class(
        request.GET,
        months=months,
        subjects_of=lambda month: rollup_subjects(district_id, month=month),
        tables=tables,
        terms=report_terms(district_id, months),
    )


def _periods(district_id: int, form: SchoolReportForm) -> ReportPeriods:
    filters = form.cleaned_data
    return report_periods(
        district_id,
        months=form.months,
        month=filters["month"],
        as_of=filters["as_of"],
        term=filters["term"],
        terms=form.terms,
    )


def _filter_query(report: SchoolReport | DistrictReport) -> dict[str, str]:
    """The filters a page's links keep: the month read, the term chosen, the subject."""
    periods = report.periods
    return {
        "month": f"{report.month:%Y-%m}",
        **({"term": str(periods.term.pk)} if periods.term.pk else {}),
        **({"subject": report.subject} if report.subject else {}),
    }


def _refused(form: forms.Form) -> HttpResponse:
    """A filter the page cannot take: say which and why (400), never a server error."""
    problems = "; ".join(
        f"{field}: {' '.join(str(error) for error in errors)}"
        for field, errors in form.errors.items()
    )
    return HttpResponseBadRequest(
        f"The school report cannot show that: {problems}", content_type="text/plain"
    )


@login_required
@require_GET
def school_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The school report: proficiency and growth by grade, subject, section, cluster and
    standard, read from the rollups and suppressed; aggregates only, so nothing is logged."""
    access = school_for_user(request.user, pk)
    district_id = access.school.district_id
    form = _report_form(request, district_id, SchoolReportForm, EXPORT_TABLES)
    if not form.is_valid():
        return _refused(form)
    filters = form.cleaned_data
    periods = _periods(district_id, form)
    if filters["format"] == "csv":
        report = school_report(
            access.school, periods=periods, subject=filters["subject"], grade=filters["grade"]
        )
        table = filters["table"]
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([f"{access.school.name}, {table}, {report.month:%B %Y}"])
        writer.writerow([report.rule])
        writer.writerows(report_csv_rows(report, table))
        return csv_response(
            buffer.getvalue(), f"school-{access.school.pk}-{table}-{report.month:%Y-%m}.csv"
        )
    return render(
        request,
        "students/school_detail.html",
        {
            "school": access.school,
            "report_body": _school_report_body(
                request, access.school, periods, filters["subject"], filters["grade"]
            ),
        },
    )


def _school_report_body(
    request: HttpRequest,
    school: School,
    periods: ReportPeriods,
    subject: str,
    grade: str,
) -> SafeString:
    """The school report's HTML, computed from the rollups and kept until the district's
    rollups change (dashboard.cache.report_versions): the same for everyone who may see the
    school, so nothing of the user's is in it."""
    page_url = request.build_absolute_uri(request.path)

    def build() -> SafeString:
        report = school_report(school, periods=periods, subject=subject, grade=grade)
        base_query = _filter_query(report)
        query = {**base_query, **({"grade": report.grade} if report.grade else {})}
        overview, engagement = _school_facts(school)
        return render_to_string(
            "students/_school_report_body.html",
            {
                "page_url": f"{page_url}?{urlencode(query)}",
                "overview": overview,
                "engagement": engagement,
                "engagement_tables": [
                    ("Chronic absence in the whole school", "School", [engagement.total], "total"),
                    ("Chronic absence by grade", "Grade", engagement.grades, "grade"),
                    ("Chronic absence by subgroup", "Subgroup", engagement.subgroups, "subgroup"),
                ],
                "report": report,
                "base_query": urlencode(base_query),
                "query": urlencode(query),
                "report_tables": [
                    (name, TABLE_TITLES[name], report.tables[name]) for name in REPORT_TABLES
                ],
                "grade_chart": grade_chart(report),
                "subject_chart": subject_chart(report),
                "trend_chart": trend_chart(
                    report.trend, report.total.label if report.grade else "the whole school"
                ),
            },
        )

    return cached(
        (
            "school-report",
            school.pk,
            repr(periods),
            subject,
            grade,
            page_url,
            timezone.localdate(),
            report_versions(school.district_id),
        ),
        build,
    )


def _school_facts(school: School) -> tuple[SchoolOverview, SchoolEngagement]:
    """The school's sections, staff and enrolment (read from the raw records), and its
    attendance and engagement (from the rollups, SchoolEngagementDay), which decides the
    enrolment counts' suppression: kept per process for the day under the district's report
    versions, which a change of its rollup rows and every import and bulk write replace
    (dashboard.cache); at most FRAGMENT_TIMEOUT_S old otherwise."""

    def build() -> tuple[SchoolOverview, SchoolEngagement]:
        engagement = school_engagement(school)
        return overview_decided(school_overview(school), engagement), engagement

    return cached(
        ("school-facts", school.pk, timezone.localdate(), report_versions(school.district_id)),
        build,
    )


TABLE_TITLES = {
    "grades": "By grade",
    "subjects": "By subject",
    "sections": "By section and teacher",
    "clusters": "By standard cluster",
    "standards": "By standard",
}


@login_required
@require_GET
def school_counted_students(request: HttpRequest, pk: int) -> HttpResponse:
    """The students a count of the school report counts, by name: the drill-down's exemption
    from suppression, for the students the user may see anyway; each of them logged."""
    access = school_for_user(request.user, pk)
    if "measure" in request.GET:
        return _engagement_counted(request, access)
    form = _report_form(request, access.school.district_id, CountedStudentsForm, EXPORT_TABLES)
    if not form.is_valid():
        return _refused(form)
    filters = form.cleaned_data
    counted = counted_students(
        request.user,
        access.school,
        month=filters["month"],
        grade=filters["grade"],
        subject=filters["subject"],
        standard_id=filters["standard"],
        proficient=filters["proficient"],
    )
    log_shown(
        request,
        access,
        what="school report: students counted",
        students=counted.students,
    )
    return render(
        request,
        "students/school_counted_students.html",
        {"school": access.school, "counted": counted, "filters": filters},
    )


def _engagement_counted(request: HttpRequest, access: SchoolAccess) -> HttpResponse:
    form = EngagementCountedForm(request.GET)
    if not form.is_valid():
        return _refused(form)
    filters = form.cleaned_data
    counted = engagement_students(
        request.user,
        access.school,
        measure=filters["measure"],
        grade=filters["grade"] or None,
        subgroup=filters["subgroup"] or None,
        chronic=filters["absent"],
    )
    log_shown(
        request,
        access,
        what=f"school report: students counted ({filters['measure']})",
        students=counted.students,
    )
    return render(
        request,
        "students/school_counted_students.html",
        {
            "school": access.school,
            "counted": counted,
            "engagement": filters,
            "subgroup_name": subgroup_label(filters["subgroup"]) if filters["subgroup"] else "",
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def school_substitutes(request: SignedInRequest, pk: int) -> HttpResponse:
    """The school's dated exceptions: a substitute given one section between two dates, made
    and ended by the principal or district staff (the grant names who made it and why)."""
    access = school_for_user(request.user, pk)
    school = access.school
    sections = Section.objects.filter(school=school, is_active=True).order_by("title")
    form = SubstituteForm(
        request.POST if request.POST.get("action") == "grant" else None, sections=sections
    )
    if request.method == "POST":
        if request.POST.get("action") == "end":
            end_form = SubstituteEndForm(request.POST)
            if not end_form.is_valid():
                return HttpResponseBadRequest("Which grant to end? The form named none.")
            try:
                substitute_end(
                    acting_user=request.user, membership_id=end_form.cleaned_data["membership"]
                )
            except GrantRefused as refused:
                raise Http404(str(refused)) from refused
            messages.success(request, "That substitute's access has ended.")
            return redirect(request.path)
        if form.is_valid():
            membership = substitute_grant(
                acting_user=request.user,
                substitute=form.cleaned_data["email"],
                section=form.cleaned_data["section"],
                begin_date=form.cleaned_data["begin_date"],
                end_date=form.cleaned_data["end_date"],
                reason=form.cleaned_data["reason"],
            )
            messages.success(
                request,
                f"{membership.user.email} may open {form.cleaned_data['section'].title} from "
                f"{membership.begin_date:%b %-d} through {membership.end_date:%b %-d, %Y}.",
            )
            return redirect(request.path)
    return render(
        request,
        "students/school_substitutes.html",
        {"school": school, "form": form, "grants": school_substitutes_of(school)},
        status=400 if form.is_bound and form.errors else 200,
    )


@login_required
@require_GET
def district_schools(request: HttpRequest, pk: int) -> HttpResponse:
    """The district's schools side by side, by level with the district's total, for its staff:
    sortable by ?sort= without a script; aggregates only, so nothing is logged."""
    district = districts_administered_by(request.user).filter(pk=pk).first()
    if district is None:
        raise Http404("No such district.")
    form = _report_form(request, district.pk, DistrictReportForm, ("schools",))
    if not form.is_valid():
        return _refused(form)
    filters = form.cleaned_data
    periods = _periods(district.pk, form)
    if filters["format"] == "csv":
        report = district_report(
            district, periods=periods, subject=filters["subject"], sort=filters["sort"]
        )
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([f"{district.name}, schools, {report.month:%B %Y}"])
        writer.writerow([report.rule])
        writer.writerows(district_csv_rows(report))
        return csv_response(buffer.getvalue(), f"district-{district.pk}-{report.month:%Y-%m}.csv")
    return render(
        request,
        "dashboard/district_schools.html",
        {
            "district": district,
            "report_body": _district_report_body(
                district, periods, filters["subject"], filters["sort"]
            ),
        },
    )


def _district_report_body(
    district: District, periods: ReportPeriods, subject: str, sort: str
) -> SafeString:
    """The district report's HTML, kept until the district's rollups change, as the school
    report's is (_school_report_body)."""

    def build() -> SafeString:
        report = district_report(district, periods=periods, subject=subject, sort=sort)
        base_query = _filter_query(report)
        sorts = []
        for column, title in (
            ("name", "School"),
            ("students", "Students measured"),
            ("proficiency", "Proficiency"),
            ("growth", "Growth"),
        ):
            # A header's link sorts by its column, or the other way round when it already does.
            next_sort = f"-{column}" if report.sort == column else column
            state = {column: "ascending", f"-{column}": "descending"}.get(report.sort, "none")
            sorts.append(
                {
                    "title": title,
                    "url": "?" + urlencode({**base_query, "sort": next_sort}),
                    "state": state,
                    "numeric": column != "name",
                }
            )
        return render_to_string(
            "dashboard/_district_report_body.html",
            {
                "report": report,
                "base_query": urlencode(base_query),
                "query": urlencode({**base_query, "sort": report.sort}),
                "sorts": sorts,
                "school_chart": district_chart(report),
                "trend_chart": trend_chart(report.trend, "the district"),
                # A bar's school opens as the table's link does (dashboard.js fills in the key).
                "school_url": school_url_template(urlencode(base_query)),
            },
        )

    return cached(
        (
            "district-report",
            district.pk,
            repr(periods),
            subject,
            sort,
            timezone.localdate(),
            report_versions(district.pk),
        ),
        build,
    )
