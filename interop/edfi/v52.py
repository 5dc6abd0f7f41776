"""Ed-Fi 5.2 interchange elements (namespace http://ed-fi.org/5.2.0, the Ed-Fi Data Standard's
bulk schemas, Ed-Fi-Core.xsd) as the same neutral records as Ed-Fi 1.x.

What differs from 1.x: parents are Contacts (StudentContactAssociation), people are keyed by
StudentUniqueId / StaffUniqueId / ContactUniqueId, organizations by numeric ids in their own
elements (LocalEducationAgency, School), sections by SectionIdentifier within a course offering
(LocalCourseCode + school + school year + session), and enumerations are descriptor URIs, read as
their value by xml.clean. Entities name their parent (LearningStandard, ObjectiveAssessment) where
1.x lists children, and a StudentAssessment holds its objective and item results. Elements not in
READERS are counted in the report as not read (NOT_KEPT says why for some). Records built the same
way as from 1.x once the references are read are built by common.py.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from interop.edfi import common
from interop.edfi.common import ref_to
from interop.edfi.descriptors import GRADE_LEVEL, LANGUAGE, PROGRAM_TYPE
from interop.edfi.records import (
    Contact,
    Rec,
    Ref,
    fmt_date,
    school_year_end,
)
from interop.edfi.xml import Node, RecordError


def _school_id(node: Node | None) -> str:
    if node is None:
        return ""
    return node.text("SchoolIdentity/SchoolId")


def _org_id(node: Node | None) -> str:
    if node is None:
        return ""
    return (
        node.text("EducationOrganizationIdentity/EducationOrganizationId")
        or node.text("SchoolIdentity/SchoolId")
        or node.text("LocalEducationAgencyIdentity/LocalEducationAgencyId")
    )


def school_ref(node: Node, path: str = "SchoolReference") -> Ref:
    return ref_to(node, path, "edorg", _school_id(node.find(path)))


def optional_school_ref(node: Node, path: str = "SchoolReference") -> Ref | None:
    value = _school_id(node.find(path))
    return Ref("edorg", value, path=path) if value else None


def org_ref(node: Node, path: str) -> Ref:
    return ref_to(node, path, "edorg", _org_id(node.find(path)))


def student_ref(node: Node, path: str = "StudentReference") -> Ref:
    return ref_to(node, path, "student", node.text(f"{path}/StudentIdentity/StudentUniqueId"))


def staff_ref(node: Node, path: str = "StaffReference") -> Ref:
    return ref_to(node, path, "staff", node.text(f"{path}/StaffIdentity/StaffUniqueId"))


def contact_ref(node: Node, path: str = "ContactReference") -> Ref:
    return ref_to(node, path, "parent", node.text(f"{path}/ContactIdentity/ContactUniqueId"))


def _session_key(identity: Node) -> tuple[str, str, str]:
    school = _school_id(identity.find("SchoolReference"))
    year = identity.text("SchoolYear")
    name = identity.text("SessionName")
    if not (school and year and name):
        raise RecordError(
            "SessionIdentity needs a SchoolReference, a SchoolYear and a SessionName",
            "SessionReference",
        )
    return school, year, name


def session_ref(node: Node, path: str = "SessionReference") -> Ref:
    identity = node.child(f"{path}/SessionIdentity")
    school, year, name = _session_key(identity)
    return Ref(
        "session",
        f"{school}|{year}|{name}",
        create={"school": school, "title": name},
        path=path,
    )


def _offering_key(identity: Node) -> tuple[str, str]:
    """(school id, offering key) of a CourseOfferingIdentity."""
    code = identity.text("LocalCourseCode")
    session = identity.find("SessionReference/SessionIdentity")
    if not code or session is None:
        raise RecordError(
            "CourseOfferingIdentity needs a LocalCourseCode and a SessionReference",
            "CourseOfferingReference",
        )
    school, year, name = _session_key(session)
    return school, f"{code}|{school}|{year}|{name}"


def section_ref(node: Node, path: str = "SectionReference") -> Ref:
    identity = node.child(f"{path}/SectionIdentity")
    offering = identity.find("CourseOfferingReference/CourseOfferingIdentity")
    code = identity.text("SectionIdentifier")
    if offering is None or not code:
        raise RecordError(f"{path} needs a SectionIdentifier and a CourseOfferingReference", path)
    _school, offering_key = _offering_key(offering)
    return Ref("section", f"{offering_key}|{code}", path=path)


def _name(node: Node) -> dict[str, str]:
    """A person's name with the preferred first name 5.2 adds (a contact's is not kept)."""
    return {**common.name(node), "preferred_first_name": node.text("Name/PreferredFirstName")}


def _contacts(node: Node) -> list[Contact]:
    """Addresses, telephones and e-mail addresses; 5.2 gives their types as elements."""
    contacts = []
    for address in node.findall("Address"):
        value = common.address_value(address)
        if value:
            contacts.append(Contact("address", address.text("AddressType").lower(), value))
    for phone in node.findall("Telephone"):
        value = phone.text("TelephoneNumber")
        if value:
            contacts.append(
                Contact(
                    "phone",
                    phone.text("TelephoneNumberType").lower(),
                    value,
                    phone.text("OrderOfPriority") == "1",
                )
            )
    for email in node.findall("ElectronicMail"):
        value = email.text("ElectronicMailAddress")
        if value:
            contacts.append(
                Contact(
                    "email",
                    email.text("ElectronicMailType").lower(),
                    value,
                    email.boolean("PrimaryEmailAddressIndicator") is True,
                )
            )
    return contacts


# --- EducationOrganization -----------------------------------------------------------------


def _edorg(node: Node, org_id: str, category: str) -> list[Rec]:
    return common.edorg(
        node,
        org_id,
        category,
        grade_levels="GradeLevel",
        school_categories="SchoolCategory",
        school_number="EducationOrganizationIdentificationCode/IdentificationCode",
    )


def school(node: Node) -> list[Rec]:
    return _edorg(node, node.required("SchoolId"), "school")


def local_education_agency_rec(node: Node) -> list[Rec]:
    return _edorg(node, node.required("LocalEducationAgencyId"), "lea")


def state_education_agency(node: Node) -> list[Rec]:
    return _edorg(node, node.required("StateEducationAgencyId"), "sea")


def course(node: Node) -> list[Rec]:
    org = org_ref(node, "EducationOrganizationReference")
    code = node.required("CourseCode")
    return [
        Rec(
            "course",
            f"{org.key}|{code}",
            node.line,
            node.tag,
            values={
                "title": node.required("CourseTitle"),
                "course_code": code,
                "subject": node.text("AcademicSubject"),
            },
            refs={"school": org},
        )
    ]


# --- EducationOrgCalendar and MasterSchedule -----------------------------------------------


def session(node: Node) -> list[Rec]:
    target = school_ref(node)
    name = node.required("SessionName")
    year = node.required("SchoolYear")
    return [
        Rec(
            "session",
            f"{target.key}|{year}|{name}",
            node.line,
            node.tag,
            values={
                "title": name,
                "term": node.text("Term"),
                "start_date": node.date("BeginDate", required=True),
                "end_date": node.date("EndDate", required=True),
                "school_year": school_year_end(year),
            },
            refs={"school": target},
        )
    ]


def course_offering(node: Node) -> list[Rec]:
    return common.course_offering(
        node,
        school_ref(node),
        node.required("LocalCourseCode"),
        session_ref(node),
        _course_ref(node),
    )


def section(node: Node) -> list[Rec]:
    code = node.required("SectionIdentifier")
    offering = node.child("CourseOfferingReference/CourseOfferingIdentity")
    school_id, offering_key = _offering_key(offering)
    return [
        Rec(
            "section",
            f"{offering_key}|{code}",
            node.line,
            node.tag,
            values={"section_code": code, "title": node.text("SectionName") or code},
            refs={
                "school": Ref("edorg", school_id, path="CourseOfferingReference"),
                "session": session_ref(offering),
                "course_offering": Ref(
                    "course_offering", offering_key, path="CourseOfferingReference"
                ),
            },
        )
    ]


# --- StaffAssociation ----------------------------------------------------------------------


def staff(node: Node) -> list[Rec]:
    staff_id = node.required("StaffUniqueId")
    return [
        Rec(
            "staff",
            staff_id,
            node.line,
            node.tag,
            values={**_name(node), "staff_number": staff_id, "is_teacher": False},
            extra={"contacts": _contacts(node)},
        )
    ]


def staff_assignment(node: Node) -> list[Rec]:
    return common.staff_assignment(
        node, staff_ref(node), org_ref(node, "EducationOrganizationReference")
    )


def staff_section(node: Node) -> list[Rec]:
    return common.section_assignment(node, staff_ref(node), section_ref(node))


# --- Student, Contact, StudentEnrollment, Attendance ---------------------------------------


def student(node: Node) -> list[Rec]:
    student_id = node.required("StudentUniqueId")
    return [
        Rec(
            "student",
            student_id,
            node.line,
            node.tag,
            values={
                **_name(node),
                "state_id": student_id,
                "student_number": student_id,
                "birth_date": node.date("BirthData/BirthDate", required=True),
                "sex": node.descriptor("BirthData/BirthSex", "Sex"),
            },
            extra={"contacts": [], "programs": []},
        )
    ]


def contact(node: Node) -> list[Rec]:
    # Contact/Language/Language: a LanguageDescriptor (ISO 639-2 codes recommended), the first
    # one named. 5.2 defines no preferred contact method or time: those keep Trellis's defaults.
    return common.parent(
        node,
        node.required("ContactUniqueId"),
        _contacts(node),
        language=node.descriptor("Language/Language", LANGUAGE),
    )


def student_contact(node: Node) -> list[Rec]:
    return common.student_parent(node, student_ref(node), contact_ref(node))


def student_school(node: Node) -> list[Rec]:
    return common.student_school(node, student_ref(node), school_ref(node))


def student_section(node: Node) -> list[Rec]:
    return common.student_section(node, student_ref(node), section_ref(node), begin_required=True)


def school_attendance_event(node: Node) -> list[Rec]:
    child = student_ref(node)
    target = school_ref(node)
    event = node.child("AttendanceEvent")
    when = event.date("EventDate", required=True)
    event.required("AttendanceEventCategory")
    category = event.descriptor_code("AttendanceEventCategory", "AttendanceEventCategory")
    session_ = session_ref(node)
    return [
        Rec(
            "attendance_event",
            f"{child.key}|{target.key}|{fmt_date(when)}|{category}",
            node.line,
            node.tag,
            values={
                "event_date": when,
                "category": category,
                "reason": event.text("AttendanceEventReason"),
                "educational_environment": event.text("EducationalEnvironment"),
                "school_year": school_year_end(session_.key.split("|")[1]),
            },
            refs={"student": child, "school": target, "section": None},
        )
    ]


# --- StudentDiscipline ---------------------------------------------------------------------


def _incident_ref(node: Node) -> Ref:
    identity = node.child("DisciplineIncidentReference/DisciplineIncidentIdentity")
    school_id = _school_id(identity.find("SchoolReference"))
    identifier = identity.text("IncidentIdentifier")
    if not school_id or not identifier:
        raise RecordError(
            "DisciplineIncidentIdentity needs an IncidentIdentifier and a SchoolReference",
            "DisciplineIncidentReference",
        )
    return Ref(
        "discipline_incident", f"{school_id}|{identifier}", path="DisciplineIncidentReference"
    )


def discipline_incident(node: Node) -> list[Rec]:
    target = school_ref(node)
    identifier = node.required("IncidentIdentifier")
    values = common.incident_values(
        node, identifier, behaviors=node.texts("Behavior/Behavior"), weapons=node.texts("Weapon")
    )
    return [
        Rec(
            "discipline_incident",
            f"{target.key}|{identifier}",
            node.line,
            node.tag,
            values=values,
            # 5.2 names the staff involved in StaffDisciplineIncidentAssociation, not here.
            refs={"school": target, "reported_by": None},
        )
    ]


def _student_incident(node: Node, *, role: str, behaviors: list[str]) -> list[Rec]:
    """A student's part in an incident; `role` when the association names no participation."""
    return common.student_incident(
        node,
        student_ref(node),
        _incident_ref(node),
        participation=", ".join(node.texts("DisciplineIncidentParticipationCode")) or role,
        behaviors=behaviors,
    )


