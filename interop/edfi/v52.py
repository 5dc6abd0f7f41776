"""Ed-Fi 5.2 interchange elements (namespace http://ed-fi.org/5.2.0, the Ed-Fi Data Standard's
bulk schemas, Ed-Fi-Core.xsd) as the same neutral records as Ed-Fi 1.x.

What differs from 1.x: parents are Contacts (StudentContactAssociation), people are keyed by
StudentUniqueId / StaffUniqueId / ContactUniqueId, organizations by numeric ids in their own
elements (LocalEducationAgency, School), sections by SectionIdentifier within a course offering
(LocalCourseCode + school + school year + session), and enumerations are descriptor URIs, read as
their value by xml.clean. The roster, calendar, staff and attendance interchanges are read; other
5.2 elements are counted in the report as not read.
"""

from __future__ import annotations

from collections.abc import Callable

from interop.edfi.records import Contact, Rec, Ref, fmt_date, grade_code, school_year_end
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


def school_ref(node: Node, path: str = "SchoolReference", *, required: bool = True) -> Ref | None:
    value = _school_id(node.find(path))
    if not value:
        if required:
            raise RecordError(f"{node.tag} has no {path}", path)
        return None
    return Ref("edorg", value, path=path)


def org_ref(node: Node, path: str) -> Ref:
    value = _org_id(node.find(path))
    if not value:
        raise RecordError(f"{node.tag} has no {path}", path)
    return Ref("edorg", value, path=path)


def _unique(node: Node, path: str, identity: str, id_element: str, kind: str) -> Ref:
    value = node.text(f"{path}/{identity}/{id_element}")
    if not value:
        raise RecordError(f"{node.tag} has no {path}", path)
    return Ref(kind, value, path=path)


def student_ref(node: Node, path: str = "StudentReference") -> Ref:
    return _unique(node, path, "StudentIdentity", "StudentUniqueId", "student")


def staff_ref(node: Node, path: str = "StaffReference") -> Ref:
    return _unique(node, path, "StaffIdentity", "StaffUniqueId", "staff")


def contact_ref(node: Node, path: str = "ContactReference") -> Ref:
    return _unique(node, path, "ContactIdentity", "ContactUniqueId", "parent")


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
    identity = node.find(f"{path}/SessionIdentity")
    if identity is None:
        raise RecordError(f"{node.tag} has no {path}", path)
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
    identity = node.find(f"{path}/SectionIdentity")
    if identity is None:
        raise RecordError(f"{node.tag} has no {path}", path)
    offering = identity.find("CourseOfferingReference/CourseOfferingIdentity")
    code = identity.text("SectionIdentifier")
    if offering is None or not code:
        raise RecordError(f"{path} needs a SectionIdentifier and a CourseOfferingReference", path)
    _school, offering_key = _offering_key(offering)
    return Ref("section", f"{offering_key}|{code}", path=path)


def _name(node: Node) -> dict[str, str]:
    first = node.text("Name/FirstName")
    last = node.text("Name/LastSurname")
    if not first or not last:
        raise RecordError(f"{node.tag} has no Name/FirstName and Name/LastSurname", "Name")
    return {
        "first_name": first,
        "middle_name": node.text("Name/MiddleName"),
        "last_name": last,
        "preferred_first_name": node.text("Name/PreferredFirstName"),
    }


def _contacts(node: Node) -> list[Contact]:
    contacts = []
    for address in node.findall("Address"):
        parts = [
            address.text("StreetNumberName"),
            address.text("ApartmentRoomSuiteNumber"),
            address.text("City"),
            " ".join(
                p for p in (address.text("StateAbbreviation"), address.text("PostalCode")) if p
            ),
        ]
        value = ", ".join(p for p in parts if p)
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


def _sex(value: str) -> str:
    return {"male": "male", "female": "female", "non-binary": "nonbinary"}.get(value.lower(), "")


# --- EducationOrganization -----------------------------------------------------------------


def _edorg(node: Node, org_id: str, category: str) -> list[Rec]:
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
                "grade_levels": [grade_code(g) for g in node.texts("GradeLevel")],
                "school_categories": node.texts("SchoolCategory"),
                "school_number": node.text(
                    "EducationOrganizationIdentificationCode/IdentificationCode"
                ),
            },
        )
    ]


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
            f"{target.key}|{year}|{name}",  # type: ignore[union-attr]
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
    target = school_ref(node)
    code = node.required("LocalCourseCode")
    session_ = session_ref(node)
    identity = node.find("CourseReference/CourseIdentity")
    if identity is None:
        raise RecordError("CourseOffering has no CourseReference", "CourseReference")
    org = _org_id(identity.find("EducationOrganizationReference"))
    course_code = identity.text("CourseCode")
    if not org or not course_code:
        raise RecordError(
            "CourseReference needs a CourseCode and an organization", "CourseReference"
        )
    return [
        Rec(
            "course_offering",
            f"{code}|{session_.key}",
            node.line,
            node.tag,
            values={"title": node.text("LocalCourseTitle")},
            refs={
                "school": target,
                "session": session_,
                "course": Ref(
                    "course",
                    f"{org}|{course_code}",
                    create={"school": org, "title": course_code},
                    path="CourseReference",
                ),
            },
        )
    ]


