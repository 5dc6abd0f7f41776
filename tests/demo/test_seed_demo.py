"""seed_demo: a realistic district at the stated ratios, the same for a seed, never duplicated."""

import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from accounts.access import sections_visible_to, students_visible_to
from accounts.models import Role, RoleMembership, User
from demo import district as demo
from demo.district import DEMO_LOGINS, DEMO_PASSWORD, GRADES
from privacy.models import AccessLogEntry
from privacy.services import access_log_record
from rights.models import AnnualNotice
from students.models import (
    AcademicSession,
    ContactDetail,
    ContactKind,
    District,
    Enrollment,
    Guardian,
    GuardianRelationship,
    ProgramParticipation,
    School,
    SchoolLevel,
    Section,
    SectionAssignment,
    SessionKind,
    Staff,
    StaffKind,
    StaffSchoolAssignment,
    Student,
    StudentSchoolMembership,
)

pytestmark = pytest.mark.django_db

SEED = 11


@pytest.fixture(autouse=True)
def roster_steps_only(monkeypatch) -> None:
    """These tests are about the district's people and rosters: the year's scores and records
    (tests/demo/test_demo_year.py, test_demo_records.py, test_seed_scores.py) are left out, which
    keeps each build to seconds."""
    monkeypatch.setattr(
        demo,
        "SEED_STEPS",
        [step for step in demo.SEED_STEPS if step.name not in {"assessments", "records"}],
    )


@dataclass
class Output:
    stdout: str
    stderr: str


def seed(**options: object) -> Output:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("seed_demo", stdout=stdout, stderr=stderr, **options)
    return Output(stdout.getvalue(), stderr.getvalue())


def fingerprint() -> tuple:
    """Names and source ids of students and guardians, who relates to whom, who sits where."""
    return (
        sorted(
            Student.objects.values_list(
                "source_id", "first_name", "middle_name", "last_name", "birth_date"
            )
        ),
        sorted(Guardian.objects.values_list("source_id", "first_name", "last_name")),
        sorted(
            GuardianRelationship.objects.values_list(
                "guardian__source_id", "student__source_id", "relationship", "portal_access"
            )
        ),
        sorted(Enrollment.objects.values_list("student__source_id", "section__source_id")),
        sorted(Staff.objects.values_list("source_id", "first_name", "last_name", "title")),
        sorted(School.objects.values_list("source_id", "name")),
    )


def current_rate(program: str, students: int) -> float:
    participants = (
        ProgramParticipation.objects.current()
        .filter(program=program)
        .values("student_id")
        .distinct()
        .count()
    )
    return participants / students


