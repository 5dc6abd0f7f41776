"""Reads of the district's records, for a student, section or school that the access module
(accounts.access) has already let the user see: each takes the StudentView or the object that
student_for_user, section_for_user or school_for_user returned. Who may see what is decided
there alone."""

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Protocol

from django.db.models import F, Func, OuterRef, Prefetch, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from students.attendance import attendance_rates, format_percent, school_year_of
from students.models import (
    AcademicRecord,
    AttendanceCategory,
    AttendanceEvent,
    CohortMembership,
    ContactDetail,
    CourseTranscript,
    DisciplineAction,
    Enrollment,
    Grade,
    GuardianRelationship,
    ProgramParticipation,
    ReportCard,
    Section,
    SectionAssignment,
    Student,
    StudentDisciplineIncident,
    StudentSchoolMembership,
    in_force,
)

# What a section's pages read of its students (section_roster): names, number, the uuid the
# access log hashes.
ROSTER_STUDENT_FIELDS = (
    "district_id",
    "first_name",
    "middle_name",
    "last_name",
    "preferred_first_name",
    "student_number",
    "uuid",
)


class StudentView(Protocol):
    """What these reads need of the access check's answer (accounts.access.StudentAccess): the
    student, and which parts of their record the viewer may see."""

    @property
    def student(self) -> Student: ...

    @property
    def can_see_contacts(self) -> bool: ...

    @property
    def can_see_programs(self) -> bool: ...

    @property
    def can_see_discipline(self) -> bool: ...

    @property
    def can_see_scores(self) -> bool: ...

    @property
    def can_see_guardians(self) -> bool: ...


@dataclass(frozen=True)
class StudentRecord:
    """What the student page shows, each part already filtered by the viewer's access."""

    access: StudentView
    school_memberships: list[StudentSchoolMembership]
    enrollments: Sequence[Enrollment]
    contacts: list[ContactDetail]
    programs: list[ProgramParticipation]
    guardian_relationships: list[GuardianRelationship]
    own_guardian_contacts: list[ContactDetail]


def student_record(user: object, access: StudentView) -> StudentRecord:
    student = access.student
    enrollments = list(
        Enrollment.objects.current()
        .filter(student=student)
        .select_related("section")
        .prefetch_related(
            Prefetch(
                "section__assignments",
                queryset=SectionAssignment.objects.current().select_related("staff"),
                to_attr="current_assignments",
            )
        )
        .order_by("section__period", "section__title")
    )
    relationships: list[GuardianRelationship] = []
    own_contacts: list[ContactDetail] = []
    if access.can_see_guardians:
        relationships = list(
            GuardianRelationship.objects.filter(student=student, is_active=True)
            .select_related("guardian")
            .prefetch_related(
                Prefetch(
                    "guardian__contacts",
                    queryset=ContactDetail.objects.filter(is_active=True),
                    to_attr="active_contacts",
                )
            )
        )
    else:
        # A guardian sees their own relationship and contacts (none without a guardian record).
        guardian_id: int | None = getattr(user, "guardian_record_id", None)
        if guardian_id is not None:
            relationships = list(
                GuardianRelationship.objects.filter(
                    student=student, guardian_id=guardian_id, is_active=True
                ).select_related("guardian")
            )
            own_contacts = list(
                ContactDetail.objects.filter(guardian_id=guardian_id, is_active=True)
            )
    return StudentRecord(
        access=access,
        school_memberships=list(
            StudentSchoolMembership.objects.filter(in_force(), student=student).select_related(
                "school"
            )
        ),
        enrollments=enrollments,
        contacts=list(student.contacts.filter(is_active=True)) if access.can_see_contacts else [],
        programs=list(ProgramParticipation.objects.current().filter(student=student))
        if access.can_see_programs
        else [],
        guardian_relationships=relationships,
        own_guardian_contacts=own_contacts,
    )


def student_sections(student: Student) -> list[Section]:
    """The student's current sections (those of enrollments in force), by period and title:
    the same sections as student_record's enrollments, in one query."""
    return list(
        Section.objects.filter(
            pk__in=Enrollment.objects.current().filter(student=student).values("section_id")
        ).order_by("period", "title")
    )


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A student currently in a section, with what the section's pages show beside them."""

    student: Student
    begin_date: date | None
    program_count: int

    @property
    def student_id(self) -> int:
        return self.student.pk


