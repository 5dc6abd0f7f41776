"""The family portal's pages about each child (issue 20): the guardian's children, progress in
plain words, grades, attendance (and discipline where the district shows it), teachers, and the
child switcher. Who may open them both ways, each district setting both ways, what they say,
what they log, and a constant number of queries whatever the child's amount of data."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone

from accounts.models import User
from assessments.family_words import parent_description
from assessments.models import (
    Assessment,
    AssessmentPurpose,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryOverride,
    Standard,
    Trend,
)
from assessments.services import ScoreInput, scores_record, section_mastery_release
from demo.mastery import standards_plan
from demo.parent_descriptions import SPANISH
from portal.selectors import trend_in_words
from privacy.models import AccessLogEntry
from students.models import (
    AcademicRecord,
    AttendanceCategory,
    AttendanceEvent,
    ContactDetail,
    ContactKind,
    Course,
    CourseTranscript,
    DisciplineAction,
    DisciplineIncident,
    Enrollment,
    Grade,
    GuardianRelationship,
    Relationship,
    SectionAssignment,
    SessionKind,
    Student,
    StudentDisciplineIncident,
)
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
CHILD_PAGES = ("portal:child_progress", "portal:child_grades", "portal:child_attendance")
ALL_CHILD_PAGES = (*CHILD_PAGES, "portal:child_teachers")


def child_url(name: str, student: Student) -> str:
    return reverse(name, kwargs={"pk": student.pk})


def guardian_user(world: World, student: Student, **relationship: object) -> User:
    """A new guardian of `student` with a login; portal access unless told otherwise."""
    guardian = factories.GuardianFactory.create(district=world.district)
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=guardian,
        student=student,
        relationship=Relationship.FATHER,
        **{"portal_access": True, **relationship},
    )
    return factories.UserFactory.create(guardian_record=guardian)


def second_child(world: World) -> Student:
    """Ada's brother, at another school: the parent now has two children."""
    brother = world.other_school_student
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=world.guardian,
        student=brother,
        relationship=Relationship.MOTHER,
        portal_access=True,
    )
    return brother


def history(world: World, student: Student, standard: Standard, points: list[tuple]) -> None:
    """An estimate and its dated history: points are (as of, level[, recorded at])."""
    for point in points:
        as_of, level = point[0], point[1]
        recorded = (
            point[2]
            if len(point) > 2
            else timezone.make_aware(dt.datetime.combine(as_of, dt.time(18)))
        )
        MasteryEstimateHistory.objects.create(
            student=student,
            standard=standard,
            probability=0.2 * level,
            level=level,
            evidence_count=1,
            method="test",
            as_of=as_of,
            recorded_at=recorded,
        )
    MasteryEstimate.objects.update_or_create(
        student=student,
        standard=standard,
        defaults={"level": points[-1][1], "probability": 0.2 * points[-1][1], "trend": Trend.FLAT},
    )


def days_ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


# --- Who may open them


@pytest.mark.parametrize("name", ALL_CHILD_PAGES)
def test_a_guardian_opens_their_own_childs_pages_and_no_other(
    client: Client, world: World, name: str
) -> None:
    client.force_login(world.parent)
    assert client.get(child_url(name, world.student)).status_code == 200
    # A classmate (another family's child), and a student nobody here follows.
    assert client.get(child_url(name, world.classmate)).status_code == 404
    assert client.get(child_url(name, world.other_section_student)).status_code == 404
    assert client.get(reverse(name, kwargs={"pk": 999_999})).status_code == 404


@pytest.mark.parametrize("name", ALL_CHILD_PAGES)
def test_staff_who_see_the_child_elsewhere_get_404_in_the_portal(
    client: Client, world: World, name: str
) -> None:
    for user in (world.teacher, world.principal, world.district_staff, world.outsider):
        client.force_login(user)
        assert client.get(child_url(name, world.student)).status_code == 404, user


@pytest.mark.parametrize("name", ALL_CHILD_PAGES)
def test_a_guardian_without_portal_access_or_restricted_sees_nothing(
    client: Client, world: World, name: str
) -> None:
    restricted = guardian_user(world, world.student, portal_access=False, contact_restricted=True)
    no_portal = guardian_user(world, world.student, portal_access=False)
    for user in (restricted, no_portal):
        client.force_login(user)
        assert client.get(child_url(name, world.student)).status_code == 404
        assert client.get(reverse("portal:children")).status_code == 404