def student_incident_behavior(node: Node) -> list[Rec]:
    return _student_incident(node, role="Perpetrator", behaviors=[node.required("Behavior")])


def student_incident_non_offender(node: Node) -> list[Rec]:
    return _student_incident(node, role="Non-offender", behaviors=[])


def discipline_action(node: Node) -> list[Rec]:
    identifier = node.required("DisciplineActionIdentifier")
    when = node.date("DisciplineDate", required=True)
    child = student_ref(node)
    behaviors = node.findall(
        "StudentDisciplineIncidentBehaviorAssociationReference/"
        "StudentDisciplineIncidentBehaviorAssociationIdentity"
    )
    return [
        Rec(
            "discipline_action",
            f"{identifier}|{fmt_date(when)}|{child.key}",
            node.line,
            node.tag,
            values=common.action_values(node, identifier, when, node.texts("Discipline")),
            refs={
                # The incident the action answers: that of its first behavior association.
                "incident": _incident_ref(behaviors[0]) if behaviors else None,
                "assigned_by": staff_ref(node) if node.find("StaffReference") is not None else None,
                "responsibility_school": school_ref(node, "ResponsibilitySchoolReference"),
                "assignment_school": optional_school_ref(node, "AssignmentSchoolReference"),
            },
            many={"students": [child]},
        )
    ]


# --- StudentProgram and StudentCohort -------------------------------------------------------


def _program_key(node: Node, path: str, identity: str = "") -> tuple[str, str, str]:
    """(key, name, type) of a Program, or of the ProgramIdentity at `identity` (a path ending
    in '/'). The type is its descriptor's code value, whatever its namespace, and is counted in
    the run's mappings as the Trellis program it names."""
    org = _org_id(node.find(f"{identity}EducationOrganizationReference"))
    name = node.text(f"{identity}ProgramName")
    kind = node.descriptor_code(f"{identity}ProgramType", PROGRAM_TYPE)
    if not (org and name and kind):
        raise RecordError(
            f"{path} needs an EducationOrganizationReference, a ProgramName and a ProgramType",
            path,
        )
    return f"{org}|{name}|{kind}", name, kind


def program(node: Node) -> list[Rec]:
    key, name, kind = _program_key(node, "Program")
    return [
        Rec(
            "program",
            key,
            node.line,
            node.tag,
            values={
                "name": name,
                "program_type": kind,
                "sponsor": ", ".join(node.texts("ProgramSponsor")),
            },
        )
    ]


# The specialized associations say which program the participation is, whatever its type.
PROGRAM_OF_ASSOCIATION = {
    "StudentSpecialEducationProgramAssociation": "iep",
    "StudentLanguageInstructionProgramAssociation": "ell",
    "StudentSchoolFoodServiceProgramAssociation": "frl",
}


def student_program(node: Node) -> list[Rec]:
    child = student_ref(node)
    node.child("ProgramReference/ProgramIdentity")
    key, name, kind = _program_key(node, "ProgramReference", "ProgramReference/ProgramIdentity/")
    return common.student_membership(
        node,
        child,
        Ref("program", key, path="ProgramReference"),
        begin_required=True,
        extra={
            "program": {"name": name, "program_type": kind},
            "program_code": PROGRAM_OF_ASSOCIATION.get(node.tag, ""),
        },
    )


def cohort(node: Node) -> list[Rec]:
    org = org_ref(node, "EducationOrganizationReference")
    # Kept as the program's name (5.2 programs are keyed by organization and type).
    programs = node.texts("ProgramReference/ProgramIdentity/ProgramName")
    return common.cohort(node, org, programs[0] if programs else "")


def student_cohort(node: Node) -> list[Rec]:
    child = student_ref(node)
    identity = node.child("CohortReference/CohortIdentity")
    org = _org_id(identity.find("EducationOrganizationReference"))
    group = Ref("cohort", f"{org}|{identity.required('CohortIdentifier')}", path="CohortReference")
    return common.student_membership(node, child, group, begin_required=True)


# --- EducationOrgCalendar: calendar dates and grading periods --------------------------------


def calendar_date(node: Node) -> list[Rec]:
    when = node.date("Date", required=True)
    identity = node.child("CalendarReference/CalendarIdentity")
    target = school_ref(identity)
    code = identity.required("CalendarCode")
    return [
        Rec(
            "calendar_date",
            f"{target.key}|{identity.text('SchoolYear')}|{code}|{fmt_date(when)}",
            node.line,
            node.tag,
            values={"date": when, "event": ", ".join(node.texts("CalendarEvent"))},
            refs={"school": target},
        )
    ]


def _grading_period_key(identity: Node, path: str) -> tuple[str, str, str]:
    """(key, school id, name) of a GradingPeriod or a GradingPeriodIdentity."""
    school_id = _school_id(identity.find("SchoolReference"))
    descriptor = identity.text("GradingPeriod")
    name = identity.text("GradingPeriodName")
    year = identity.text("SchoolYear")
    if not (school_id and descriptor and name and year):
        raise RecordError(
            f"{path} needs a SchoolReference, a GradingPeriod, a GradingPeriodName and a "
            "SchoolYear",
            path,
        )
    return f"{school_id}|{year}|{descriptor}|{name}", school_id, name


def grading_period_ref(node: Node, path: str = "GradingPeriodReference") -> Ref | None:
    identity = node.find(f"{path}/GradingPeriodIdentity")
    if identity is None:
        return None
    key, school_id, name = _grading_period_key(identity, path)
    return Ref("grading_period", key, create={"school": school_id, "title": name}, path=path)


def grading_period(node: Node) -> list[Rec]:
    key, _school, name = _grading_period_key(node, "GradingPeriod")
    return [
        Rec(
            "grading_period",
            key,
            node.line,
            node.tag,
            values={
                "title": name,
                "start_date": node.date("BeginDate", required=True),
                "end_date": node.date("EndDate", required=True),
                "school_year": school_year_end(node.text("SchoolYear")),
            },
            refs={"school": school_ref(node)},
        )
    ]


