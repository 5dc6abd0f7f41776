"""Role fixtures: a small district with two of everything, so every role has an own object and
someone else's."""

import datetime as dt
from dataclasses import dataclass

import pytest

from accounts.models import Role, User
from accounts.services import derived_access_sync, role_grant
from assessments.models import Assessment, Standard
from students import models
from tests import factories

PASSWORD = "pw-Trellis-123"


@dataclass
class World:
    district: models.District
    other_district: models.District
    school: models.School
    other_school: models.School
    section: models.Section
    other_section: models.Section
    other_school_section: models.Section
    student: models.Student
    classmate: models.Student
    other_section_student: models.Student
    other_school_student: models.Student
    other_district_student: models.Student
    guardian: models.Guardian
    teacher: User
    other_teacher: User
    principal: User
    other_principal: User
    district_staff: User
    parent: User
    other_parent: User
    outsider: User
    standard: "Standard"
    assessment: "Assessment"
    other_assessment: "Assessment"

    def users_by_role(self) -> dict[str, User]:
        return {
            "teacher": self.teacher,
            "principal": self.principal,
            "district_staff": self.district_staff,
            "guardian": self.parent,
            "outsider": self.outsider,
        }


def _enrol(
    student: models.Student, section: models.Section, school: models.School, grade: str = "04"
) -> None:
    models.Enrollment.objects.create(
        district=section.district, student=student, section=section, begin_date=dt.date(2026, 8, 20)
    )
    models.StudentSchoolMembership.objects.get_or_create(
        district=school.district, student=student, school=school, defaults={"grade_level": grade}
    )


def _teacher(section: models.Section) -> User:
    staff = factories.StaffFactory.create(district=section.district)
    models.SectionAssignment.objects.create(district=section.district, staff=staff, section=section)
    return factories.UserFactory.create(staff_record=staff, full_name=staff.display_name)


def build_world() -> World:
    district = factories.DistrictFactory.create(name="Home District")
    other_district = factories.DistrictFactory.create(name="Other District")
    school = factories.SchoolFactory.create(district=district, name="Maple Elementary")
    other_school = factories.SchoolFactory.create(district=district, name="Oak Elementary")
    far_school = factories.SchoolFactory.create(district=other_district, name="Far Away Elementary")
    section = factories.SectionFactory.create(school=school, title="Grade 4 Math")
    other_section = factories.SectionFactory.create(school=school, title="Grade 4 Reading")
    other_school_section = factories.SectionFactory.create(school=other_school, title="Oak Math")
    far_section = factories.SectionFactory.create(school=far_school, title="Far Math")

    student = factories.StudentFactory.create(
        district=district, first_name="Ada", last_name="Lovelace"
    )
    classmate = factories.StudentFactory.create(district=district)
    other_section_student = factories.StudentFactory.create(district=district)
    other_school_student = factories.StudentFactory.create(district=district)
    other_district_student = factories.StudentFactory.create(district=other_district)
    _enrol(student, section, school)
    _enrol(classmate, section, school)
    _enrol(other_section_student, other_section, school)
    _enrol(other_school_student, other_school_section, other_school)
    _enrol(other_district_student, far_section, far_school)

    teacher = _teacher(section)
    other_teacher = _teacher(other_section)
    _teacher(other_school_section)

    principal = factories.UserFactory.create(full_name="Pat Principal")
    role_grant(user=principal, role=Role.PRINCIPAL, school=school)
    other_principal = factories.UserFactory.create(full_name="Olive Other")
    role_grant(user=other_principal, role=Role.PRINCIPAL, school=other_school)
    district_staff = factories.UserFactory.create(full_name="Dee District")
    role_grant(user=district_staff, role=Role.DISTRICT_STAFF, district=other_district)
    # district_staff of the home district is the one that matters:
    role_grant(user=district_staff, role=Role.DISTRICT_STAFF, district=district)

    guardian = factories.GuardianFactory.create(district=district)
    models.GuardianRelationship.objects.create(
        district=district,
        guardian=guardian,
        student=student,
        relationship=models.Relationship.MOTHER,
        portal_access=True,
        has_educational_rights=True,
    )
    parent = factories.UserFactory.create(guardian_record=guardian, full_name=guardian.display_name)
    other_guardian = factories.GuardianFactory.create(district=district)
    models.GuardianRelationship.objects.create(
        district=district,
        guardian=other_guardian,
        student=classmate,
        relationship=models.Relationship.FATHER,
        portal_access=True,
    )
    other_parent = factories.UserFactory.create(guardian_record=other_guardian)
    outsider = factories.UserFactory.create(full_name="No Role")
    standard = Standard.objects.create(
        district=district, code="CCSS.MATH.CONTENT.4.NF.A.1", subject="Mathematics"
    )
    assessment = Assessment.objects.create(
        district=district,
        section=section,
        title="Fractions quiz",
        max_points=10,
        due_on=dt.date(2026, 10, 1),
    )
    assessment.standards.add(standard)
    other_assessment = Assessment.objects.create(
        district=district,
        section=other_section,
        title="Reading check",
        max_points=5,
        due_on=dt.date(2026, 10, 1),
    )
    derived_access_sync()
    return World(
        standard=standard,
        assessment=assessment,
        other_assessment=other_assessment,
        district=district,
        other_district=other_district,
        school=school,
        other_school=other_school,
        section=section,
        other_section=other_section,
        other_school_section=other_school_section,
        student=student,
        classmate=classmate,
        other_section_student=other_section_student,
        other_school_student=other_school_student,
        other_district_student=other_district_student,
        guardian=guardian,
        teacher=teacher,
        other_teacher=other_teacher,
        principal=principal,
        other_principal=other_principal,
        district_staff=district_staff,
        parent=parent,
        other_parent=other_parent,
        outsider=outsider,
    )


@pytest.fixture
def world(db: None) -> World:
    return build_world()


PRIVACY_OFFICER_EMAIL = "privacy.officer@home-district.test"


def privacy_officer_of(world: World) -> User:
    """The home district's privacy officer (that role only), made on first use: the rights
    pages' own user, kept out of World so that no other test counts them."""
    officer = User.objects.filter(email=PRIVACY_OFFICER_EMAIL).first()
    if officer is None:
        officer = factories.UserFactory.create(
            email=PRIVACY_OFFICER_EMAIL, full_name="Priya Privacy"
        )
        role_grant(user=officer, role=Role.PRIVACY_OFFICER, district=world.district)
    return officer


@pytest.fixture
def eager_celery():
    """Run tasks in-process for tests about what a task does, not how it is delivered (those use
    tests/celery_worker.py with a real worker when CELERY_BROKER_URL is set)."""
    from config.celery_app import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous
