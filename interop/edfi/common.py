"""What Ed-Fi 1.x and 5.2 elements have in common once their references are read.

The two versions name keys and references differently (v1.py and v52.py read those); the records
built from them are the same. Builders here take the references a version has read as arguments.
Arguments are evaluated before the builder reads anything itself, so each version passes them in
the order it checks them: an element with several faults reports the same one whichever reads it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from interop.edfi.descriptors import GRADE_LEVEL
from interop.edfi.records import Contact, Rec, Ref, fmt_date, school_year_end
from interop.edfi.xml import Node, RecordError

# --- references and shared parts ----------------------------------------------------------


def ref_to(node: Node, path: str, kind: str, value: str) -> Ref:
    """A reference to `value`, read from the element at `path`; a RecordError when it is empty."""
    if not value:
        raise RecordError(f"{node.tag} has no {path}", path)
    return Ref(kind, value, path=path)


def name(node: Node) -> dict[str, str]:
    first = node.text("Name/FirstName")
    last = node.text("Name/LastSurname")
    if not first or not last:
        raise RecordError(f"{node.tag} has no Name/FirstName and Name/LastSurname", "Name")
    return {
        "first_name": first,
        "middle_name": node.text("Name/MiddleName"),
        "last_name": last,
    }


def address_value(address: Node) -> str:
    """An Address on one line: street, apartment, city, then state and postal code."""
    parts = [
        address.text("StreetNumberName"),
        address.text("ApartmentRoomSuiteNumber"),
        address.text("City"),
        " ".join(p for p in (address.text("StateAbbreviation"), address.text("PostalCode")) if p),
    ]
    return ", ".join(p for p in parts if p)


# --- EducationOrganization ----------------------------------------------------------------


def edorg(
    node: Node,
    org_id: str,
    category: str,
    *,
    grade_levels: str,
    school_categories: str,
    school_number: str,
    extra: dict[str, Any] | None = None,
) -> list[Rec]:
    """An education organization; `grade_levels`, `school_categories` and `school_number` are
    the paths of the grades offered, the school categories and the organization's own code."""
    return [
        Rec(
            "edorg",
            org_id,
            node.line,
            node.tag,
            values={
                "name": node.required("NameOfInstitution"),
                "category": category,
                "state": node.text("Address/StateAbbreviation"),
                "grade_levels": node.descriptors(grade_levels, GRADE_LEVEL),
                "school_categories": node.descriptor_codes(school_categories, "SchoolCategory"),
                "school_number": node.text(school_number),
            },
            extra=extra or {},
        )
    ]


# --- StaffAssociation ---------------------------------------------------------------------


def staff_assignment(node: Node, person: Ref, org: Ref) -> list[Rec]:
    classification = node.descriptor_code("StaffClassification", "StaffClassification")
    return [
        Rec(
            "staff_assignment",
            f"{person.key}|{org.key}",
            node.line,
            node.tag,
            values={
                "classification": classification,
                "position": node.text("PositionTitle") or classification,
                "begin_date": node.date("BeginDate"),
                "end_date": node.date("EndDate"),
            },
            refs={"staff": person, "org": org},
        )
    ]


def section_assignment(node: Node, person: Ref, target: Ref) -> list[Rec]:
    return [
        Rec(
            "section_assignment",
            f"{person.key}|{target.key}",
            node.line,
            node.tag,
            values={
                "is_primary": node.text("ClassroomPosition").lower() == "teacher of record",
                "begin_date": node.date("BeginDate"),
                "end_date": node.date("EndDate"),
            },
            refs={"staff": person, "section": target},
        )
    ]


# --- MasterSchedule -----------------------------------------------------------------------


def course_offering(node: Node, school: Ref, code: str, session: Ref, course: Ref) -> list[Rec]:
    return [
        Rec(
            "course_offering",
            f"{code}|{session.key}",
            node.line,
            node.tag,
            values={"title": node.text("LocalCourseTitle")},
            refs={"school": school, "session": session, "course": course},
        )
    ]


# --- Students, parents (contacts), enrollment, programs and cohorts -----------------------