# --- StudentGrade, StudentTranscript, StudentGradebook --------------------------------------


def _student_section_ref(node: Node) -> tuple[Ref, Ref]:
    path = "StudentSectionAssociationReference"
    identity = node.child(f"{path}/StudentSectionAssociationIdentity")
    return student_ref(identity), section_ref(identity)


def _required_period(node: Node) -> Ref:
    period = grading_period_ref(node)
    if period is None:
        raise RecordError(f"{node.tag} has no GradingPeriodReference", "GradingPeriodReference")
    return period


def _gpa(node: Node, *, cumulative: bool) -> Decimal | None:
    for average in node.findall("GradePointAverage"):
        if bool(average.boolean("IsCumulative")) == cumulative:
            return average.decimal("GradePointAverageValue")
    return None


def grade(node: Node) -> list[Rec]:
    child, target = _student_section_ref(node)
    return common.grade(
        node,
        child,
        target,
        _required_period(node),
        node.required("GradeType"),
        node.text("GradingPeriodReference/GradingPeriodIdentity/SchoolYear"),
    )


def report_card(node: Node) -> list[Rec]:
    child = student_ref(node)
    period = _required_period(node)
    grades = []
    for identity in node.findall("GradeReference/GradeIdentity"):
        grade_student, grade_section = _student_section_ref(identity)
        grades.append(
            common.grade_prefix_ref(grade_student, grade_section, _required_period(identity))
        )
    year = node.text("GradingPeriodReference/GradingPeriodIdentity/SchoolYear")
    return common.report_card(
        node,
        child,
        period,
        grades,
        school_year=school_year_end(year),
        gpa_grading_period=_gpa(node, cumulative=False),
        gpa_cumulative=_gpa(node, cumulative=True),
        days_absent=node.decimal("NumberOfDaysAbsent"),
    )


def _academic_record_key(identity: Node) -> tuple[Ref, str, str]:
    """(student, organization id, key) of a StudentAcademicRecord or its identity."""
    child = student_ref(identity)
    org = _org_id(identity.find("EducationOrganizationReference"))
    year = identity.text("SchoolYear")
    term = identity.text("Term")
    if not (org and year and term):
        raise RecordError(
            "StudentAcademicRecord needs an EducationOrganizationReference, a SchoolYear and "
            "a Term",
            "StudentAcademicRecordReference",
        )
    return child, org, f"{child.key}|{org}|{year}|{term}"


def academic_record(node: Node) -> list[Rec]:
    child, _org, key = _academic_record_key(node)
    return [
        Rec(
            "academic_record",
            key,
            node.line,
            node.tag,
            values={
                "school_year": school_year_end(node.text("SchoolYear")),
                "cumulative_credits_attempted": node.decimal("CumulativeAttemptedCredits/Credits"),
                "cumulative_credits_earned": node.decimal("CumulativeEarnedCredits/Credits"),
                "cumulative_gpa": _gpa(node, cumulative=True),
            },
            refs={"student": child, "session": None},
        )
    ]


def _course_ref(node: Node, path: str = "CourseReference") -> Ref:
    identity = node.child(f"{path}/CourseIdentity")
    org = _org_id(identity.find("EducationOrganizationReference"))
    code = identity.text("CourseCode")
    if not org or not code:
        raise RecordError(f"{path} needs a CourseCode and an organization", path)
    return Ref("course", f"{org}|{code}", create={"school": org, "title": code}, path=path)


def course_transcript(node: Node) -> list[Rec]:
    path = "StudentAcademicRecordReference"
    identity = node.child(f"{path}/StudentAcademicRecordIdentity")
    child, org, record_key = _academic_record_key(identity)
    return common.course_transcript(
        node,
        child,
        record_key,
        _course_ref(node),
        # The record's organization: kept as the school when it is one.
        Ref("edorg", org, path=path),
        credits="EarnedCredits/Credits",
        grade_level="WhenTakenGradeLevel",
    )


def _gradebook_key(identity: Node) -> str:
    identifier = identity.text("GradebookEntryIdentifier")
    namespace = identity.text("Namespace")
    if not identifier or not namespace:
        raise RecordError(
            "a gradebook entry needs a GradebookEntryIdentifier and a Namespace",
            "GradebookEntryReference",
        )
    return f"{namespace}|{identifier}"


def gradebook_entry(node: Node) -> list[Rec]:
    # Trellis keeps gradebook entries in their section: one without a section is refused.
    target = section_ref(node)
    assigned = node.date("DateAssigned", required=True)
    return [
        Rec(
            "gradebook_entry",
            _gradebook_key(node),
            node.line,
            node.tag,
            values={
                "title": node.required("Title"),
                "category": node.text("GradebookEntryType"),
                "assigned_on": assigned,
            },
            refs={"section": target},
        )
    ]