@pytest.mark.parametrize("name", [*ALL_CHILD_PAGES, "portal:children"])
def test_anonymous_is_sent_to_sign_in(client: Client, world: World, name: str) -> None:
    url = reverse(name) if name == "portal:children" else child_url(name, world.student)
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_a_staff_member_who_is_also_a_guardian_uses_the_portal_for_their_child(
    client: Client, world: World
) -> None:
    guardian = factories.GuardianFactory.create(district=world.district)
    GuardianRelationship.objects.create(
        district=world.district,
        guardian=guardian,
        student=world.student,
        relationship=Relationship.FATHER,
        portal_access=True,
    )
    world.teacher.guardian_record = guardian
    world.teacher.save()
    client.force_login(world.teacher)
    assert client.get(child_url("portal:child_progress", world.student)).status_code == 200
    # The teacher keeps their home, which links the portal, and the profile (they teach Ada).
    home = client.get("/")
    assert home.status_code == 200 and reverse("portal:children") in home.content.decode()
    assert client.get(f"/students/{world.student.pk}/").status_code == 200


# --- Landing, and the profile's address


def test_a_guardian_lands_in_the_portal_and_sees_their_children(
    client: Client, world: World
) -> None:
    brother = second_child(world)
    client.force_login(world.parent)
    home = client.get("/")
    assert home.status_code == 302 and home["Location"] == reverse("portal:children")
    page = client.get(reverse("portal:children")).content.decode()
    for child, school in ((world.student, "Maple Elementary"), (brother, "Oak Elementary")):
        assert child.display_name in page and school in page
        assert child_url("portal:child_progress", child) in page
    assert "Grade 4" in page
    assert world.classmate.display_name not in page
    logged = AccessLogEntry.objects.filter(what="family portal: my children")
    assert sorted(logged.values_list("student_id", flat=True)) == sorted(
        [world.student.pk, brother.pk]
    )


def test_staff_keep_their_home_and_get_404_on_the_childrens_list(
    client: Client, world: World
) -> None:
    for user in (world.teacher, world.principal, world.district_staff):
        client.force_login(user)
        assert client.get("/").status_code == 200
        assert client.get(reverse("portal:children")).status_code == 404


def test_the_profile_address_takes_a_guardian_to_the_portal(client: Client, world: World) -> None:
    client.force_login(world.parent)
    url = f"/students/{world.student.pk}/"
    assert client.get(url)["Location"] == child_url("portal:child_progress", world.student)
    assert client.get(url, {"tab": "grades"})["Location"] == child_url(
        "portal:child_grades", world.student
    )
    assert client.get(url, {"tab": "attendance"})["Location"] == child_url(
        "portal:child_attendance", world.student
    )
    # Another family's child is still a 404, not a redirect that confirms them.
    assert client.get(f"/students/{world.classmate.pk}/").status_code == 404
    # Other roles keep the profile.
    client.force_login(world.teacher)
    assert client.get(url).status_code == 200


# --- Progress


def test_progress_says_each_standard_in_plain_words_with_level_symbol_and_trend(
    client: Client, world: World
) -> None:
    standard = world.standard
    standard.description = "Explain equivalence of fractions with visual models."
    standard.parent_description = "Shows why two fractions can be the same amount."
    standard.parent_description_es = "Muestra por qué dos fracciones pueden ser la misma cantidad."
    standard.save()
    rising = [(days_ago(40), 2), (days_ago(20), 3), (days_ago(5), 4)]
    history(world, world.student, standard, rising)
    scores_record(
        scores=[
            ScoreInput(
                student_id=world.student.pk,
                assessment_id=world.assessment.pk,
                scored_on=days_ago(3),
                points=Decimal("8"),
            )
        ],
        enqueue=False,
    )
    client.force_login(world.parent)
    page = client.get(child_url("portal:child_progress", world.student)).content.decode()
    assert "Shows why two fractions can be the same amount." in page
    assert "Explain equivalence" not in page
    # The level in words with its symbol, and the trend since the first rise of the run.
    assert "★" in page and "Exceeds Mastery" in page
    since = days_ago(20)
    assert f"Improving since {since:%B}" in page
    # Recent scores: the assessment and its date.
    assert "Fractions quiz" in page and "8 of 10" in page
    assert formats.date_format(days_ago(3), "DATE_FORMAT") in page
    row = AccessLogEntry.objects.get(what="family portal: progress")
    assert row.student_id == world.student.pk and row.role == "guardian"
    # In the guardian's language: the standard's Spanish words.
    world.parent.language = "es"
    world.parent.save(update_fields=["language"])
    spanish = client.get(child_url("portal:child_progress", world.student)).content.decode()
    assert "Muestra por qué dos fracciones pueden ser la misma cantidad." in spanish
    assert "Shows why two fractions" not in spanish