def parent(node: Node, parent_id: str, contacts: list[Contact], *, language: str) -> list[Rec]:
    """A parent (1.x) or contact (5.2). `language`: the first language the source names for
    them, as records.language_name reads it (Node.descriptor of kind Language, counted in the
    run's mappings); empty when it names none (the loader then keeps the language Trellis
    holds, or gives them their child's home language)."""
    return [
        Rec(
            "parent",
            parent_id,
            node.line,
            node.tag,
            values={**name(node), "language": language},
            extra={"contacts": contacts},
        )
    ]


def student_parent(node: Node, child: Ref, adult: Ref) -> list[Rec]:
    priority = node.text("ContactPriority")
    return [
        Rec(
            "student_parent",
            f"{child.key}|{adult.key}",
            node.line,
            node.tag,
            values={
                "relation": node.descriptor_code("Relation", "Relation"),
                "lives_with": bool(node.boolean("LivesWith")),
                "emergency_contact": bool(node.boolean("EmergencyContactStatus")),
                "primary_contact": bool(node.boolean("PrimaryContactStatus")),
                "contact_priority": int(priority) if priority.isdigit() else None,
                "contact_restrictions": node.text("ContactRestrictions"),
            },
            refs={"student": child, "parent": adult},
        )
    ]


def student_school(node: Node, child: Ref, school: Ref) -> list[Rec]:
    entry = node.date("EntryDate", required=True)
    return [
        Rec(
            "student_school",
            f"{child.key}|{school.key}|{fmt_date(entry)}",
            node.line,
            node.tag,
            values={
                "grade_level": node.required("EntryGradeLevel")
                and node.descriptor("EntryGradeLevel", GRADE_LEVEL),
                "begin_date": entry,
                "end_date": node.date("ExitWithdrawDate"),
            },
            refs={"student": child, "school": school},
        )
    ]


def student_section(node: Node, child: Ref, target: Ref, *, begin_required: bool) -> list[Rec]:
    return [
        Rec(
            "student_section",
            f"{child.key}|{target.key}",
            node.line,
            node.tag,
            values={
                "begin_date": node.date("BeginDate", required=begin_required),
                "end_date": node.date("EndDate"),
            },
            refs={"student": child, "section": target},
        )
    ]


def student_membership(
    node: Node,
    child: Ref,
    group: Ref,
    *,
    begin_required: bool,
    extra: dict[str, Any] | None = None,
) -> list[Rec]:
    """A student's time in a program or cohort: a `student_<group kind>` record."""
    begin = node.date("BeginDate", required=begin_required)
    return [
        Rec(
            f"student_{group.kind}",
            f"{child.key}|{group.key}|{fmt_date(begin)}",
            node.line,
            node.tag,
            values={"begin_date": begin, "end_date": node.date("EndDate")},
            refs={"student": child, group.kind: group},
            extra=extra or {},
        )
    ]


def cohort(node: Node, org: Ref, program_id: str) -> list[Rec]:
    identifier = node.required("CohortIdentifier")
    return [
        Rec(
            "cohort",
            f"{org.key}|{identifier}",
            node.line,
            node.tag,
            values={
                "identifier": identifier,
                "description": node.text("CohortDescription"),
                "cohort_type": node.text("CohortType"),
                "scope": node.text("CohortScope"),
                "subject": node.text("AcademicSubject"),
                "program_id": program_id,
            },
            refs={"org": org},
        )
    ]


# --- Assessments, grades ------------------------------------------------------------------


def item_score_values(node: Node) -> dict[str, Any]:
    """A student's result on one assessment item."""
    return {
        "result": node.text("RawScoreResult"),
        "method": "Raw score",
        "item_result": node.text("AssessmentItemResult"),
        "response": node.text("AssessmentResponse"),
    }


def grade(
    node: Node, child: Ref, target: Ref, period: Ref | None, grade_type: str, school_year: str
) -> list[Rec]:
    return [
        Rec(
            "grade",
            f"{child.key}|{target.key}|{period.key if period else ''}|{grade_type}",
            node.line,
            node.tag,
            values={
                "grade_type": grade_type,
                "letter_grade": node.text("LetterGradeEarned"),
                "numeric_grade": node.decimal("NumericGradeEarned"),
                "school_year": school_year_end(school_year),
            },
            refs={"student": child, "section": target, "grading_period": period},
        )
    ]