def student_gradebook_entry(node: Node) -> list[Rec]:
    child = student_ref(node)
    identity = node.child("GradebookEntryReference/GradebookEntryIdentity")
    entry_key = _gradebook_key(identity)
    return [
        Rec(
            "student_gradebook_entry",
            f"{child.key}|{entry_key}",
            node.line,
            node.tag,
            values={
                "scored_on": node.date("DateFulfilled"),
                # 5.2 references an entry without its date: the loader takes the entry's.
                "assigned_on": None,
                "letter": node.text("LetterGradeEarned"),
                "numeric": node.decimal("NumericGradeEarned") or node.decimal("PointsEarned"),
                "competency": node.text("CompetencyLevel"),
            },
            refs={
                "student": child,
                "section": None,
                "gradebook_entry": Ref(
                    "gradebook_entry", entry_key, path="GradebookEntryReference"
                ),
            },
        )
    ]


# --- Standards, AssessmentMetadata, StudentAssessment ---------------------------------------


def _number(value: str) -> Decimal | None:
    """A score bound (Ed-Fi's Result is text): None unless it is a number."""
    try:
        return Decimal(value) if value else None
    except InvalidOperation:
        return None


def standard_refs(node: Node, path: str = "LearningStandardReference") -> list[Ref]:
    return [
        Ref("standard", code, create={"code": code}, path=path)
        for code in node.texts(f"{path}/LearningStandardIdentity/LearningStandardId")
    ]


def learning_standard(node: Node) -> list[Rec]:
    code = node.required("LearningStandardId")
    subjects = node.texts("AcademicSubject")
    parent = standard_refs(node, "ParentLearningStandardReference")
    return [
        Rec(
            "standard",
            code,
            node.line,
            node.tag,
            values={
                "code": code,
                "description": node.required("Description"),
                "subject": subjects[0] if subjects else "",
                "grade_levels": node.descriptors("GradeLevel", GRADE_LEVEL),
                "framework": node.text("ContentStandard/Title"),
            },
            # 5.2 names a standard's parent in the child (1.x lists the children).
            many={"parents": parent},
        )
    ]


def assessment_key(identity: Node, path: str = "AssessmentReference") -> str:
    identifier = identity.text("AssessmentIdentifier")
    namespace = identity.text("Namespace")
    if not identifier or not namespace:
        raise RecordError("an assessment needs an AssessmentIdentifier and a Namespace", path)
    return f"{namespace}|{identifier}"


def assessment_ref(node: Node, path: str = "AssessmentReference") -> Ref:
    identity = node.child(f"{path}/AssessmentIdentity")
    return Ref("assessment", assessment_key(identity, path), path=path)


def _raw_score_bounds(node: Node) -> tuple[Decimal | None, Decimal | None]:
    for score in node.findall("AssessmentScore"):
        if score.text("AssessmentReportingMethod").lower() == "raw score":
            return _number(score.text("MinimumScore")), _number(score.text("MaximumScore"))
    return None, None


def assessment(node: Node) -> list[Rec]:
    title = node.required("AssessmentTitle")
    levels = []
    for rank, level in enumerate(node.findall("AssessmentPerformanceLevel"), start=1):
        code = level.required("PerformanceLevel")
        levels.append(
            {
                "code": code,
                "name": level.text("PerformanceLevelIndicatorName") or code,
                "min_score": _number(level.text("MinimumScore")),
                "max_score": _number(level.text("MaximumScore")),
                "rank": rank,
            }
        )
    min_raw, max_raw = _raw_score_bounds(node)
    subjects = node.texts("AcademicSubject")
    grades = node.descriptors("AssessedGradeLevel", GRADE_LEVEL)
    return [
        Rec(
            "assessment",
            assessment_key(node, "AssessmentIdentifier"),
            node.line,
            node.tag,
            values={
                "title": title,
                "category": node.text("AssessmentCategory"),
                "subject": subjects[0] if subjects else "",
                "family": node.text("AssessmentFamily"),
                "max_points": node.decimal("MaxRawScore") or max_raw,
                "min_points": min_raw,
                "grade": grades[0] if grades else "",
            },
            extra={"performance_levels": levels},
        )
    ]


def _objective_assessment_ref(node: Node, path: str) -> Ref | None:
    identity = node.find(f"{path}/ObjectiveAssessmentIdentity")
    if identity is None:
        return None
    code = identity.text("IdentificationCode")
    if not code:
        raise RecordError(f"{path} has no IdentificationCode", path)
    owner = assessment_ref(identity)
    return Ref("objective_assessment", f"{owner.key}|{code}", path=path)


