"""The rollup reports across pages and over time (issue 19): a number reads the same wherever it
is shown (a school's total on the district page and on its own report; a grade's subgroups on the
grade's report and the school's), and the reports read an as-of date, a term and last year."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from assessments.models import MasteryEstimate, MasteryEstimateHistory
from rollups.services import rollups_rebuild
from students.models import AcademicSession, ProgramParticipation, SessionKind
from tests.conftest import World
from tests.dashboard.test_school_report import (
    NOW,
    _district_page,
    _measured,
    _page,
    _row,
    _schools_of_12_9_11,
    _standard,
    _today,  # noqa: F401  # the frozen clock, autouse
)

pytestmark = pytest.mark.django_db


def test_a_school_hidden_on_the_district_page_is_hidden_on_its_own(
    client: Client, world: World
) -> None:
    """Schools of 12, 9 and 11: the district page hides the 9 and, to protect it, the 11. The 11
    school's own report must not show its 11 either (nor its one grade, which is all of it),
    or the district's 32 minus 12 and 11 gives the 9 away."""
    third = _schools_of_12_9_11(world)
    assert "not shown" in _row(_district_page(client, world).content.decode(), third.name)
    html = client.get(reverse("students:school_detail", args=[third.pk])).content.decode()
    summary = html.split('class="report-summary"')[1].split("</dl>")[0]
    assert ">11<" not in summary and "not shown" in summary
    grade = _row(html, "Grade 4")
    assert ">11<" not in grade and "not shown" in grade
    # The shown school reads its 12 on both pages.
    assert ">12<" in _row(_district_page(client, world).content.decode(), world.school.name)
    own = client.get(reverse("students:school_detail", args=[world.school.pk])).content.decode()
    assert ">12<" in own.split('class="report-summary"')[1].split("</dl>")[0]


def test_a_grades_small_subgroup_cannot_be_read_off_the_schools(
    client: Client, world: World
) -> None:
    """Grades 3, 4 and 5 of 20 each, with 5, 10 and 10 on an IEP: the school's 25 is shown, so
    grade 3's 5 (hidden on its page) must not be 25 minus grades 4's and 5's shown 10s."""
    standard = _standard(world, "MATH.1", "Mathematics")
    for grade, iep in (("03", 5), ("04", 10), ("05", 10)):
        for student in _measured(world, grade, 20, standard)[:iep]:
            ProgramParticipation.objects.create(
                district=world.district, student=student, program="iep"
            )
    rollups_rebuild(world.district.pk, today=NOW.date())
    assert "25 (100% proficient)" in _row(_page(client, world).content.decode(), "IEP")
    rows = {
        grade: _row(_page(client, world, grade=grade).content.decode(), "IEP")
        for grade in ("03", "04", "05")
    }
    assert "fewer than 10" in rows["03"]
    hidden_10s = [grade for grade in ("04", "05") if "not shown" in rows[grade]]
    assert hidden_10s, rows  # one of the 10s is hidden as well
    for grade in hidden_10s:
        assert "10 (" not in rows[grade]


def _term(world: World, title: str, kind: str, start: dt.date, end: dt.date) -> AcademicSession:
    return AcademicSession.objects.create(
        district=world.district,
        title=title,
        kind=kind,
        school_year=2027,
        start_date=start,
        end_date=end,
    )


def _history(student_ids: list[int], standard_id: int, level: int, day: dt.date) -> None:
    for student_id in student_ids:
        MasteryEstimateHistory.objects.create(
            student_id=student_id,
            standard_id=standard_id,
            level=level,
            evidence_count=1,
            method="test",
            as_of=day,
            recorded_at=dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC),
        )


@pytest.fixture
def grade_4_rising(world: World) -> dict[str, AcademicSession]:
    """Twelve fourth-graders below mastery in September, at it from October 15 on; the school
    year and its second term (from October) recorded as sessions."""
    standard = _standard(world, "MATH.1", "Mathematics")
    ids = [s.pk for s in _measured(world, "04", 12, standard, level=3)]
    _history(ids, standard.pk, 1, dt.date(2026, 9, 15))
    _history(ids, standard.pk, 3, dt.date(2026, 10, 15))
    sessions = {
        "year": _term(
            world, "2026–27", SessionKind.SCHOOL_YEAR, dt.date(2026, 8, 20), dt.date(2027, 6, 15)
        ),
        "autumn": _term(
            world, "Term 2", SessionKind.TERM, dt.date(2026, 10, 1), dt.date(2026, 12, 18)
        ),
        "first": _term(
            world, "Term 1", SessionKind.TERM, dt.date(2026, 8, 20), dt.date(2026, 9, 30)
        ),
    }
    rollups_rebuild(world.district.pk, today=NOW.date())
    return sessions