def test_a_description_falls_back_to_english_then_to_the_codes_own(world: World) -> None:
    standard = world.standard
    standard.parent_description = "Family words."
    standard.description = "Standard words."
    assert parent_description(standard, "es") == "Family words."
    standard.parent_description_es = "Palabras para la familia."
    assert parent_description(standard, "es") == "Palabras para la familia."
    assert parent_description(standard, "en") == "Family words."
    standard.parent_description = standard.parent_description_es = ""
    assert parent_description(standard, "es") == "Standard words."
    standard.description = ""
    assert parent_description(standard, "es") == standard.code


@pytest.mark.parametrize(
    ("levels", "kind", "since"),
    [
        ([], "", None),
        ([(60, 2), (30, 2)], "steady", None),
        ([(60, 1), (30, 2), (10, 3)], "improving", 30),
        ([(60, 3), (30, 4), (20, 3), (5, 2)], "slipping", 20),
        # The last change was long ago: steady since then.
        ([(120, 1), (90, 3), (10, 3)], "steady", 90),
        # No evidence rows count for nothing.
        ([(60, 0), (30, 2), (10, 1)], "slipping", 10),
    ],
)
def test_a_trend_in_words(levels: list, kind: str, since: int | None) -> None:
    trend = trend_in_words(
        [(days_ago(days), level) for days, level in levels], today=TODAY, no_evidence=0
    )
    assert trend.kind == kind
    assert trend.since == (days_ago(since) if since is not None else None)
    assert bool(trend.text) == bool(kind)


def test_always_shows_levels_as_they_stand(client: Client, world: World) -> None:
    history(world, world.student, world.standard, [(days_ago(30), 1), (days_ago(2), 3)])
    client.force_login(world.parent)
    page = client.get(child_url("portal:child_progress", world.student)).content.decode()
    assert "Mastery" in page and "✓" in page
    assert "When levels appear here" not in page


def test_released_shows_nothing_before_a_release_and_says_so(client: Client, world: World) -> None:
    world.district.guardians_see_mastery = "released"
    world.district.save()
    history(world, world.student, world.standard, [(days_ago(30), 1), (days_ago(2), 3)])
    client.force_login(world.parent)
    page = client.get(child_url("portal:child_progress", world.student)).content.decode()
    assert "No levels have been released to families yet." in page
    assert "Grade 4 Math: no levels released yet." in page
    assert "Below Mastery</strong>" not in page and "Mastery</strong>" not in page
    assert "One more standard has a level that is not released yet." in page


def test_released_shows_the_levels_as_of_the_release(client: Client, world: World) -> None:
    world.district.guardians_see_mastery = "released"
    world.district.save()
    released_at = timezone.now() - dt.timedelta(days=10)
    history(
        world,
        world.student,
        world.standard,
        [
            (days_ago(40), 1),
            (days_ago(15), 2),
            # Recorded after the release: a late score dated before it changes nothing shown.
            (days_ago(12), 4, timezone.now() - dt.timedelta(days=1)),
        ],
    )
    # An override the teacher set after the release does not show either.
    MasteryOverride.objects.create(
        student=world.student, standard=world.standard, level=4, note="Seen in class"
    )
    world.section.mastery_released_at = released_at
    world.section.save()
    client.force_login(world.parent)
    page = client.get(child_url("portal:child_progress", world.student)).content.decode()
    assert "<strong>Near Mastery</strong>" in page
    assert "Exceeds Mastery</strong>" not in page and "set by the teacher" not in page
    assert f"Improving since {days_ago(15):%B}" in page
    assert "levels released on" in page