def section_roster(section: Section) -> list[RosterEntry]:
    """The section's current students, in name order, with what the roster shows: one query.
    Students only, with only the fields the section's pages read (names, number, the uuid the
    access log hashes) and their enrollment's start: whole enrollment and student rows cost the
    section page more than every other read together."""
    current_programs = (
        ProgramParticipation.objects.current()
        .filter(student=OuterRef("pk"))
        .order_by()
        .values("student")
        .annotate(count=Func("pk", function="COUNT"))
        .values("count")
    )
    # One filter() call, so that the enrollment joined is the one whose begin_date is read.
    students = (
        Student.objects.filter(
            Q(enrollments__section=section) & in_force("enrollments__"), is_active=True
        )
        .only(*ROSTER_STUDENT_FIELDS)
        .annotate(
            roster_begin_date=F("enrollments__begin_date"),
            roster_program_count=Coalesce(Subquery(current_programs), 0),
        )
        .order_by("last_name", "first_name", "pk")
    )
    return [RosterEntry(s, s.roster_begin_date, s.roster_program_count) for s in students]


def section_teachers(section: Section) -> list[SectionAssignment]:
    return list(
        SectionAssignment.objects.current()
        .filter(section=section)
        .select_related("staff")
        .order_by("-is_primary", "staff__last_name")
    )


# --- What an Ed-Fi import brings to the student profile: attendance, discipline, grades and
# transcripts, cohorts and programs. Each selector takes a StudentView (from
# student_for_user, so the access check has been made) and returns one context object for its
# partial under templates/students/profile/.


@dataclass(frozen=True)
class AttendanceCutPoints:
    """Counts up to `watch` are fine, up to `alert` need watching, above that an alert (inBloom's
    dashboard coloured tardies this way; absences are judged by the chronic absence rule,
    students.attendance)."""

    watch: int = 5
    alert: int = 10

    def level(self, count: int) -> str:
        if count <= self.watch:
            return "good"
        if count <= self.alert:
            return "watch"
        return "alert"


TARDY_CUT_POINTS = AttendanceCutPoints(watch=5, alert=10)


@dataclass(frozen=True)
class AttendanceDay:
    day: int
    category: str  # an AttendanceCategory value, or "" on a day without school (or not enrolled)
    label: str
    mark: str  # the letter the calendar shows, so that no day is told by its colour alone


DAY_MARKS: dict[str, str] = {
    AttendanceCategory.PRESENT: "P",
    AttendanceCategory.EXCUSED_ABSENCE: "E",
    AttendanceCategory.UNEXCUSED_ABSENCE: "A",
    AttendanceCategory.TARDY: "T",
    AttendanceCategory.EARLY_DEPARTURE: "L",
    AttendanceCategory.OTHER: "O",
}


@dataclass(frozen=True)
class AttendanceMonth:
    title: str  # "September 2011"
    weeks: list[list[AttendanceDay | None]]  # Monday first; None pads days of other months


@dataclass(frozen=True)
class AttendanceSummary:
    """Context of templates/students/profile/_attendance.html (as `attendance`).

    One school year (the latest with events unless asked; this one when there are none), by the
    chronic absence rule (students.attendance) up to today: instructional days enrolled, days
    absent (excused and unexcused), tardy and present among them, the percent absent, whether
    that is chronic and the rule in words; the tardies' level by their cut points ("good",
    "watch", "alert"); and a calendar of months marking every day with an event recorded.
    """

    school_year: int
    days_recorded: int  # days with any event recorded in the year, counted or not
    present: int
    excused: int
    unexcused: int
    tardies: int
    tardy_level: str
    tardy_cut_points: AttendanceCutPoints
    months: list[AttendanceMonth]
    school_years: list[int]
    instructional_days: int  # enrolled so far this year
    absent_percent: Decimal | None  # None before the first instructional day enrolled
    is_chronic: bool
    chronic_rule: str
    days_estimated: bool  # instructional days counted Monday to Friday, for want of a calendar

    @property
    def absences(self) -> int:
        return self.excused + self.unexcused

    @property
    def absent_percent_text(self) -> str:
        return "" if self.absent_percent is None else format_percent(self.absent_percent)

    @property
    def is_empty(self) -> bool:
        """Nothing to show: no event recorded, and no school calendar to count days present by
        (without one, no events more likely means no import than a perfect record)."""
        return not self.days_recorded and (self.days_estimated or not self.instructional_days)