def objective_assessment(node: Node) -> list[Rec]:
    code = node.required("IdentificationCode")
    owner = assessment_ref(node)
    return [
        Rec(
            "objective_assessment",
            f"{owner.key}|{code}",
            node.line,
            node.tag,
            values={
                "code": code,
                "title": node.text("Description") or node.text("Nomenclature") or code,
                "max_points": node.decimal("MaxRawScore"),
            },
            refs={
                "assessment": owner,
                # 5.2 names an objective assessment's parent in the child.
                "parent": _objective_assessment_ref(node, "ParentObjectiveAssessmentReference"),
            },
            many={"children": [], "objectives": [], "standards": standard_refs(node)},
        )
    ]


def assessment_item(node: Node) -> list[Rec]:
    code = node.required("IdentificationCode")
    owner = assessment_ref(node)
    correct = [
        response.text("ResponseValue")
        for response in node.findall("PossibleResponse")
        if response.boolean("CorrectResponse")
    ]
    return [
        Rec(
            "assessment_item",
            f"{owner.key}|{code}",
            node.line,
            node.tag,
            values={
                "code": code,
                "title": node.text("Nomenclature") or node.text("AssessmentItemCategory"),
                "max_points": node.decimal("MaxRawScore"),
                "correct_response": ", ".join(correct),
            },
            refs={"assessment": owner},
            many={"standards": standard_refs(node)},
        )
    ]


def _score(node: Node) -> tuple[str, str]:
    """The reporting method and result to keep: a numeric scale or raw score if any."""
    results = [
        (r.text("AssessmentReportingMethod"), r.text("Result")) for r in node.findall("ScoreResult")
    ]
    for preferred in ("scale score", "raw score"):
        for method, value in results:
            if method.lower() == preferred and value:
                return method, value
    return results[0] if results else ("", "")


def student_assessment(node: Node) -> list[Rec]:
    """A result and, nested in it in 5.2, its objective and item results."""
    child = student_ref(node)
    test = assessment_ref(node)
    identifier = node.required("StudentAssessmentIdentifier")
    # Optional in 5.2, but Trellis keeps every result on its date.
    when = node.date("AdministrationDate", required=True)
    method, result = _score(node)
    key = f"{child.key}|{test.key}|{identifier}"
    owner = Ref("student_assessment", key, path="StudentAssessmentIdentifier")
    records = [
        Rec(
            "student_assessment",
            key,
            node.line,
            node.tag,
            values={
                "administered_on": when,
                "result": result,
                "method": method,
                "performance_level": node.text("PerformanceLevel/PerformanceLevel"),
                "reason_not_tested": node.text("ReasonNotTested"),
            },
            refs={"student": child, "assessment": test},
        )
    ]
    for part in node.findall("StudentObjectiveAssessment"):
        path = "StudentObjectiveAssessment/ObjectiveAssessmentReference"
        target = _objective_assessment_ref(part, "ObjectiveAssessmentReference")
        if target is None:
            raise RecordError(
                "StudentObjectiveAssessment has no ObjectiveAssessmentReference", path
            )
        part_method, part_result = _score(part)
        records.append(
            Rec(
                "student_item_score",
                f"{key}|oa|{target.key}",
                part.line,
                node.tag,
                values={"result": part_result, "method": part_method},
                refs={"student_assessment": owner, "item": Ref(target.kind, target.key, path=path)},
            )
        )
    for part in node.findall("StudentAssessmentItem"):
        path = "StudentAssessmentItem/AssessmentItemReference"
        identity = part.find("AssessmentItemReference/AssessmentItemIdentity")
        code = identity.text("IdentificationCode") if identity is not None else ""
        if identity is None or not code:
            raise RecordError("StudentAssessmentItem has no AssessmentItemReference", path)
        item_key = f"{assessment_ref(identity).key}|{code}"
        records.append(
            Rec(
                "student_item_score",
                f"{key}|ai|{item_key}",
                part.line,
                node.tag,
                values=common.item_score_values(part),
                refs={
                    "student_assessment": owner,
                    "item": Ref("assessment_item", item_key, path=path),
                },
            )
        )
    return records


Reader = Callable[[Node], list[Rec]]

# StudentProgramAssociation and its specializations: each is a program participation.
PROGRAM_ASSOCIATIONS = [
    "StudentProgramAssociation",
    "StudentSpecialEducationProgramAssociation",
    "StudentLanguageInstructionProgramAssociation",
    "StudentSchoolFoodServiceProgramAssociation",
    "StudentCTEProgramAssociation",
    "StudentTitleIPartAProgramAssociation",
    "StudentMigrantEducationProgramAssociation",
    "StudentHomelessProgramAssociation",
    "StudentNeglectedOrDelinquentProgramAssociation",
]