def test_a_teacher_releases_their_sections_levels(client: Client, world: World) -> None:
    url = reverse("dashboard:section_release_levels", kwargs={"pk": world.section.pk})
    section_page = reverse("students:section_detail", kwargs={"pk": world.section.pk})
    client.force_login(world.teacher)
    # Only where the district shows levels once released does the section page offer it.
    assert "Release levels to families" not in client.get(section_page).content.decode()
    world.district.guardians_see_mastery = "released"
    world.district.save()
    assert "Release levels to families" in client.get(section_page).content.decode()
    assert client.get(url).status_code == 200
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == section_page
    world.section.refresh_from_db()
    assert world.section.mastery_released_at is not None
    assert timezone.now() - world.section.mastery_released_at < dt.timedelta(minutes=1)


def test_only_the_sections_teacher_may_release_and_only_with_a_csrf_token(
    world: World,
) -> None:
    url = reverse("dashboard:section_release_levels", kwargs={"pk": world.section.pk})
    client = Client()
    for user in (world.principal, world.district_staff, world.other_teacher, world.parent):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.teacher)
    assert strict.post(url).status_code == 403
    world.section.refresh_from_db()
    assert world.section.mastery_released_at is None


def test_the_release_service_moves_the_moment_on(world: World) -> None:
    first = section_mastery_release(section=world.section, acting_user=world.teacher)
    moment = first.mastery_released_at
    assert moment is not None
    again = section_mastery_release(section=world.section, acting_user=world.teacher)
    assert again.mastery_released_at is not None and again.mastery_released_at >= moment


# --- Grades, attendance and discipline, teachers


def test_grades_show_the_childs_grades(client: Client, world: World) -> None:
    period = factories.AcademicSessionFactory.create(
        district=world.district, title="Quarter 1", kind=SessionKind.GRADING_PERIOD
    )
    Grade.objects.create(
        district=world.district,
        student=world.student,
        section=world.section,
        grading_period=period,
        letter_grade="B+",
    )
    client.force_login(world.parent)
    page = client.get(child_url("portal:child_grades", world.student)).content.decode()
    assert "Quarter 1" in page and "B+" in page and "Grade 4 Math" in page
    assert AccessLogEntry.objects.filter(what="family portal: grades").count() == 1


def _absences(world: World, student: Student, count: int) -> None:
    weekdays = [d for d in (days_ago(n) for n in range(1, 120)) if d.weekday() < 5]
    for index, day in enumerate(weekdays[:count]):
        AttendanceEvent.objects.create(
            district=world.district,
            student=student,
            event_date=day,
            category=AttendanceCategory.UNEXCUSED_ABSENCE
            if index % 2
            else AttendanceCategory.EXCUSED_ABSENCE,
        )
    AttendanceEvent.objects.create(
        district=world.district,
        student=student,
        event_date=weekdays[count + 1],
        category=AttendanceCategory.TARDY,
    )


def test_attendance_counts_the_year_and_explains_chronic_absence(
    client: Client, world: World
) -> None:
    _absences(world, world.student, 30)
    client.force_login(world.parent)
    page = client.get(child_url("portal:child_attendance", world.student)).content.decode()
    assert "Days present" in page and "Days absent" in page and "Days tardy" in page
    assert "15 excused, 15 not excused" in page
    assert "Chronic absence:" in page and "is called chronic absence" in page
    client.force_login(world.parent)
    AttendanceEvent.objects.all().delete()
    _absences(world, world.student, 2)
    page = client.get(child_url("portal:child_attendance", world.student)).content.decode()
    assert "Chronic absence:" not in page and "is chronically absent" in page


def _incident(world: World, student: Student, day: dt.date) -> None:
    incident = DisciplineIncident.objects.create(
        district=world.district,
        school=world.school,
        incident_identifier=f"I-{day}",
        incident_date=day,
        behaviors=["Disruption"],
        description="Names another child",
    )
    StudentDisciplineIncident.objects.create(
        district=world.district, student=student, incident=incident, participation="Perpetrator"
    )
    action = DisciplineAction.objects.create(
        district=world.district,
        incident=incident,
        action_identifier=f"A-{day}",
        action_date=day,
        disciplines="Detention",
        length_days=Decimal("1"),
    )
    action.students.add(student)