def student_attendance(access: StudentView, *, school_year: int | None = None) -> AttendanceSummary:
    """The student's attendance for a school year, counted by the chronic absence rule and laid
    out as a calendar: three queries (the student's events of every year, read once for the list
    of years, the calendar and the counts; then attendance_rates' other two)."""
    student_id = access.student.pk
    events = list(
        AttendanceEvent.objects.filter(student_id=student_id, is_active=True)
        .order_by("event_date", "id")
        .values_list("school_year", "event_date", "category", "section_id")
    )
    # Events without a school year fall in the one their date does.
    school_years = sorted({y or school_year_of(when) for y, when, _, _ in events}, reverse=True)
    this_year = school_year_of(timezone.localdate())
    year = school_year or (school_years[0] if school_years else this_year)
    rows = [(when, c) for y, when, c, _ in events if (y or school_year_of(when)) == year]
    # One mark per day: the most notable event of the day (an absence before a tardy).
    precedence: dict[str, int] = {
        AttendanceCategory.UNEXCUSED_ABSENCE: 5,
        AttendanceCategory.EXCUSED_ABSENCE: 4,
        AttendanceCategory.TARDY: 3,
        AttendanceCategory.EARLY_DEPARTURE: 2,
        AttendanceCategory.OTHER: 1,
        AttendanceCategory.PRESENT: 0,
    }
    by_day: dict[date, str] = {}
    for when, category in rows:
        if when not in by_day or precedence[category] > precedence[by_day[when]]:
            by_day[when] = category
    # The counts are the rule's: of days enrolled and instructional, by date (not by the events'
    # school year), of the day's events (not a class period's; the calendar shows both), with
    # days present from the calendar rather than from PRESENT rows.
    rate = attendance_rates(
        [student_id],
        school_year=year,
        events=((student_id, when, c) for _, when, c, section in events if section is None),
        with_days=True,
    )[student_id]
    # The calendar: every month from the first day enrolled (or recorded) to the last, each
    # instructional day enrolled marked present unless an event says otherwise.
    for day in rate.days:
        by_day.setdefault(day, AttendanceCategory.PRESENT)
    labels = dict(AttendanceCategory.choices)
    months: list[AttendanceMonth] = []
    if by_day:
        first, last = min(by_day), max(by_day)
        cursor_year, cursor_month = first.year, first.month
        while (cursor_year, cursor_month) <= (last.year, last.month):
            weeks = []
            for week in calendar.Calendar(firstweekday=0).monthdatescalendar(
                cursor_year, cursor_month
            ):
                weeks.append(
                    [
                        AttendanceDay(
                            day=d.day,
                            category=by_day.get(d, ""),
                            label=labels.get(by_day.get(d, ""), "No school"),
                            mark=DAY_MARKS.get(by_day.get(d, ""), ""),
                        )
                        if d.month == cursor_month
                        else None
                        for d in week
                    ]
                )
            months.append(
                AttendanceMonth(
                    title=f"{calendar.month_name[cursor_month]} {cursor_year}", weeks=weeks
                )
            )
            cursor_month += 1
            if cursor_month == 13:
                cursor_year, cursor_month = cursor_year + 1, 1
    return AttendanceSummary(
        school_year=year,
        days_recorded=len({when for when, _ in rows}),
        present=rate.days_present,
        excused=rate.days_excused,
        unexcused=rate.days_unexcused,
        tardies=rate.days_tardy,
        tardy_level=TARDY_CUT_POINTS.level(rate.days_tardy),
        tardy_cut_points=TARDY_CUT_POINTS,
        months=months,
        school_years=school_years,
        instructional_days=rate.instructional_days,
        absent_percent=rate.absent_percent,
        is_chronic=rate.is_chronic,
        chronic_rule=rate.rule,
        days_estimated=rate.days_estimated,
    )


