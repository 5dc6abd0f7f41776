"""The chronic absence rule (students.attendance): absent on the district's percent (10 unless
changed) or more of the instructional days enrolled so far this school year. Counted from each
school's calendar over each membership's dates, else the district's calendar, else weekdays;
for many students in a constant number of queries; shown on the profile's attendance tab."""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from students import models as sm
from students.attendance import (
    AttendanceRate,
    attendance_rates,
    chronic_absence_rule,
    is_chronically_absent,
    is_instructional,
)
from tests.conftest import World
from tests.factories import (
    AcademicSessionFactory,
    DistrictFactory,
    SchoolFactory,
    SectionFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db

YEAR = 2027  # 2026-2027; the session factory's year runs 15 August 2026 to 1 June 2027
FIRST_DAY = dt.date(2026, 8, 17)
LAST_DAY = dt.date(2027, 5, 28)
AFTER_THE_YEAR = dt.date(2027, 6, 30)
THANKSGIVING = {dt.date(2026, 11, 26), dt.date(2026, 11, 27)}
EDFI_INSTRUCTIONAL = "uri://ed-fi.org/CalendarEventDescriptor#Instructional day"


def weekdays(first: dt.date, last: dt.date) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if day.weekday() < 5:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def school_calendar(
    district: sm.District,
    school: sm.School | None,
    first: dt.date = FIRST_DAY,
    last: dt.date = LAST_DAY,
    holidays: Iterable[dt.date] = (),
    event: str = "Instructional day",
) -> list[dt.date]:
    """Weekday rows from `first` to `last` (holidays as "Holiday"); the instructional days."""
    off = set(holidays)
    days = weekdays(first, last)
    sm.CalendarDate.objects.bulk_create(
        sm.CalendarDate(
            district=district, school=school, date=d, event="Holiday" if d in off else event
        )
        for d in days
    )
    return [d for d in days if d not in off]


def member(
    student: sm.Student,
    school: sm.School,
    begin: dt.date | None = None,
    end: dt.date | None = None,
) -> None:
    sm.StudentSchoolMembership.objects.create(
        district=student.district,
        student=student,
        school=school,
        grade_level="04",
        begin_date=begin,
        end_date=end,
    )


def record(
    student: sm.Student,
    days: Iterable[dt.date],
    category: str = sm.AttendanceCategory.UNEXCUSED_ABSENCE,
    section: sm.Section | None = None,
) -> None:
    sm.AttendanceEvent.objects.bulk_create(
        sm.AttendanceEvent(
            district=student.district,
            student=student,
            section=section,
            event_date=d,
            category=category,
            school_year=YEAR,
        )
        for d in days
    )


def rate_of(student: sm.Student, as_of: dt.date = AFTER_THE_YEAR) -> AttendanceRate:
    return attendance_rates([student.pk], school_year=YEAR, as_of=as_of)[student.pk]


@pytest.fixture
def district() -> sm.District:
    district = DistrictFactory.create()
    AcademicSessionFactory.create(district=district)
    return district


@pytest.fixture
def school(district: sm.District) -> sm.School:
    return SchoolFactory.create(district=district)


def test_a_full_year_counts_distinct_absent_days_and_the_rest_present(
    district: sm.District, school: sm.School
) -> None:
    days = school_calendar(district, school, holidays=THANKSGIVING)
    student = StudentFactory.create(district=district)
    member(student, school, begin=FIRST_DAY)
    record(student, days[10:14])  # 4 unexcused
    record(student, [days[13], days[20]], sm.AttendanceCategory.EXCUSED_ABSENCE)  # 1 new day
    record(student, [days[20], days[30], days[31]], sm.AttendanceCategory.TARDY)  # 2 not absent
    record(student, days[40:60], sm.AttendanceCategory.PRESENT)  # ignored: days are counted
    record(student, [days[61]], sm.AttendanceCategory.EARLY_DEPARTURE)
    # Missing one class period is not missing the day.
    record(student, [days[62]], section=SectionFactory.create(school=school))
    rate = rate_of(student)
    assert rate.instructional_days == len(days) == 205 - 2  # 41 weeks, less Thanksgiving
    assert (rate.days_unexcused, rate.days_excused, rate.days_absent) == (4, 1, 5)
    assert rate.days_tardy == 2
    assert rate.days_present == len(days) - 5
    assert not rate.days_estimated and not rate.is_chronic
    assert rate.absent_percent == Decimal("2.4")  # 5 / 203 = 2.46%, rounded down
    assert rate.threshold_percent == Decimal("10.0")


def test_holidays_and_days_that_are_not_instructional_are_left_out(
    district: sm.District, school: sm.School
) -> None:
    days = school_calendar(district, school, event=EDFI_INSTRUCTIONAL, holidays=THANKSGIVING)
    # Other events: none instructional, whatever the spelling.
    extra = {
        dt.date(2026, 8, 14): EDFI_INSTRUCTIONAL,  # before the school year's session begins
        dt.date(2026, 8, 15): "Teacher work day",
        dt.date(2026, 8, 16): "Non-instructional day",
    }
    for day, event in extra.items():
        sm.CalendarDate.objects.create(district=district, school=school, date=day, event=event)
    # The district's calendar says nothing to a school with its own: not even its holidays.
    school_calendar(district, None, dt.date(2026, 11, 23), dt.date(2026, 11, 27))
    student = StudentFactory.create(district=district)
    member(student, school)  # open-ended: the school year bounds it
    record(student, [*THANKSGIVING, *extra, dt.date(2026, 11, 28)])  # none instructional
    record(student, [days[0]])
    rate = rate_of(student)
    assert rate.instructional_days == len(days)
    assert rate.days_absent == 1


def test_an_event_is_instructional_unless_it_says_otherwise() -> None:
    assert is_instructional("Instructional day")
    assert is_instructional(EDFI_INSTRUCTIONAL)
    assert is_instructional("INSTRUCTIONAL DAY, Early release")
    for event in (
        "Holiday",
        "Teacher work day",
        "Non-instructional day",
        "uri://ed-fi.org/CalendarEventDescriptor#NonInstructional day",
        "",
    ):
        assert not is_instructional(event), event


def test_a_mid_year_entry_counts_from_the_day_of_entry(
    district: sm.District, school: sm.School
) -> None:
    days = school_calendar(district, school, holidays=THANKSGIVING)
    entry = dt.date(2027, 1, 11)
    student = StudentFactory.create(district=district)
    member(student, school, begin=entry)
    # Absences recorded before entry (from another school's import) do not count here.
    record(student, [dt.date(2026, 9, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 8)])
    record(student, [entry, dt.date(2027, 1, 12)])
    rate = rate_of(student)
    assert rate.instructional_days == len([d for d in days if d >= entry])
    assert rate.instructional_days < len(days)
    assert rate.days_absent == 2


def test_a_transfer_counts_each_schools_calendar_over_its_own_span(district: sm.District) -> None:
    first_school = SchoolFactory.create(district=district)
    second_school = SchoolFactory.create(district=district)
    first_days = school_calendar(
        district, first_school, holidays={dt.date(2027, 2, 15)}, event=EDFI_INSTRUCTIONAL
    )
    second_days = school_calendar(
        district, second_school, holidays={dt.date(2027, 1, 18), dt.date(2027, 3, 1)}
    )
    left, arrived = dt.date(2027, 1, 22), dt.date(2027, 1, 25)
    student = StudentFactory.create(district=district)
    member(student, first_school, begin=FIRST_DAY, end=left)
    member(student, second_school, begin=arrived)
    # 18 January: a holiday only at the second school, but the student was at the first.
    # 15 February: a holiday only at the first, but the student was at the second.
    # 1 March: a holiday at the second school, where the student was: not counted.
    record(student, [dt.date(2027, 1, 18), dt.date(2027, 2, 15), dt.date(2027, 3, 1)])
    rate = rate_of(student)
    expected = [d for d in first_days if d <= left] + [d for d in second_days if d >= arrived]
    assert rate.instructional_days == len(expected)
    assert rate.days_absent == 2


def test_exactly_the_threshold_is_chronic_and_just_under_is_not(
    district: sm.District, school: sm.School
) -> None:
    # The district's calendar (the school has none): 31 instructional days from 1 September.
    days = school_calendar(district, None, dt.date(2026, 9, 1), dt.date(2026, 10, 13))
    assert len(days) == 31
    on_time = StudentFactory.create(district=district)
    member(on_time, school)
    late = StudentFactory.create(district=district)
    member(late, school, begin=days[1])
    for student in (on_time, late):
        record(student, days[5:8])
    rates = attendance_rates([on_time.pk, late.pk], school_year=YEAR, as_of=AFTER_THE_YEAR)
    exactly, under = rates[late.pk], rates[on_time.pk]
    assert (exactly.days_absent, exactly.instructional_days) == (3, 30)
    assert exactly.is_chronic and exactly.absent_percent == Decimal("10.0")
    assert (under.days_absent, under.instructional_days) == (3, 31)
    assert not under.is_chronic and under.absent_percent == Decimal("9.6")  # not rounded up
    assert not exactly.days_estimated
    # Exact arithmetic: 18 of 180 is 10%, 17 of 180 is not.
    assert is_chronically_absent(18, 180, Decimal("10.0"))
    assert not is_chronically_absent(17, 180, Decimal("10.0"))
    assert not is_chronically_absent(0, 0, Decimal("10.0"))


def test_the_district_sets_the_threshold(district: sm.District, school: sm.School) -> None:
    days = school_calendar(district, school, dt.date(2026, 9, 1), dt.date(2026, 10, 12))
    student = StudentFactory.create(district=district)
    member(student, school)
    record(student, days[:4])  # 4 of 30: 13.3%
    at_ten = rate_of(student)
    assert at_ten.is_chronic
    assert at_ten.rule == (
        "Chronically absent means absent on 10% or more of the instructional days enrolled so "
        "far this school year."
    )
    district.chronic_absence_percent = Decimal("15.0")
    district.save()
    at_fifteen = rate_of(student)
    assert not at_fifteen.is_chronic
    assert at_fifteen.absent_percent == Decimal("13.3")
    assert "absent on 15% or more" in at_fifteen.rule
    assert "absent on 12.5% or more" in chronic_absence_rule(Decimal("12.5"))


def test_without_any_calendar_weekdays_are_counted_and_said_to_be_estimated() -> None:
    district = DistrictFactory.create()  # no school-year session either: 1 July to 30 June
    school = SchoolFactory.create(district=district)
    student = StudentFactory.create(district=district)
    member(student, school)
    as_of = dt.date(2026, 9, 30)
    saturday = dt.date(2026, 9, 12)
    record(student, [dt.date(2026, 9, 1), saturday, dt.date(2026, 10, 1)])
    rate = rate_of(student, as_of=as_of)
    assert rate.instructional_days == len(weekdays(dt.date(2026, 7, 1), as_of)) == 66
    assert rate.days_estimated
    assert rate.days_absent == 1  # not the Saturday, nor after as_of


def test_as_of_counts_the_year_so_far(district: sm.District, school: sm.School) -> None:
    days = school_calendar(district, school, holidays=THANKSGIVING)
    student = StudentFactory.create(district=district)
    member(student, school, begin=FIRST_DAY)
    as_of = dt.date(2026, 12, 4)
    record(student, [dt.date(2026, 12, 3), as_of, dt.date(2026, 12, 7), dt.date(2027, 3, 1)])
    rate = rate_of(student, as_of=as_of)
    assert rate.as_of == as_of
    assert rate.instructional_days == len([d for d in days if d <= as_of])
    assert rate.days_absent == 2  # the day itself counts; later ones do not yet
    before_the_year = rate_of(student, as_of=dt.date(2026, 8, 1))
    assert before_the_year.instructional_days == 0 and before_the_year.absent_percent is None
    assert not before_the_year.is_chronic


def test_many_students_take_as_many_queries_as_one(district: sm.District) -> None:
    schools = [SchoolFactory.create(district=district) for _ in range(2)]
    school_calendar(district, schools[0], holidays=THANKSGIVING)
    school_calendar(district, None)  # the second school's
    students = []
    for n in range(20):
        student = StudentFactory.create(district=district)
        member(student, schools[n % 2], begin=FIRST_DAY, end=dt.date(2027, 1, 15))
        member(student, schools[(n + 1) % 2], begin=dt.date(2027, 1, 18))
        record(student, weekdays(dt.date(2026, 9, 1), dt.date(2026, 9, 1) + dt.timedelta(n)))
        students.append(student)

    def queries(ids: list[int]) -> int:
        with CaptureQueriesContext(connection) as captured:
            rates = attendance_rates(ids, school_year=YEAR, as_of=AFTER_THE_YEAR)
        assert set(rates) == set(ids)
        return len(captured)

    one = queries([students[0].pk])
    assert one == queries([s.pk for s in students]) <= 3
    rates = attendance_rates([s.pk for s in students], school_year=YEAR, as_of=AFTER_THE_YEAR)
    assert [rates[s.pk].days_absent for s in students[:8]] == [1, 2, 3, 4, 4, 4, 5, 6]
    assert attendance_rates([], school_year=YEAR) == {}


def _tab(client, world: World, student: sm.Student) -> str:
    """The attendance tab as district staff see it, on a day in January (this school year)."""
    url = reverse("dashboard:student_profile_tab", kwargs={"pk": student.pk, "tab": "attendance"})
    with time_machine.travel(dt.datetime(2027, 1, 14, 17, tzinfo=dt.UTC), tick=False):
        client.force_login(world.district_staff)
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_profile_tab_says_whether_the_student_is_chronically_absent(
    client, world: World
) -> None:
    days = school_calendar(world.district, world.school, dt.date(2026, 9, 1), dt.date(2026, 10, 12))
    record(world.student, days[:3])  # 3 of 30
    record(world.student, days[5:7], section=world.section)  # class periods: not days
    page = _tab(client, world, world.student)
    assert (
        'Absent <span class="count">3</span> of 30 instructional days enrolled so far (10%)' in page
    )
    assert "<strong>Chronically absent</strong>" in page
    assert "Not chronically absent" not in page
    assert chronic_absence_rule(Decimal("10")) in page
    assert "counted as Monday to Friday" not in page
    world.district.chronic_absence_percent = Decimal("15.0")
    world.district.save()
    page = _tab(client, world, world.student)
    assert "Not chronically absent" in page and "Chronically absent</strong>" not in page
    assert chronic_absence_rule(Decimal("15")) in page
    # A school without a calendar: the days are weekdays, and the page says so.
    record(world.other_school_student, [dt.date(2026, 9, 1)])
    page = _tab(client, world, world.other_school_student)
    assert 'Absent <span class="count">1</span> of' in page
    assert "counted as Monday to Friday" in page
    assert "Not chronically absent" in page