@pytest.mark.parametrize("shown", [True, False])
def test_discipline_shows_only_where_the_district_shows_it(
    client: Client, world: World, shown: bool
) -> None:
    world.district.guardians_see_discipline = shown
    world.district.save()
    _incident(world, world.student, days_ago(9))
    client.force_login(world.parent)
    page = client.get(child_url("portal:child_attendance", world.student)).content.decode()
    assert ("Detention" in page) is shown and ("Disruption" in page) is shown
    # The incident's free text may name other children: never in the portal.
    assert "Names another child" not in page
    what = "family portal: attendance and discipline" if shown else "family portal: attendance"
    assert AccessLogEntry.objects.filter(what=what, student_id=world.student.pk).count() == 1


@pytest.mark.parametrize("published", [True, False])
def test_teachers_show_email_and_a_phone_only_where_published(
    client: Client, world: World, published: bool
) -> None:
    staff = world.teacher.staff_record
    assert staff is not None
    staff.publish_phone_to_families = published
    staff.save()
    work = ((ContactKind.EMAIL, "teacher@school.test"), (ContactKind.PHONE, "555-0142"))
    for kind, value in work:
        ContactDetail.objects.create(
            district=world.district, staff=staff, kind=kind, label="work", value=value
        )
    client.force_login(world.parent)
    page = client.get(child_url("portal:child_teachers", world.student)).content.decode()
    assert staff.display_name in page and "Grade 4 Math" in page
    assert 'href="mailto:teacher@school.test"' in page
    assert ("555-0142" in page) is published


def test_a_teacher_without_a_work_email_shows_their_login(client: Client, world: World) -> None:
    client.force_login(world.parent)
    page = client.get(child_url("portal:child_teachers", world.student)).content.decode()
    assert f'href="mailto:{world.teacher.email}"' in page


# --- The switcher, and what the pages never do


def test_the_switcher_keeps_the_tab_and_logs_the_children_it_names(
    client: Client, world: World
) -> None:
    client.force_login(world.parent)
    alone = client.get(child_url("portal:child_grades", world.student)).content.decode()
    assert "child-switcher" not in alone
    brother = second_child(world)
    for name in ALL_CHILD_PAGES:
        page = client.get(child_url(name, world.student)).content.decode()
        assert 'class="child-switcher"' in page
        assert f'href="{child_url(name, brother)}"' in page
        assert f'href="{child_url(name, world.student)}" aria-current="page"' in page
    switcher = AccessLogEntry.objects.filter(what="family portal: child switcher")
    assert set(switcher.values_list("student_id", flat=True)) == {brother.pk}
    assert not AccessLogEntry.objects.filter(
        what="family portal: child switcher", student_id=world.student.pk
    ).exists()


@pytest.mark.parametrize("name", ALL_CHILD_PAGES)
def test_the_pages_change_nothing(client: Client, world: World, name: str) -> None:
    """Read-only: the only forms that post are the account menu's sign-out and the language
    switcher (the guardian's own choice); the pages themselves take no POST."""
    client.force_login(world.parent)
    page = client.get(child_url(name, world.student)).content.decode()
    posting = re.findall(r'<form[^>]*method="post"[^>]*>', page)
    actions = {re.search(r'action="([^"]*)"', form).group(1) for form in posting}  # type: ignore[union-attr]
    assert actions <= {reverse("account_logout"), reverse("set_language")}, actions
    assert client.post(child_url(name, world.student)).status_code == 405


# --- A constant number of queries whatever the child's data


