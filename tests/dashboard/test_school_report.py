"""The school report (issue 19) on /schools/<id>/: read from the rollups, every cell suppressed
together (groups of 9 hidden, 10 and 11 shown; a complementary cell where a total would give a
hidden one away), on the page and in the CSV; filters checked (a bad one is a 400); the drill-down
list names exactly the students a count counts and logs only them; subgroups against the rest
with the gap's standard error; growth; the district staff's schools side by side (sorted by
?sort=, hidden cells last); access both ways."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from assessments.models import MasteryEstimate, MasteryEstimateHistory, Standard
from dashboard.selectors.school import Gap, gap_change_label, proportion_gap, school_overview
from privacy.models import AccessLogEntry
from rollups.services import rollups_rebuild
from rollups.suppression import rule_sentence
from students.models import ProgramParticipation, School, Student, StudentSchoolMembership
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 10, 12, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def _measured(
    world: World, grade: str, count: int, standard: Standard, level: int = 3
) -> list[Student]:
    students = []
    for _ in range(count):
        student = factories.StudentFactory.create(district=world.district)
        StudentSchoolMembership.objects.create(
            district=world.district, student=student, school=world.school, grade_level=grade
        )
        MasteryEstimate.objects.create(student=student, standard=standard, level=level)
        students.append(student)
    return students


def _standard(world: World, code: str, subject: str) -> Standard:
    return Standard.objects.create(district=world.district, code=code, subject=subject)


def _grades_of_9_10_11(world: World) -> dict[str, list[Student]]:
    """Grades 3, 4 and 5 with 9, 10 and 11 students measured, which add up to the school's 30."""
    standard = _standard(world, "MATH.1", "Mathematics")
    made = {
        "03": _measured(world, "03", 9, standard),
        "04": _measured(world, "04", 10, standard),
        "05": _measured(world, "05", 11, standard),
    }
    rollups_rebuild(world.district.pk, today=NOW.date())
    return made


def _subjects_of_9_10_11(world: World) -> dict[str, list[Student]]:
    """One grade of 30, measured in three subjects by 9, 10 and 11 of them (no total to add up:
    the subjects of a student overlap)."""
    made = {}
    for subject, count in (("Art", 9), ("Biology", 10), ("Chemistry", 11)):
        made[subject] = _measured(world, "06", count, _standard(world, f"{subject}.1", subject))
    rollups_rebuild(world.district.pk, today=NOW.date())
    return made


def _page(client: Client, world: World, **params: str):
    client.force_login(world.principal)
    return client.get(reverse("students:school_detail", args=[world.school.pk]), params)


def _row(html: str, label: str) -> str:
    """The table row whose heading cell names `label`."""
    for row in html.split("<tr>")[1:]:
        row = row.split("</tr>")[0]
        if row.strip().startswith('<th scope="row">') and f">{label}<" in row:
            return row
    raise AssertionError(f"no row for {label}")


def test_a_subject_of_9_is_hidden_and_subjects_of_10_and_11_are_shown(
    client: Client, world: World
) -> None:
    _subjects_of_9_10_11(world)
    response = _page(client, world)
    assert response.status_code == 200
    html = response.content.decode()
    assert rule_sentence(10) in html
    art, biology, chemistry = (_row(html, s) for s in ("Art", "Biology", "Chemistry"))
    assert "fewer than 10" in art and ">9<" not in art and "%" not in art
    assert ">10<" in biology and "100%" in biology
    assert ">11<" in chemistry and "100%" in chemistry
    # Nothing is logged for a page of aggregates only.
    assert not AccessLogEntry.objects.exists()


def test_the_csv_hides_the_same_cells_in_words(client: Client, world: World) -> None:
    _subjects_of_9_10_11(world)
    response = _page(client, world, format="csv", table="subjects")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    by_name = {line.split(",")[0]: line for line in lines}
    assert by_name["Art"].startswith("Art,,fewer than 10,not shown,not shown,")
    assert ",9," not in by_name["Art"]
    assert by_name["Biology"].startswith("Biology,,10,10 (100%),100%")
    assert by_name["Chemistry"].startswith("Chemistry,,11,11 (100%),100%")


def test_a_total_hides_one_more_grade_so_the_small_one_cannot_be_worked_out(
    client: Client, world: World
) -> None:
    _grades_of_9_10_11(world)
    html = _page(client, world).content.decode()
    assert "fewer than 10" in _row(html, "Grade 3")
    # Grade 4's 10 students are shown nowhere: 30 - 11 - 10 would give grade 3's 9.
    assert "not shown" in _row(html, "Grade 4") and ">10<" not in _row(html, "Grade 4")
    assert ">11<" in _row(html, "Grade 5")
    csv_text = _page(client, world, format="csv", table="grades").content.decode()
    assert "Grade 4,,not shown" in csv_text and "Grade 5,,11," in csv_text