@dataclass(frozen=True)
class DisciplineEntry:
    incident: object  # DisciplineIncident
    participation: str
    behaviors: list[str]
    actions: list[object]  # DisciplineAction of this student for the incident


@dataclass(frozen=True)
class DisciplineRecord:
    """Context of templates/students/profile/_discipline.html (as `discipline`). `allowed` is
    StudentView.can_see_discipline: when False, `entries` is empty and nothing is read."""

    allowed: bool
    entries: list[DisciplineEntry]


def student_discipline(access: StudentView) -> DisciplineRecord:
    """Incidents the student was part of, with the actions taken; only for those allowed."""
    if not access.can_see_discipline:
        return DisciplineRecord(allowed=False, entries=[])
    links = list(
        StudentDisciplineIncident.objects.filter(student=access.student, is_active=True)
        .select_related("incident__school", "incident__reported_by")
        .order_by("-incident__incident_date")
    )
    actions_by_incident: dict[int | None, list[object]] = {}
    for action in DisciplineAction.objects.filter(students=access.student, is_active=True).order_by(
        "-action_date"
    ):
        actions_by_incident.setdefault(action.incident_id, []).append(action)
    entries = [
        DisciplineEntry(
            incident=link.incident,
            participation=link.participation,
            behaviors=link.behaviors or link.incident.behaviors,
            actions=actions_by_incident.pop(link.incident_id, []),
        )
        for link in links
    ]
    # Actions on the student for an incident they have no association with still show.
    for incident_id, actions in actions_by_incident.items():
        incident = getattr(actions[0], "incident", None) if incident_id else None
        entries.append(
            DisciplineEntry(incident=incident, participation="", behaviors=[], actions=actions)
        )
    return DisciplineRecord(allowed=True, entries=entries)


@dataclass(frozen=True)
class GradesRecord:
    """Context of templates/students/profile/_grades.html (as `grades`): grading-period grades,
    report cards, and academic records each with its course transcripts. (Gradebook results are
    scores: assessments.selectors.student_gradebook.)"""

    grades: list[Grade]
    report_cards: list[ReportCard]
    academic_records: list[AcademicRecord]


def student_grades(access: StudentView) -> GradesRecord:
    student = access.student
    if not access.can_see_scores:
        return GradesRecord(grades=[], report_cards=[], academic_records=[])
    return GradesRecord(
        grades=list(
            Grade.objects.filter(student=student, is_active=True)
            .select_related("section", "grading_period")
            .order_by("grading_period__start_date", "section__title")
        ),
        report_cards=list(
            ReportCard.objects.filter(student=student, is_active=True)
            .select_related("grading_period")
            .order_by("grading_period__start_date")
        ),
        academic_records=list(
            AcademicRecord.objects.filter(student=student, is_active=True)
            .select_related("session")
            .prefetch_related(
                Prefetch(
                    "transcripts",
                    queryset=CourseTranscript.objects.filter(is_active=True)
                    .select_related("course")
                    .order_by("course__title"),
                    to_attr="active_transcripts",
                )
            )
            .order_by("-school_year", "session__start_date")
        ),
    )


@dataclass(frozen=True)
class CohortsPrograms:
    """Context of templates/students/profile/_cohorts_programs.html (as `cohorts_programs`):
    current cohort memberships, and current programs when the viewer may see programs."""

    cohorts: list[CohortMembership]
    programs: list[ProgramParticipation]
    can_see_programs: bool


def student_cohorts_programs(
    access: StudentView, record: StudentRecord | None = None
) -> CohortsPrograms:
    """`record`, when the page has read it (student_record), supplies the current programs."""
    if record is not None:
        programs = record.programs
    elif access.can_see_programs:
        programs = list(ProgramParticipation.objects.current().filter(student=access.student))
    else:
        programs = []
    return CohortsPrograms(
        cohorts=list(
            CohortMembership.objects.current()
            .filter(student=access.student, cohort__is_active=True)
            .select_related("cohort")
            .order_by("cohort__identifier")
        ),
        programs=programs,
        can_see_programs=access.can_see_programs,
    )