def section(node: Node) -> list[Rec]:
    code = node.required("SectionIdentifier")
    offering = node.find("CourseOfferingReference/CourseOfferingIdentity")
    if offering is None:
        raise RecordError("Section has no CourseOfferingReference", "CourseOfferingReference")
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
    person = staff_ref(node)
    org = org_ref(node, "EducationOrganizationReference")
    classification = node.text("StaffClassification")
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


def staff_section(node: Node) -> list[Rec]:
    person = staff_ref(node)
    target = section_ref(node)
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
                "sex": _sex(node.text("BirthData/BirthSex")),
            },
            extra={"contacts": [], "programs": []},
        )
    ]


def contact(node: Node) -> list[Rec]:
    contact_id = node.required("ContactUniqueId")
    values = _name(node)
    values.pop("preferred_first_name")
    return [
        Rec(
            "parent",
            contact_id,
            node.line,
            node.tag,
            values=values,
            extra={"contacts": _contacts(node)},
        )
    ]


def student_contact(node: Node) -> list[Rec]:
    child = student_ref(node)
    adult = contact_ref(node)
    priority = node.text("ContactPriority")
    return [
        Rec(
            "student_parent",
            f"{child.key}|{adult.key}",
            node.line,
            node.tag,
            values={
                "relation": node.text("Relation"),
                "lives_with": bool(node.boolean("LivesWith")),
                "emergency_contact": bool(node.boolean("EmergencyContactStatus")),
                "primary_contact": bool(node.boolean("PrimaryContactStatus")),
                "contact_priority": int(priority) if priority.isdigit() else None,
                "contact_restrictions": node.text("ContactRestrictions"),
            },
            refs={"student": child, "parent": adult},
        )
    ]


def student_school(node: Node) -> list[Rec]:
    child = student_ref(node)
    target = school_ref(node)
    entry = node.date("EntryDate", required=True)
    return [
        Rec(
            "student_school",
            f"{child.key}|{target.key}|{fmt_date(entry)}",  # type: ignore[union-attr]
            node.line,
            node.tag,
            values={
                "grade_level": grade_code(node.required("EntryGradeLevel")),
                "begin_date": entry,
                "end_date": node.date("ExitWithdrawDate"),
            },
            refs={"student": child, "school": target},
        )
    ]


def student_section(node: Node) -> list[Rec]:
    child = student_ref(node)
    target = section_ref(node)
    return [
        Rec(
            "student_section",
            f"{child.key}|{target.key}",
            node.line,
            node.tag,
            values={
                "begin_date": node.date("BeginDate", required=True),
                "end_date": node.date("EndDate"),
            },
            refs={"student": child, "section": target},
        )
    ]


def school_attendance_event(node: Node) -> list[Rec]:
    child = student_ref(node)
    target = school_ref(node)
    event = node.find("AttendanceEvent")
    if event is None:
        raise RecordError("StudentSchoolAttendanceEvent has no AttendanceEvent", "AttendanceEvent")
    when = event.date("EventDate", required=True)
    category = event.required("AttendanceEventCategory")
    session_ = session_ref(node)
    return [
        Rec(
            "attendance_event",
            f"{child.key}|{target.key}|{fmt_date(when)}|{category}",  # type: ignore[union-attr]
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


Reader = Callable[[Node], list[Rec]]

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
}

NOT_KEPT: dict[str, str] = {}

PASSES: dict[str, list[set[str]]] = {
    "InterchangeEducationOrganization": [
        {"StateEducationAgency", "LocalEducationAgency", "School"},
        {"Course"},
    ],
    "InterchangeEducationOrgCalendar": [{"Session"}],
    "InterchangeMasterSchedule": [{"CourseOffering"}, {"Section"}],
    "InterchangeStaffAssociation": [
        {"Staff"},
        {"StaffEducationOrganizationAssignmentAssociation", "StaffSectionAssociation"},
    ],
    "InterchangeStudent": [{"Student"}],
    "InterchangeContact": [{"Contact"}, {"StudentContactAssociation"}],
    "InterchangeStudentEnrollment": [{"StudentSchoolAssociation", "StudentSectionAssociation"}],
    "InterchangeStudentAttendance": [{"StudentSchoolAttendanceEvent"}],
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