READERS: dict[str, Reader] = {
    "StateEducationAgency": state_education_agency,
    "LocalEducationAgency": local_education_agency_rec,
    "School": school,
    "Course": course,
    "Session": session,
    "CourseOffering": course_offering,
    "Section": section,
    "Staff": staff,
    "StaffEducationOrganizationAssignmentAssociation": staff_assignment,
    "StaffSectionAssociation": staff_section,
    "Student": student,
    "Contact": contact,
    "StudentContactAssociation": student_contact,
    "StudentSchoolAssociation": student_school,
    "StudentSectionAssociation": student_section,
    "StudentSchoolAttendanceEvent": school_attendance_event,
    "DisciplineIncident": discipline_incident,
    "StudentDisciplineIncidentBehaviorAssociation": student_incident_behavior,
    "StudentDisciplineIncidentNonOffenderAssociation": student_incident_non_offender,
    "DisciplineAction": discipline_action,
    "Program": program,
    **dict.fromkeys(PROGRAM_ASSOCIATIONS, student_program),
    "Cohort": cohort,
    "StudentCohortAssociation": student_cohort,
    "CalendarDate": calendar_date,
    "GradingPeriod": grading_period,
    "Grade": grade,
    "ReportCard": report_card,
    "StudentAcademicRecord": academic_record,
    "CourseTranscript": course_transcript,
    "GradebookEntry": gradebook_entry,
    "StudentGradebookEntry": student_gradebook_entry,
    "LearningStandard": learning_standard,
    "Assessment": assessment,
    "ObjectiveAssessment": objective_assessment,
    "AssessmentItem": assessment_item,
    "StudentAssessment": student_assessment,
}

NOT_KEPT: dict[str, str] = {
    "Calendar": "kept as each calendar date's school",
    "StaffDisciplineIncidentAssociation": "staff involvement in incidents is not kept in Trellis",
    "StaffCohortAssociation": "cohort staff do not grant access in Trellis",
    "RestraintEvent": "restraint events are not kept in Trellis",
}

PASSES: dict[str, list[set[str]]] = {
    "InterchangeEducationOrganization": [
        {"StateEducationAgency", "LocalEducationAgency", "School"},
        {"Course", "Program"},
    ],
    "InterchangeEducationOrgCalendar": [{"Session", "GradingPeriod", "Calendar", "CalendarDate"}],
    "InterchangeMasterSchedule": [{"CourseOffering"}, {"Section"}],
    "InterchangeStaffAssociation": [
        {"Staff"},
        {"StaffEducationOrganizationAssignmentAssociation", "StaffSectionAssociation"},
    ],
    "InterchangeStudent": [{"Student"}],
    "InterchangeContact": [{"Contact"}, {"StudentContactAssociation"}],
    "InterchangeStudentEnrollment": [{"StudentSchoolAssociation", "StudentSectionAssociation"}],
    "InterchangeStudentProgram": [set(PROGRAM_ASSOCIATIONS)],
    "InterchangeStudentCohort": [
        {"Cohort"},
        {"StudentCohortAssociation", "StaffCohortAssociation"},
    ],
    "InterchangeStandards": [{"LearningStandard"}],
    "InterchangeAssessmentMetadata": [{"Assessment"}, {"ObjectiveAssessment", "AssessmentItem"}],
    "InterchangeStudentAssessment": [{"StudentAssessment"}],
    "InterchangeStudentGradebook": [{"GradebookEntry"}, {"StudentGradebookEntry"}],
    "InterchangeStudentGrade": [{"Grade"}, {"ReportCard"}],
    "InterchangeStudentTranscript": [{"StudentAcademicRecord"}, {"CourseTranscript"}],
    "InterchangeStudentAttendance": [{"StudentSchoolAttendanceEvent"}],
    "InterchangeStudentDiscipline": [
        {"DisciplineIncident"},
        {
            "StudentDisciplineIncidentBehaviorAssociation",
            "StudentDisciplineIncidentNonOffenderAssociation",
            "StaffDisciplineIncidentAssociation",
        },
        {"DisciplineAction"},
    ],
}
ORDER = list(PASSES)

DISTRICT_ROOTS = {"InterchangeEducationOrganization"}
DISTRICT_ELEMENTS = {"LocalEducationAgency"}


def local_education_agency(node: Node) -> tuple[str, str, str] | None:
    return (
        node.required("LocalEducationAgencyId"),
        node.required("NameOfInstitution"),
        node.text("Address/StateAbbreviation"),
    )