def test_a_grade_row_links_to_the_page_filtered_by_grade(client: Client, world: World) -> None:
    _grades_of_9_10_11(world)
    html = _page(client, world).content.decode()
    assert "?month=2026-12&amp;grade=05" in html
    filtered = _page(client, world, month="2026-12", grade="05").content.decode()
    assert "Grade 5" in filtered and ">11<" in filtered


@pytest.mark.parametrize(
    "params",
    [
        {"month": "2026-13"},
        {"month": "December"},
        {"month": "1999-01"},
        {"subject": "Alchemy"},
        {"grade": "99"},
        {"format": "csv", "table": "nonsense"},
        {"format": "pdf"},
    ],
)
def test_a_bad_filter_is_a_clear_400(client: Client, world: World, params: dict) -> None:
    _subjects_of_9_10_11(world)
    response = _page(client, world, **params)
    assert response.status_code == 400
    assert b"The school report cannot show that" in response.content


def test_the_drill_down_lists_exactly_the_counted_students_and_logs_only_them(
    client: Client, world: World
) -> None:
    made = _subjects_of_9_10_11(world)
    # Someone in the school measured below mastery: counted as measured, not as proficient.
    chemistry = Standard.objects.get(code="Chemistry.1")
    weak = _measured(world, "06", 1, chemistry, level=1)[0]
    rollups_rebuild(world.district.pk, today=NOW.date())
    client.force_login(world.principal)
    url = reverse("dashboard:school_counted_students", args=[world.school.pk])
    response = client.get(url, {"month": "2026-12", "subject": "Art"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    for student in made["Art"]:
        assert student.sort_name in html
    for student in made["Biology"] + [weak]:
        assert student.sort_name not in html
    logged = set(AccessLogEntry.objects.values_list("student_id", flat=True))
    assert logged == {s.pk for s in made["Art"]}

    before = AccessLogEntry.objects.count()
    response = client.get(url, {"month": "2026-12", "subject": "Chemistry", "proficient": "on"})
    html = response.content.decode()
    assert weak.sort_name not in html
    assert {s.pk for s in made["Chemistry"]} == set(
        AccessLogEntry.objects.order_by("pk")[before:].values_list("student_id", flat=True)
    )
    measured = client.get(url, {"month": "2026-12", "subject": "Chemistry"}).content.decode()
    assert weak.sort_name in measured


def test_the_page_links_each_count_to_its_list(client: Client, world: World) -> None:
    _subjects_of_9_10_11(world)
    html = _page(client, world).content.decode()
    list_url = reverse("dashboard:school_counted_students", args=[world.school.pk])
    assert f"{list_url}?month=2026-12&amp;subject=Art" in html
    assert f"{list_url}?month=2026-12&amp;subject=Biology&amp;proficient=on" in html


@pytest.mark.parametrize("role", ["principal", "district_staff"])
def test_the_schools_principal_and_district_staff_see_the_report(
    client: Client, world: World, role: str
) -> None:
    _subjects_of_9_10_11(world)
    client.force_login(world.users_by_role()[role])
    assert client.get(reverse("students:school_detail", args=[world.school.pk])).status_code == 200
    url = reverse("dashboard:school_counted_students", args=[world.school.pk])
    assert client.get(url, {"subject": "Art"}).status_code == 200


@pytest.mark.parametrize("role", ["teacher", "guardian", "outsider"])
def test_teachers_and_guardians_get_404_on_every_rollup_url(
    client: Client, world: World, role: str
) -> None:
    _subjects_of_9_10_11(world)
    client.force_login(world.users_by_role()[role])
    for url in (
        reverse("students:school_detail", args=[world.school.pk]),
        reverse("students:school_detail", args=[world.school.pk]) + "?format=csv&table=grades",
        reverse("dashboard:school_counted_students", args=[world.school.pk]),
    ):
        assert client.get(url).status_code == 404
    assert not AccessLogEntry.objects.exists()


def test_a_principal_gets_404_for_another_school(client: Client, world: World) -> None:
    client.force_login(world.principal)
    for url in (
        reverse("students:school_detail", args=[world.other_school.pk]),
        reverse("dashboard:school_counted_students", args=[world.other_school.pk]),
    ):
        assert client.get(url).status_code == 404


def test_the_gap_and_its_standard_error_are_those_of_two_proportions() -> None:
    gap = proportion_gap(3, 10, 14, 20)
    assert gap is not None
    assert gap.points == pytest.approx(40.0)
    # sqrt(0.3 * 0.7 / 10 + 0.7 * 0.3 / 20) = sqrt(0.0315)
    assert gap.standard_error == pytest.approx(100 * 0.0315**0.5)
    assert proportion_gap(0, 0, 3, 4) is None


def test_a_gap_widens_or_narrows_only_beyond_its_standard_error() -> None:
    error = 10.0  # each month's: the change's is sqrt(2) * 10, about 14.1
    assert gap_change_label(Gap(40, error), Gap(20, error)) == "widening"
    assert gap_change_label(Gap(20, error), Gap(40, error)) == "narrowing"
    assert gap_change_label(Gap(30, error), Gap(20, error)) == "steady"
    assert gap_change_label(Gap(-30, error), Gap(-10, error)) == "widening"


def _with_iep(world: World, iep_count: int) -> None:
    standard = _standard(world, "MATH.1", "Mathematics")
    students = _measured(world, "04", 30, standard)
    for student in students[:iep_count]:
        ProgramParticipation.objects.create(district=world.district, student=student, program="iep")
    rollups_rebuild(world.district.pk, today=NOW.date())


def test_a_subgroup_of_9_is_hidden_and_so_is_its_rest(client: Client, world: World) -> None:
    _with_iep(world, 9)
    html = _page(client, world).content.decode()
    row = _row(html, "IEP")
    assert "fewer than 10" in row and "not shown" in row and ">21" not in row
    csv_text = _page(client, world, format="csv", table="subgroups").content.decode()
    assert "IEP,fewer than 10,not shown" in csv_text


def test_a_subgroup_of_10_is_set_against_the_rest(client: Client, world: World) -> None:
    _with_iep(world, 10)
    row = _row(_page(client, world).content.decode(), "IEP")
    assert "10 (100% proficient)" in row and "20 (100% proficient)" in row
    assert "+0 points" in row


def test_growth_is_proficiency_now_against_the_terms_first_month(
    client: Client, world: World
) -> None:
    standard = _standard(world, "MATH.1", "Mathematics")
    students = _measured(world, "04", 12, standard, level=3)
    for student in students:
        MasteryEstimateHistory.objects.create(
            student=student,
            standard=standard,
            level=1,
            evidence_count=1,
            method="test",
            as_of=dt.date(2026, 9, 15),
            recorded_at=dt.datetime(2026, 9, 15, 12, tzinfo=dt.UTC),
        )
    rollups_rebuild(world.district.pk, today=NOW.date())
    row = _row(_page(client, world).content.decode(), "Grade 4")
    assert "0%" in row and "100%" in row and "+100 points" in row


def _schools_of_12_9_11(world: World) -> School:
    """The district's schools (one level) with 12, 9 and 11 students measured."""
    standard = _standard(world, "MATH.1", "Mathematics")
    third = factories.SchoolFactory.create(
        district=world.district, name="Birch Elementary", level=world.school.level
    )
    for school, count in ((world.school, 12), (world.other_school, 9), (third, 11)):
        for _ in range(count):
            student = factories.StudentFactory.create(district=world.district)
            StudentSchoolMembership.objects.create(
                district=world.district, student=student, school=school, grade_level="04"
            )
            MasteryEstimate.objects.create(student=student, standard=standard, level=3)
    rollups_rebuild(world.district.pk, today=NOW.date())
    return third


def _district_page(client: Client, world: World, **params: str):
    client.force_login(world.district_staff)
    return client.get(reverse("dashboard:district_schools", args=[world.district.pk]), params)


def test_the_district_page_sets_schools_side_by_side_suppressed(
    client: Client, world: World
) -> None:
    third = _schools_of_12_9_11(world)
    response = _district_page(client, world)
    assert response.status_code == 200
    html = response.content.decode()
    assert ">12<" in _row(html, world.school.name)
    assert "fewer than 10" in _row(html, world.other_school.name)
    # The level's total is shown, so one more school is hidden: the smaller of 12 and 11.
    assert "not shown" in _row(html, third.name) and ">11<" not in _row(html, third.name)
    assert reverse("students:school_detail", args=[world.school.pk]) in html
    csv_text = _district_page(client, world, format="csv", table="schools").content.decode()
    assert f"{world.other_school.name},fewer than 10" in csv_text
    assert f"{third.name},not shown" in csv_text
    assert ",32," in csv_text  # the district's total
    assert not AccessLogEntry.objects.exists()


def test_the_district_page_sorts_without_a_script_and_hidden_cells_last(
    client: Client, world: World
) -> None:
    third = _schools_of_12_9_11(world)
    html = _district_page(client, world, sort="-students").content.decode()
    names = [world.school.name, world.other_school.name, third.name]
    order = sorted(names, key=html.index)
    assert order[0] == world.school.name  # the only count shown comes first
    by_name = _district_page(client, world, sort="name").content.decode()
    assert sorted(names, key=by_name.index) == sorted(names)
    assert _district_page(client, world, sort="height").status_code == 400


@pytest.mark.parametrize("role", ["principal", "teacher", "guardian", "outsider"])
def test_only_district_staff_see_the_district_page(client: Client, world: World, role: str) -> None:
    client.force_login(world.users_by_role()[role])
    url = reverse("dashboard:district_schools", args=[world.district.pk])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("extra_students", [0, 15])
def test_the_report_reads_the_same_few_queries_whatever_the_students(
    client: Client, world: World, extra_students: int, django_assert_max_num_queries
) -> None:
    _with_iep(world, 10)
    standard = Standard.objects.get(code="MATH.1")
    _measured(world, "05", extra_students, standard)
    rollups_rebuild(world.district.pk, today=NOW.date())
    client.force_login(world.principal)
    url = reverse("students:school_detail", args=[world.school.pk])
    client.get(url)  # the session and the access grants, read once
    # 28 for the report (with the district's family of totals and the terms on offer), 5 for
    # attendance and engagement (none per student, school or month).
    with django_assert_max_num_queries(33):
        assert client.get(url, {"grade": "04"}).status_code == 200


def test_a_grades_subject_row_and_the_schools_decide_together(client: Client, world: World) -> None:
    """Grade 3 has 9 measured in Mathematics and grade 4 has 12: the school page shows the
    school's 21, so the grade 4 page must not show its 12 (21 - 12 is grade 3's 9), in the
    subject's row or the standard's."""
    standard = _standard(world, "MATH.1", "Mathematics")
    _measured(world, "03", 9, standard)
    _measured(world, "04", 12, standard)
    rollups_rebuild(world.district.pk, today=NOW.date())
    school_page = _page(client, world).content.decode()
    assert ">21<" in _row(school_page, "Mathematics")
    grade_page = _page(client, world, grade="04").content.decode()
    math = _row(grade_page, "Mathematics")
    assert "not shown" in math and ">12<" not in math
    # The same for the standard: the school's row and the grade's decide together.
    assert ">21<" in _row(school_page, "MATH.1")
    standard_row = _row(grade_page, "MATH.1")
    assert "not shown" in standard_row and ">12<" not in standard_row


def _enrol(world: World, school: School, grade: str, count: int) -> None:
    for _ in range(count):
        student = factories.StudentFactory.create(district=world.district)
        StudentSchoolMembership.objects.create(
            district=world.district, student=student, school=school, grade_level=grade
        )


def test_enrolment_counts_below_the_minimum_read_fewer_than_10(
    client: Client, world: World
) -> None:
    """The school page's grade counts and the district home's school counts are aggregate cells
    too: 9 reads "fewer than 10", 10 and 11 read as numbers."""
    _enrol(world, world.school, "07", 9)
    _enrol(world, world.school, "08", 10)
    _enrol(world, world.school, "09", 11)
    overview = school_overview(world.school)
    shown_by_grade = {g.code: g.students_shown for g in overview.grade_levels}
    assert shown_by_grade["07"] == "fewer than 10"
    assert shown_by_grade["08"] == "10" and shown_by_grade["09"] == "11"
    client.force_login(world.principal)
    page = client.get(reverse("students:school_detail", args=[world.school.pk])).content.decode()
    assert "fewer than 10" in page

    small = factories.SchoolFactory.create(district=world.district, name="Aspen Annex")
    _enrol(world, small, "05", 9)
    client.force_login(world.district_staff)
    schools = {s.name: s for s in client.get(reverse("home")).context["district_schools"]}
    assert schools["Aspen Annex"].student_count == 9
    assert schools["Aspen Annex"].student_count_shown == "fewer than 10"
    home = client.get(reverse("home")).content.decode()
    row = home[home.index("Aspen Annex") :]
    assert "fewer than 10" in row[: row.index("</tr>")]