def year_of_data(world: World, student: Student, amount: int) -> None:
    """A year of the child's records, `amount` of each: standards with histories of three times
    as many levels, scores, interim tests, absences, incidents, grades, transcripts, and classes
    whose teachers publish a phone. A child with little history has 1; with much, 12."""
    sections = [world.section, world.other_section, world.other_school_section][: min(amount, 3)]
    standards = []
    for index in range(amount):
        standard = Standard.objects.create(
            district=world.district,
            code=f"CCSS.MATH.CONTENT.4.OA.B.{student.pk}{index}",
            subject="Mathematics",
            parent_description=f"Skill {index}",
        )
        world.assessment.standards.add(standard)
        standards.append(standard)
        levels = [(days_ago(3 * n), 1 + n % 4) for n in range(3 * amount, 0, -1)]
        history(world, student, standard, levels)
    assessments = [
        Assessment.objects.create(
            district=world.district,
            section=sections[index % len(sections)],
            title=f"Quiz {index}",
            max_points=10,
            due_on=days_ago(index + 1),
            purpose=AssessmentPurpose.INTERIM if index % 2 else AssessmentPurpose.FORMATIVE,
        )
        for index in range(amount)
    ]
    scores_record(
        scores=[
            ScoreInput(
                student_id=student.pk,
                assessment_id=assessment.pk,
                scored_on=days_ago(index + 1),
                points=Decimal(index % 10),
            )
            for index, assessment in enumerate(assessments)
        ],
        enqueue=False,
    )
    _absences(world, student, amount)
    for index in range(amount):
        _incident(world, student, days_ago(index + 2))
    period = factories.AcademicSessionFactory.create(
        district=world.district, title=f"Q{student.pk}", kind=SessionKind.GRADING_PERIOD
    )
    for index in range(amount):
        Grade.objects.create(
            district=world.district,
            student=student,
            section=sections[index % len(sections)],
            grading_period=period,
            letter_grade="ABC"[index % 3],
        )
        record = AcademicRecord.objects.create(
            district=world.district, student=student, school_year=2020 + index
        )
        for course_index in range(amount):
            course = Course.objects.create(district=world.district, title=f"Course {course_index}")
            CourseTranscript.objects.create(
                district=world.district,
                student=student,
                academic_record=record,
                course=course,
                final_letter_grade="A",
            )
    for section in sections:
        staff = factories.StaffFactory.create(
            district=world.district, publish_phone_to_families=True
        )
        SectionAssignment.objects.create(
            district=world.district, staff=staff, section=section, is_primary=False
        )
        Enrollment.objects.get_or_create(district=world.district, student=student, section=section)
        for kind in (ContactKind.EMAIL, ContactKind.PHONE):
            ContactDetail.objects.create(
                district=world.district, staff=staff, kind=kind, value=f"{kind}-{staff.pk}"
            )


# What each page reads, pinned: a page that grows a query per row or per standard fails here.
PINNED_QUERIES = {
    "portal:child_progress": 15,
    "portal:child_grades": 11,
    "portal:child_attendance": 12,
    "portal:child_teachers": 10,
    # One more: the annual notice in force, for the banner (two once there is one).
    "portal:children": 7,
}


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", [*ALL_CHILD_PAGES, "portal:children"])
def test_each_page_reads_as_many_queries_for_little_or_much_data(
    client: Client, world: World, name: str
) -> None:
    world.district.guardians_see_discipline = True
    world.district.save()
    brother = second_child(world)
    year_of_data(world, world.student, 1)
    year_of_data(world, brother, 12)
    client.force_login(world.parent)
    counts = {
        child.display_name: _queries(
            client, reverse(name) if name == "portal:children" else child_url(name, child)
        )
        for child in (world.student, brother)
    }
    assert set(counts.values()) == {PINNED_QUERIES[name]}, counts


@pytest.mark.parametrize("released", [False, True])
def test_progress_reads_as_many_queries_under_either_setting(
    client: Client, world: World, released: bool
) -> None:
    brother = second_child(world)
    year_of_data(world, world.student, 1)
    year_of_data(world, brother, 12)
    if released:
        world.district.guardians_see_mastery = "released"
        world.district.save()
        for section in (world.section, world.other_section, world.other_school_section):
            section_mastery_release(section=section, acting_user=world.teacher)
    client.force_login(world.parent)
    counts = [
        _queries(client, child_url("portal:child_progress", child))
        for child in (world.student, brother)
    ]
    # The released levels are two reads more: the history and overrides as of the releases.
    expected = PINNED_QUERIES["portal:child_progress"] + (2 if released else 0)
    assert counts == [expected, expected]


# --- The demo's descriptions


def test_every_demo_standard_has_family_words_in_english_and_spanish() -> None:
    rows, _ = standards_plan()
    missing = sorted({row.parent_description for row in rows} - set(SPANISH))
    assert not missing, f"no Spanish for {missing[:5]}"
    for row in rows:
        assert row.parent_description and SPANISH[row.parent_description].strip()
        assert (
            SPANISH[row.parent_description] != row.parent_description
            or len(row.parent_description.split()) == 1
        )