@pytest.mark.parametrize("students", [300, 700])
def test_the_district_has_the_stated_shape_and_ratios(students: int) -> None:
    seed(students=students, seed=SEED)
    district = District.objects.get(source_system="demo", source_id="district")
    assert Student.objects.filter(district=district).count() == students

    # Schools: at least one of each level, with their grade levels.
    levels = Counter(School.objects.values_list("level", flat=True))
    assert levels[SchoolLevel.ELEMENTARY] >= 1
    assert levels[SchoolLevel.MIDDLE] >= 1
    assert levels[SchoolLevel.HIGH] >= 1
    assert sum(levels.values()) == max(3, round(students / 570))
    elementary = School.objects.filter(level=SchoolLevel.ELEMENTARY).first()
    assert elementary is not None
    assert elementary.grade_levels == ["KG", "01", "02", "03", "04", "05"]

    # About 15 students per teacher.
    teachers = Staff.objects.filter(kind=StaffKind.TEACHER).count()
    assert 10 <= students / teachers <= 20

    # Every section holds 20-26 students (the generator's guarantee from 260 students up).
    sizes = list(Section.objects.annotate(n=Count("enrollments")).values_list("n", flat=True))
    assert 20 <= statistics.mean(sizes) <= 26
    assert min(sizes) >= 20
    assert max(sizes) <= 26

    # Elementary: a homeroom meeting as Math and ELA; middle and high: four subject sections,
    # each in a different period.
    schedules: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for student_id, level, subject, period in Enrollment.objects.values_list(
        "student_id", "section__school__level", "section__subject", "section__period"
    ):
        schedules[student_id].append((level, subject, period))
    assert len(schedules) == students
    for schedule in schedules.values():
        level = schedule[0][0]
        subjects = sorted(subject for _, subject, _ in schedule)
        if level == SchoolLevel.ELEMENTARY:
            assert subjects == ["English Language Arts", "Mathematics"]
        else:
            assert len(subjects) == 4
            assert len(set(subjects)) == 4
            assert len({period for _, _, period in schedule}) == 4

    # One primary teacher per section; a few co-teachers.
    primaries = Counter(
        SectionAssignment.objects.filter(is_primary=True).values_list("section_id", flat=True)
    )
    assert set(primaries.values()) == {1}
    assert len(primaries) == len(sizes)
    assert SectionAssignment.objects.filter(is_primary=False).exists()

    # Each school has a principal and an assistant principal; the district has its own staff.
    for school in School.objects.all():
        titles = set(
            StaffSchoolAssignment.objects.filter(
                school=school, staff__kind=StaffKind.ADMINISTRATOR
            ).values_list("position", flat=True)
        )
        assert {"Principal", "Assistant Principal"} <= titles
    assert Staff.objects.filter(kind=StaffKind.DISTRICT).count() >= 6

    # Memberships: one school, the grade matches the birth date.
    year = AcademicSession.objects.get(kind=SessionKind.SCHOOL_YEAR)
    memberships = StudentSchoolMembership.objects.select_related("student")
    assert memberships.count() == students
    on = date(year.school_year - 1, 9, 1)
    for membership in memberships:
        born = membership.student.birth_date
        assert born is not None
        age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
        assert age - GRADES.index(membership.grade_level) in (5, 6)

    # Families: everyone has a guardian; siblings share guardians; some children live in two
    # households; about 2% of guardians are contact-restricted and none has portal access.
    assert not Student.objects.filter(guardian_relationships__isnull=True).exists()
    children_per_guardian = Counter(
        GuardianRelationship.objects.values_list("guardian_id", flat=True)
    )
    assert max(children_per_guardian.values()) >= 2
    guardian_homes: dict[int, set[str]] = defaultdict(set)
    homes = dict(
        ContactDetail.objects.filter(kind=ContactKind.ADDRESS, guardian__isnull=False).values_list(
            "guardian_id", "value_hash"
        )
    )
    for guardian_id, student_id in GuardianRelationship.objects.values_list(
        "guardian_id", "student_id"
    ):
        if guardian_id in homes:
            guardian_homes[student_id].add(homes[guardian_id])
    assert any(len(addresses) >= 2 for addresses in guardian_homes.values())
    restricted = GuardianRelationship.objects.filter(contact_restricted=True)
    assert restricted.exists()
    assert not restricted.filter(portal_access=True).exists()
    restricted_share = (
        restricted.values("guardian_id").distinct().count() / Guardian.objects.count()
    )
    assert 0.003 <= restricted_share <= 0.05
    assert GuardianRelationship.objects.filter(portal_access=True).exists()

    # Programs, current today, within loose bands around the stated rates.
    assert 0.07 <= current_rate("iep", students) <= 0.20
    assert 0.005 <= current_rate("504", students) <= 0.07
    assert 0.04 <= current_rate("ell", students) <= 0.18
    assert 0.28 <= current_rate("frl", students) <= 0.52
    assert 0.02 <= current_rate("gifted", students) <= 0.13
    # English learners come mostly from homes where English is not the language.
    learners = (
        ProgramParticipation.objects.current()
        .filter(program="ell")
        .values_list("student__home_language", flat=True)
    )
    assert sum(1 for language in learners if language != "English") > len(learners) * 0.8
    assert Counter(Student.objects.values_list("home_language", flat=True))["English"] > (
        students * 0.6
    )