def grade_prefix_ref(child: Ref, target: Ref, period: Ref | None) -> Ref:
    """A report card's grade: by student, section and period, so every grade type of them."""
    return Ref(
        "grade_prefix",
        f"{child.key}|{target.key}|{period.key if period else ''}",
        path="GradeReference",
    )


def report_card(
    node: Node,
    child: Ref,
    period: Ref | None,
    grades: list[Ref],
    *,
    school_year: int | None,
    gpa_grading_period: Decimal | None,
    gpa_cumulative: Decimal | None,
    days_absent: Decimal | None,
) -> list[Rec]:
    """The caller reads the school year, averages and days absent (in its own order)."""
    tardy = node.text("NumberOfDaysTardy")
    return [
        Rec(
            "report_card",
            f"{child.key}|{period.key if period else ''}",
            node.line,
            node.tag,
            values={
                "school_year": school_year,
                "gpa_grading_period": gpa_grading_period,
                "gpa_cumulative": gpa_cumulative,
                "days_absent": days_absent,
                "days_in_attendance": node.decimal("NumberOfDaysInAttendance"),
                "days_tardy": int(tardy) if tardy.isdigit() else None,
            },
            refs={"student": child, "grading_period": period},
            many={"grades": grades},
        )
    ]


def course_transcript(
    node: Node,
    child: Ref,
    record_key: str,
    taken: Ref,
    school: Ref | None,
    *,
    credits: str,
    grade_level: str,
) -> list[Rec]:
    """A course taken, in a student's academic record; `credits` and `grade_level` are the paths
    of the credits earned and of the grade level when taken."""
    result = node.required("CourseAttemptResult")
    return [
        Rec(
            "course_transcript",
            f"{record_key}|{taken.key}|{result}",
            node.line,
            node.tag,
            values={
                "attempt_result": result,
                "credits_earned": node.decimal(credits),
                "grade_level_when_taken": node.descriptor(grade_level, GRADE_LEVEL),
                "final_letter_grade": node.text("FinalLetterGradeEarned"),
                "final_numeric_grade": node.decimal("FinalNumericGradeEarned"),
            },
            refs={
                "student": child,
                "academic_record": Ref(
                    "academic_record", record_key, path="StudentAcademicRecordReference"
                ),
                "course": taken,
                "school": school,
            },
        )
    ]


# --- Discipline ---------------------------------------------------------------------------


def incident_values(
    node: Node, identifier: str, *, behaviors: list[str], weapons: list[str]
) -> dict[str, Any]:
    """A DisciplineIncident's values; the caller reads the school and staff references after."""
    return {
        "incident_identifier": identifier,
        "incident_date": node.date("IncidentDate", required=True),
        "incident_time": node.time("IncidentTime"),
        "location": node.text("IncidentLocation"),
        "reporter_description": node.text("ReporterDescription"),
        "reporter_name": node.text("ReporterName"),
        "description": node.text("IncidentDescription"),
        "behaviors": behaviors,
        "weapons": weapons,
        "reported_to_law_enforcement": node.boolean("ReportedToLawEnforcement"),
    }


def student_incident(
    node: Node, child: Ref, incident: Ref, *, participation: str, behaviors: list[str]
) -> list[Rec]:
    return [
        Rec(
            "student_discipline_incident",
            f"{child.key}|{incident.key}",
            node.line,
            node.tag,
            values={"participation": participation, "behaviors": behaviors},
            refs={"student": child, "incident": incident},
        )
    ]


def action_values(
    node: Node, identifier: str, when: date | None, disciplines: list[str]
) -> dict[str, Any]:
    """A DisciplineAction's values; the caller reads its references after."""
    return {
        "action_identifier": identifier,
        "action_date": when,
        "disciplines": "\n".join(disciplines),
        "length_days": node.decimal("DisciplineActionLength"),
        "actual_length_days": node.decimal("ActualDisciplineActionLength"),
        "length_difference_reason": node.text("DisciplineActionLengthDifferenceReason"),
    }