def test_growth_runs_over_the_term_chosen(
    client: Client, world: World, grade_4_rising: dict[str, AcademicSession]
) -> None:
    year = _page(client, world).content.decode()
    assert "+100 points" in _row(year, "Grade 4")  # September's 0% to December's 100%
    assert "growth over 2026–27" in year
    autumn = _page(client, world, term=str(grade_4_rising["autumn"].pk)).content.decode()
    row = _row(autumn, "Grade 4")
    assert "no change" in row and "+100" not in row  # October's 100% to December's
    assert "from October 2026, the first month of Term 2 counted" in autumn
    # A term that has ended reads from its start to its end: Term 1 is August to September.
    first = _page(client, world, term=str(grade_4_rising["first"].pk)).content.decode()
    assert "September 2026" in first.split('class="meta"')[1].split("</p>")[0]
    # Every term of the district is on offer, and the link keeps the one chosen.
    for session in grade_4_rising.values():
        assert f'<option value="{session.pk}"' in year
    assert f"term={grade_4_rising['autumn'].pk}" in autumn


def test_as_of_a_date_reads_the_last_month_completed_by_then(
    client: Client, world: World, grade_4_rising: dict[str, AcademicSession]
) -> None:
    mid_november = _page(client, world, as_of="2026-11-15").content.decode()
    assert "October 2026" in mid_november.split('class="meta"')[1].split("</p>")[0]
    assert "as of 15 November 2026 the report shows the end of October 2026" in mid_november
    end_of_november = _page(client, world, as_of="2026-11-30").content.decode()
    assert "November 2026" in end_of_november.split('class="meta"')[1].split("</p>")[0]
    # Mid-October: the end of September, when the twelve were below mastery.
    september = _page(client, world, as_of="2026-10-14").content.decode()
    assert "September 2026" in september.split('class="meta"')[1].split("</p>")[0]
    assert ">0%<" in _row(september, "Grade 4")
    # Mid-September reads August, which the rollups do not hold: refused, and said so.
    august = _page(client, world, as_of="2026-09-20")
    assert august.status_code == 400 and "as_of: There are no counts" in august.content.decode()


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"as_of": "2026-13-01"}, "as_of"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"as_of": "2031-01-01"}, "as_of"),
        ({"as_of": "1850-01-01"}, "as_of"),
        ({"term": "999999"}, "term"),
        ({"term": "-3"}, "term"),
    ],
)
def test_a_bad_date_or_term_is_a_400_that_names_it(
    client: Client,
    world: World,
    grade_4_rising: dict[str, AcademicSession],
    params: dict[str, str],
    named: str,
) -> None:
    for response in (_page(client, world, **params), _district_page(client, world, **params)):
        assert response.status_code == 400
        assert named in response.content.decode()


def test_a_term_not_yet_started_by_the_date_is_refused(
    client: Client, world: World, grade_4_rising: dict[str, AcademicSession]
) -> None:
    response = _page(client, world, as_of="2026-09-30", term=str(grade_4_rising["autumn"].pk))
    assert response.status_code == 400
    assert "That term starts after 30 September 2026" in response.content.decode()


def test_last_year_is_shown_beside_now_where_the_rollups_hold_it(
    client: Client, world: World
) -> None:
    """December 2025 counted (the twelve below mastery then), then this year's December (all at
    mastery): the report sets 100% now beside 0% last year, on the school's page and the
    district's, in the CSV too; a grade without last year's counts shows a dash."""
    standard = _standard(world, "MATH.1", "Mathematics")
    students = _measured(world, "04", 12, standard, level=1)
    rollups_rebuild(world.district.pk, today=dt.date(2025, 12, 10))
    MasteryEstimate.objects.filter(student__in=students).update(level=3)
    _measured(world, "05", 10, standard, level=3)  # new this year
    rollups_rebuild(world.district.pk, today=NOW.date())

    html = _page(client, world).content.decode()
    grade = _row(html, "Grade 4")
    assert grade.count("100%") >= 1 and grade.rstrip().endswith("0%</td>")
    assert "the same month a year before (December 2025)" in html
    csv_text = _page(client, world, format="csv", table="grades").content.decode()
    assert csv_text.splitlines()[2].endswith("Proficiency last year")
    assert csv_text.splitlines()[3].endswith(",0%")
    district = _row(_district_page(client, world).content.decode(), world.school.name)
    assert district.rstrip().endswith("0%</td>")
    # Grade 5 had nobody measured a year before: a dash.
    assert _row(html, "Grade 5").rstrip().endswith("—</td>")