def test_the_school_year_contains_today_with_semesters_and_grading_periods() -> None:
    seed(students=300, seed=SEED)
    today = timezone.localdate()
    year = AcademicSession.objects.get(kind=SessionKind.SCHOOL_YEAR)
    assert year.start_date <= today <= year.end_date
    semesters = list(year.children.order_by("start_date"))
    assert [s.kind for s in semesters] == [SessionKind.SEMESTER, SessionKind.SEMESTER]
    for semester in semesters:
        periods = list(semester.children.all())
        assert len(periods) == 2
        assert all(p.kind == SessionKind.GRADING_PERIOD for p in periods)
        assert all(
            semester.start_date <= p.start_date <= p.end_date <= semester.end_date for p in periods
        )
    assert set(Section.objects.values_list("session_id", flat=True)) == {year.pk}


def test_records_are_sourced_and_contacts_encrypted_at_rest() -> None:
    seed(students=300, seed=SEED)
    student = Student.objects.get(source_id="stu-000001")
    assert student.source_system == "demo"
    for model in (Student, Guardian, Staff, Section, Enrollment, ContactDetail):
        assert set(model.objects.values_list("source_system", flat=True)) == {"demo"}
        assert not model.objects.filter(source_id="").exists()
    contact = ContactDetail.objects.filter(kind=ContactKind.EMAIL, guardian__isnull=False).first()
    assert contact is not None
    assert contact.value.endswith(("@example.com", "@example.net", "@example.org"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT value FROM {ContactDetail._meta.db_table} WHERE id = %s", [contact.pk]
        )
        (stored,) = cursor.fetchone()
    assert contact.value not in stored
    assert contact.value_hash
    phones = ContactDetail.objects.filter(kind=ContactKind.PHONE)[:20]
    assert all(" 555-01" in phone.value for phone in phones)


def test_the_same_seed_builds_the_same_district_and_running_twice_duplicates_nothing() -> None:
    first = seed(students=300, seed=SEED)
    assert "parent@example.org" in first.stdout
    built = fingerprint()
    counts = {model: model.objects.count() for model in (Student, Guardian, Section, User)}

    again = seed(students=300, seed=SEED)
    assert "already exists" in again.stderr
    assert again.stdout == ""
    assert {model: model.objects.count() for model in counts} == counts
    assert District.objects.filter(source_system="demo").count() == 1

    # Somebody looked at a student: the access log outlives the reset.
    looked_at = Student.objects.first()
    assert looked_at is not None
    access_log_record(
        actor=User.objects.get(email=DEMO_LOGINS["teacher"]),
        role=Role.TEACHER,
        what="student record",
        students=[looked_at],
    )
    seed(students=300, seed=SEED, reset=True)
    assert fingerprint() == built
    assert {model: model.objects.count() for model in counts} == counts
    assert AccessLogEntry.objects.count() == 1

    seed(students=300, seed=SEED + 1, reset=True)
    assert fingerprint() != built
    assert District.objects.count() == 1
    assert Student.objects.count() == 300


def test_the_demo_logins_sign_in_and_see_their_own(client) -> None:
    output = seed(students=300, seed=SEED)
    for email in DEMO_LOGINS.values():
        assert email in output.stdout
        response = client.post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        # Home, or for the parent the family portal's list of their children that it sends to.
        assert client.get("/", follow=True).status_code == 200
        client.logout()

    teacher = User.objects.get(email=DEMO_LOGINS["teacher"])
    principal = User.objects.get(email=DEMO_LOGINS["principal"])
    parent = User.objects.get(email=DEMO_LOGINS["parent"])
    district_user = User.objects.get(email=DEMO_LOGINS["district"])

    # The teacher teaches several sections at the principal's school.
    teacher_sections = Section.objects.filter(assignments__staff=teacher.staff_record_id)
    assert teacher_sections.count() >= 2
    assert set(sections_visible_to(teacher)) >= set(teacher_sections)
    first_section = teacher_sections.first()
    assert first_section is not None
    school = first_section.school
    assert school.level in (SchoolLevel.ELEMENTARY, SchoolLevel.MIDDLE)
    assert RoleMembership.objects.filter(
        user=principal, role=Role.PRINCIPAL, school=school
    ).exists()
    assert principal.staff_record is not None
    assert principal.staff_record.kind == StaffKind.ADMINISTRATOR
    assert StaffSchoolAssignment.objects.filter(
        staff=principal.staff_record, school=school, position="Principal"
    ).exists()
    assert RoleMembership.objects.filter(
        user=district_user, role=Role.DISTRICT_STAFF, district__source_system="demo"
    ).exists()
    # The district login is also the privacy officer, and has published the year's notice.
    assert RoleMembership.objects.filter(
        user=district_user, role=Role.PRIVACY_OFFICER, district__source_system="demo"
    ).exists()
    notice = AnnualNotice.objects.get()
    assert notice.published_by == district_user and "inspect and review" in notice.body

    # The parent has two children with portal access; the teacher teaches one of them.
    relationships = GuardianRelationship.objects.filter(guardian=parent.guardian_record)
    assert relationships.count() == 2
    assert all(r.portal_access and not r.contact_restricted for r in relationships)
    children = {r.student_id for r in relationships}
    assert set(students_visible_to(parent).values_list("pk", flat=True)) == children
    taught = Enrollment.objects.filter(student_id__in=children, section__in=teacher_sections)
    assert taught.exists()
    first_taught = taught.first()
    assert first_taught is not None
    assert first_taught.student_id in set(students_visible_to(teacher).values_list("pk", flat=True))

    # The teacher's school publishes their work phone to families, and no one else's.
    assert list(Staff.objects.filter(publish_phone_to_families=True)) == [teacher.staff_record]
    client.force_login(parent)
    teachers_page = client.get(f"/family/children/{first_taught.student_id}/teachers/")
    assert teachers_page.status_code == 200
    assert 'href="tel:' in teachers_page.content.decode()


def test_too_few_students_is_refused() -> None:
    with pytest.raises(CommandError):
        seed(students=10)
    assert not District.objects.exists()


def test_the_school_year_follows_the_given_day_and_later_steps_plug_in(monkeypatch) -> None:
    seen: dict[str, int] = {}

    def assessments_step(build: demo.DemoBuild) -> None:
        # A later step finds the students already written, and the logins not yet made.
        seen["students"] = Student.objects.filter(district=build.district).count()
        seen["users"] = User.objects.count()

    demo.seed_step_register("assessments", assessments_step)
    names = [step.name for step in demo.SEED_STEPS]
    # The lesson plans come last: the demo teacher's login writes them (demo.lessons).
    assert names.index("assessments") < names.index("logins") < names.index("lessons")
    assert names[-1] == "lessons"
    built = demo.build_demo_district(students=300, seed=SEED, today=date(2030, 3, 2))

    assert seen == {"students": 300, "users": 0}
    year = AcademicSession.objects.get(pk=built.school_year_id)
    assert (year.school_year, year.start_date, year.end_date) == (
        2030,
        date(2029, 7, 1),
        date(2030, 6, 30),
    )
    assert set(built.login_user_ids) == set(DEMO_LOGINS)
    assert len(built.parent_student_ids) == 2


def test_the_seed_ends_by_analysing_the_tables_it_filled() -> None:
    output = seed(students=300, seed=SEED)
    assert "seed_demo: analysed" in output.stderr
    analysed = demo.demo_tables_analyze()
    for table in ("students_student", "students_enrollment", "assessments_score"):
        assert table in analysed
