"""factory_boy factories for the district's records and accounts."""

import datetime as dt

import factory
from allauth.account.models import EmailAddress
from factory.django import DjangoModelFactory

from accounts.models import User
from students import models


class DistrictFactory(DjangoModelFactory[models.District]):
    class Meta:
        model = models.District

    name = factory.Sequence(lambda n: f"District {n}")
    source_system = "test"
    source_id = factory.Sequence(lambda n: f"district-{n}")


class SchoolFactory(DjangoModelFactory[models.School]):
    class Meta:
        model = models.School

    district = factory.SubFactory(DistrictFactory)
    name = factory.Sequence(lambda n: f"School {n}")
    level = models.SchoolLevel.ELEMENTARY
    grade_levels = ["03", "04", "05"]
    source_system = "test"
    source_id = factory.Sequence(lambda n: f"school-{n}")


class AcademicSessionFactory(DjangoModelFactory[models.AcademicSession]):
    class Meta:
        model = models.AcademicSession

    district = factory.SubFactory(DistrictFactory)
    title = "2026-2027"
    kind = models.SessionKind.SCHOOL_YEAR
    school_year = 2027
    start_date = dt.date(2026, 8, 15)
    end_date = dt.date(2027, 6, 1)


class SectionFactory(DjangoModelFactory[models.Section]):
    class Meta:
        model = models.Section

    school = factory.SubFactory(SchoolFactory)
    district = factory.SelfAttribute("school.district")
    title = factory.Sequence(lambda n: f"Math {n}")
    subject = "Mathematics"
    source_system = "test"
    source_id = factory.Sequence(lambda n: f"section-{n}")


class StaffFactory(DjangoModelFactory[models.Staff]):
    class Meta:
        model = models.Staff

    district = factory.SubFactory(DistrictFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    kind = models.StaffKind.TEACHER
    source_system = "test"
    source_id = factory.Sequence(lambda n: f"staff-{n}")


class StudentFactory(DjangoModelFactory[models.Student]):
    class Meta:
        model = models.Student

    district = factory.SubFactory(DistrictFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    birth_date = dt.date(2016, 5, 4)
    student_number = factory.Sequence(lambda n: f"S{n:05d}")
    source_system = "test"
    source_id = factory.Sequence(lambda n: f"student-{n}")


class GuardianFactory(DjangoModelFactory[models.Guardian]):
    class Meta:
        model = models.Guardian

    district = factory.SubFactory(DistrictFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    source_system = "test"
    source_id = factory.Sequence(lambda n: f"guardian-{n}")


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", "pw-Trellis-123")

    @factory.post_generation
    def verified(self: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)
