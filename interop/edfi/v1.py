"""Ed-Fi 1.x interchange elements (namespace http://ed-fi.org/0100, inBloom's SLI schemas in
SLI-Ed-Fi-Core.xsd) as neutral records. One function per element; each returns records. This
module reads 1.x's references and keys; records 5.2 builds the same way are built by common.py."""

from __future__ import annotations

from collections.abc import Callable

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

# --- references by natural key -------------------------------------------------------------


def _edorg_id(node: Node | None) -> str:
    """StateOrganizationId inside any EducationalOrgIdentity (1.x names the reference element
    SchoolReference, EducationOrganizationReference, EducationalOrgReference…)."""
    if node is None:
        return ""
    return node.text("EducationalOrgIdentity/StateOrganizationId") or node.text(
        "StateOrganizationId"
    )


def edorg_ref(node: Node, path: str) -> Ref:
    return ref_to(node, path, "edorg", _edorg_id(node.find(path)))


def optional_edorg_ref(node: Node, path: str) -> Ref | None:
    value = _edorg_id(node.find(path))
    return Ref("edorg", value, path=path) if value else None


def student_ref(node: Node, path: str = "StudentReference") -> Ref:
    return ref_to(node, path, "student", node.text(f"{path}/StudentIdentity/StudentUniqueStateId"))


def staff_ref(node: Node, path: str = "StaffReference") -> Ref:
    return ref_to(node, path, "staff", node.text(f"{path}/StaffIdentity/StaffUniqueStateId"))


def _optional_staff_ref(node: Node) -> Ref | None:
    return staff_ref(node) if node.find("StaffReference") is not None else None


def parent_ref(node: Node, path: str = "ParentReference") -> Ref:
    return ref_to(node, path, "parent", node.text(f"{path}/ParentIdentity/ParentUniqueStateId"))


def section_key(identity: Node) -> str:
    school = _edorg_id(identity.find("EducationalOrgReference")) or identity.text(
        "StateOrganizationId"
    )
    code = identity.text("UniqueSectionCode")
    if not school or not code:
        raise RecordError(
            "SectionIdentity needs a school and a UniqueSectionCode", "SectionIdentity"
        )
    return f"{school}|{code}"


def section_ref(node: Node, path: str = "SectionReference") -> Ref:
    identity = node.child(f"{path}/SectionIdentity")
    return Ref("section", section_key(identity), path=path)


def session_ref(node: Node, path: str = "SessionReference") -> Ref:
    session = optional_session_ref(node, path)
    if session is None:
        raise RecordError(f"{node.tag} has no {path}", path)
    return session


def optional_session_ref(node: Node, path: str = "SessionReference") -> Ref | None:
    identity = node.find(f"{path}/SessionIdentity")
    if identity is None:
        return None
    school = _edorg_id(identity.find("EducationalOrgReference"))
    name = identity.text("SessionName")
    if not school or not name:
        raise RecordError(f"{path} needs an education organization and a SessionName", path)
    # The full natural key: a session missing everywhere is created from it, with a warning.
    return Ref("session", f"{school}|{name}", create={"school": school, "title": name}, path=path)


def grading_period_ref(node: Node, path: str = "GradingPeriodReference") -> Ref | None:
    identity = node.find(f"{path}/GradingPeriodIdentity")
    if identity is None:
        return None
    school = _edorg_id(identity.find("EducationalOrgReference"))
    name = identity.text("GradingPeriod")
    begin = identity.date("BeginDate")
    if not school or not name or begin is None:
        raise RecordError(f"{path} needs a school, a GradingPeriod and a BeginDate", path)
    key = f"{school}|{name}|{begin.isoformat()}"
    return Ref(
        "grading_period", key, create={"school": school, "title": name, "begin": begin}, path=path
    )


def course_ref(node: Node, path: str = "CourseReference") -> Ref:
    identity = node.child(f"{path}/CourseIdentity")
    school = _edorg_id(identity.find("EducationalOrgReference"))
    course_id = identity.text("UniqueCourseId") or identity.text("CourseCode/ID")
    if not school or not course_id:
        raise RecordError(f"{path} needs an education organization and a UniqueCourseId", path)
    return Ref(
        "course", f"{school}|{course_id}", create={"school": school, "title": course_id}, path=path
    )


def assessment_key(identity: Node) -> str:
    title = identity.text("AssessmentTitle")
    if not title:
        raise RecordError("AssessmentIdentity has no AssessmentTitle", "AssessmentIdentity")
    return f"{title}|{identity.text('GradeLevelAssessed')}|{identity.text('Version')}"


def assessment_ref(node: Node, path: str = "AssessmentReference") -> Ref:
    identity = node.child(f"{path}/AssessmentIdentity")
    return Ref("assessment", assessment_key(identity), path=path)


def standard_refs(node: Node, path: str = "LearningStandardReference") -> list[Ref]:
    refs = []
    for ref in node.findall(path):
        code = ref.text("LearningStandardIdentity/IdentificationCode")
        if code:
            refs.append(Ref("standard", code, create={"code": code}, path=path))
    return refs


def objective_ref_of(ref: Node, path: str) -> Ref | None:
    identity = ref.find("LearningObjectiveIdentity")
    if identity is None:
        return None
    code = identity.text("LearningObjectiveId/IdentificationCode")
    if code:
        return Ref("objective", code, path=path)
    text = identity.text("Objective")
    if not text:
        return None
    # Identified by its words, subject and grade: resolved through the loader's alias table.
    alias = f"{text}|{identity.text('AcademicSubject')}|{identity.text('ObjectiveGradeLevel')}"
    return Ref("objective_alias", alias, path=path)


def student_section_ref(
    node: Node, path: str = "StudentSectionAssociationReference"
) -> tuple[Ref, Ref]:
    identity = node.child(f"{path}/StudentSectionAssociationIdentity")
    return student_ref(identity), section_ref(identity)


def _contacts(node: Node) -> list[Contact]:
    """Addresses, telephones and e-mail addresses; 1.x gives their types as attributes."""
    contacts = []
    for address in node.findall("Address"):
        value = common.address_value(address)
        if value:
            contacts.append(Contact("address", address.attr("AddressType").lower(), value))
    for phone in node.findall("Telephone"):
        value = phone.text("TelephoneNumber")
        if value:
            contacts.append(
                Contact(
                    "phone",
                    phone.attr("TelephoneNumberType").lower(),
                    value,
                    phone.attr("PrimaryTelephoneNumberIndicator").lower() == "true",
                )
            )
    for email in node.findall("ElectronicMail"):
        value = email.text("EmailAddress")
        if value:
            contacts.append(Contact("email", email.attr("EmailAddressType").lower(), value))
    return contacts


# --- EducationOrganization ---------------------------------------------------------------


def education_organization(node: Node) -> list[Rec]:
    org_id = node.required("StateOrganizationId")
    categories = {c.lower() for c in node.texts("OrganizationCategories/OrganizationCategory")}
    if "school" in categories:
        category = "school"
    elif "local education agency" in categories:
        category = "lea"
    elif "state education agency" in categories:
        category = "sea"
    else:
        category = "other"
    return common.edorg(
        node,
        org_id,
        category,
        grade_levels="GradesOffered/GradeLevel",
        school_categories="SchoolCategories/SchoolCategory",
        school_number="EducationOrgIdentificationCode/ID",
        extra={"parent": _edorg_id(node.find("ParentEducationAgencyReference"))},
    )


def course(node: Node) -> list[Rec]:
    school = edorg_ref(node, "EducationOrganizationReference")
    course_id = node.text("UniqueCourseId") or node.required("CourseCode/ID")
    return [
        Rec(
            "course",
            f"{school.key}|{course_id}",
            node.line,
            node.tag,
            values={
                "title": node.required("CourseTitle"),
                "course_code": node.text("CourseCode/ID"),
                "subject": node.text("SubjectArea"),
            },
            refs={"school": school},
        )
    ]


def program(node: Node) -> list[Rec]:
    program_id = node.required("ProgramId")
    return [
        Rec(
            "program",
            program_id,
            node.line,
            node.tag,
            values={
                "program_type": node.descriptor_code("ProgramType", PROGRAM_TYPE),
                "sponsor": node.text("ProgramSponsor"),
            },
        )
    ]


# --- EducationOrgCalendar ------------------------------------------------------------------


def calendar_date(node: Node) -> list[Rec]:
    when = node.date("Date", required=True)
    school = edorg_ref(node, "EducationOrgReference")
    return [
        Rec(
            "calendar_date",
            f"{school.key}|{fmt_date(when)}",
            node.line,
            node.tag,
            values={"date": when, "event": node.text("CalendarEvent")},
            refs={"school": school},
        )
    ]


def grading_period(node: Node) -> list[Rec]:
    school = edorg_ref(node, "EducationOrganizationReference")
    name = node.required("GradingPeriod")
    begin = node.date("BeginDate", required=True)
    return [
        Rec(
            "grading_period",
            f"{school.key}|{name}|{fmt_date(begin)}",
            node.line,
            node.tag,
            values={
                "title": name,
                "start_date": begin,
                "end_date": node.date("EndDate", required=True),
                "school_year": school_year_end(node.text("SchoolYear")),
            },
            refs={"school": school},
        )
    ]


def session(node: Node) -> list[Rec]:
    school = edorg_ref(node, "EducationOrganizationReference")
    name = node.required("SessionName")
    return [
        Rec(
            "session",
            f"{school.key}|{name}",
            node.line,
            node.tag,
            values={
                "title": name,
                "term": node.text("Term"),
                "start_date": node.date("BeginDate", required=True),
                "end_date": node.date("EndDate", required=True),
                "school_year": school_year_end(node.required("SchoolYear")),
            },
            refs={"school": school},
        )
    ]


# --- MasterSchedule ------------------------------------------------------------------------


def course_offering(node: Node) -> list[Rec]:
    return common.course_offering(
        node,
        edorg_ref(node, "SchoolReference"),
        node.required("LocalCourseCode"),
        session_ref(node),
        course_ref(node),
    )


def section(node: Node) -> list[Rec]:
    school = edorg_ref(node, "SchoolReference")
    code = node.required("UniqueSectionCode")
    offering = node.find("CourseOfferingReference/CourseOfferingIdentity")
    offering_ref = None
    if offering is not None:
        offering_session = session_ref(offering)
        offering_ref = Ref(
            "course_offering",
            f"{offering.text('LocalCourseCode')}|{offering_session.key}",
            path="CourseOfferingReference",
        )
    return [
        Rec(
            "section",
            f"{school.key}|{code}",
            node.line,
            node.tag,
            values={"section_code": code},
            refs={
                "school": school,
                "session": optional_session_ref(node),
                "course_offering": offering_ref,
            },
        )
    ]


# --- StaffAssociation ----------------------------------------------------------------------


def staff(node: Node) -> list[Rec]:
    staff_id = node.required("StaffUniqueStateId")
    return [
        Rec(
            "staff",
            staff_id,
            node.line,
            node.tag,
            values={
                **common.name(node),
                "staff_number": staff_id,
                "is_teacher": node.tag == "Teacher",
            },
            extra={"contacts": _contacts(node), "login_id": node.text("LoginId")},
        )
    ]


def staff_edorg_assignment(node: Node) -> list[Rec]:
    return common.staff_assignment(
        node, staff_ref(node), edorg_ref(node, "EducationOrganizationReference")
    )


def teacher_school(node: Node) -> list[Rec]:
    person = staff_ref(node, "TeacherReference")
    org = edorg_ref(node, "SchoolReference")
    return [
        Rec(
            "staff_assignment",
            f"{person.key}|{org.key}",
            node.line,
            node.tag,
            values={"classification": "Teacher", "position": "Teacher"},
            refs={"staff": person, "org": org},
            extra={"supplement": True},
        )
    ]


def teacher_section(node: Node) -> list[Rec]:
    return common.section_assignment(node, staff_ref(node, "TeacherReference"), section_ref(node))


# --- StudentParent -------------------------------------------------------------------------


def student(node: Node) -> list[Rec]:
    student_id = node.required("StudentUniqueStateId")
    races = node.texts("Race/RacialCategory")
    programs = []
    food = node.text("SchoolFoodServicesEligibility").lower()
    if food in {"free", "reduced price"}:
        programs.append(("frl", node.text("SchoolFoodServicesEligibility")))
    if node.text("LimitedEnglishProficiency").lower() == "limited":
        programs.append(("ell", "Limited English proficiency"))
    if node.texts("Section504Disabilities/Section504Disability"):
        programs.append(
            ("504", ", ".join(node.texts("Section504Disabilities/Section504Disability")))
        )
    language = node.descriptor("Languages/Language", LANGUAGE) or node.descriptor(
        "HomeLanguages/Language", LANGUAGE
    )
    return [
        Rec(
            "student",
            student_id,
            node.line,
            node.tag,
            values={
                **common.name(node),
                "state_id": student_id,
                "student_number": node.text("StudentIdentificationCode/ID") or student_id,
                "birth_date": node.date("BirthData/BirthDate") or node.date("BirthDate"),
                "sex": node.descriptor("Sex", "Sex"),
                "home_language": language,
                "races": races,
                "hispanic_or_latino": node.boolean("HispanicLatinoEthnicity"),
            },
            extra={"contacts": _contacts(node), "programs": programs},
        )
    ]


def parent(node: Node) -> list[Rec]:
    # 1.x's Parent (SLC-Parent in SLI-Ed-Fi-Core.xsd) names no language: a parent is given
    # their child's home language when linked (Loader._load_student_parent).
    return common.parent(node, node.required("ParentUniqueStateId"), _contacts(node), language="")


def student_parent(node: Node) -> list[Rec]:
    return common.student_parent(node, student_ref(node), parent_ref(node))


# --- StudentEnrollment, StudentProgram, StudentCohort ---------------------------------------


def student_school(node: Node) -> list[Rec]:
    return common.student_school(node, student_ref(node), edorg_ref(node, "SchoolReference"))


def student_section(node: Node) -> list[Rec]:
    return common.student_section(node, student_ref(node), section_ref(node), begin_required=False)


def student_program(node: Node) -> list[Rec]:
    child = student_ref(node)
    program_id = node.required("ProgramReference/ProgramIdentity/ProgramId")
    program_ = Ref("program", program_id, path="ProgramReference")
    return common.student_membership(node, child, program_, begin_required=False)


def cohort(node: Node) -> list[Rec]:
    return common.cohort(
        node,
        edorg_ref(node, "EducationOrgReference"),
        node.text("ProgramReference/ProgramIdentity/ProgramId"),
    )


def _cohort_ref(node: Node) -> Ref:
    identity = node.child("CohortReference/CohortIdentity")
    org = _edorg_id(identity.find("EducationalOrgReference"))
    return Ref("cohort", f"{org}|{identity.required('CohortIdentifier')}", path="CohortReference")


def student_cohort(node: Node) -> list[Rec]:
    return common.student_membership(
        node, student_ref(node), _cohort_ref(node), begin_required=False
    )


# --- AssessmentMetadata --------------------------------------------------------------------


def learning_standard(node: Node) -> list[Rec]:
    code = node.required("LearningStandardId/IdentificationCode")
    return [
        Rec(
            "standard",
            code,
            node.line,
            node.tag,
            values={
                "code": code,
                "description": node.text("Description"),
                "subject": node.text("SubjectArea"),
                "grade_levels": node.descriptors("GradeLevel", GRADE_LEVEL),
                "framework": node.text("ContentStandard"),
            },
        )
    ]


def learning_objective(node: Node) -> list[Rec]:
    code = node.required("LearningObjectiveId/IdentificationCode")
    children = [
        ref
        for found in node.findall("LearningObjectiveReference")
        if (ref := objective_ref_of(found, "LearningObjectiveReference")) is not None
    ]
    text = node.required("Objective")
    subject = node.text("AcademicSubject")
    grade = node.text("ObjectiveGradeLevel")
    return [
        Rec(
            "objective",
            code,
            node.line,
            node.tag,
            values={
                "code": code,
                "description": text,
                "subject": subject,
                "grade_levels": node.descriptors("ObjectiveGradeLevel", GRADE_LEVEL),
            },
            many={"standards": standard_refs(node), "objectives": children},
            extra={"alias": f"{text}|{subject}|{grade}"},
        )
    ]


def assessment(node: Node) -> list[Rec]:
    title = node.required("AssessmentTitle")
    key = f"{title}|{node.text('GradeLevelAssessed')}|{node.text('Version')}"
    levels = []
    for rank, level in enumerate(node.findall("AssessmentPerformanceLevel"), start=1):
        code = level.text("PerformanceLevel/CodeValue") or level.text(
            "PerformanceLevel/Description"
        )
        if code:
            levels.append(
                {
                    "code": code,
                    "name": level.text("PerformanceLevel/Description") or code,
                    "min_score": level.decimal("MinimumScore"),
                    "max_score": level.decimal("MaximumScore"),
                    "rank": rank,
                }
            )
    family = node.text("AssessmentFamilyReference/AssessmentFamilyIdentity/AssessmentFamilyTitle")
    return [
        Rec(
            "assessment",
            key,
            node.line,
            node.tag,
            values={
                "title": title,
                "category": node.text("AssessmentCategory"),
                "subject": node.text("AcademicSubject"),
                "family": family,
                "max_points": node.decimal("MaxRawScore"),
                "min_points": node.decimal("MinRawScore"),
                "grade": node.descriptor("GradeLevelAssessed", GRADE_LEVEL),
            },
            extra={"performance_levels": levels},
        )
    ]


def objective_assessment(node: Node) -> list[Rec]:
    code = node.required("IdentificationCode")
    children = [
        Ref("objective_assessment", child_code, path="ObjectiveAssessmentReference")
        for child in node.findall("ObjectiveAssessmentReference")
        if (
            child_code := child.text(
                "ObjectiveAssessmentIdentity/ObjectiveAssessmentIdentificationCode"
            )
        )
    ]
    objectives = [
        ref
        for found in node.findall("LearningObjectiveReference")
        if (ref := objective_ref_of(found, "LearningObjectiveReference")) is not None
    ]
    return [
        Rec(
            "objective_assessment",
            code,
            node.line,
            node.tag,
            values={
                "code": code,
                "title": node.text("Nomenclature") or code,
                "max_points": node.decimal("MaxRawScore"),
            },
            refs={"assessment": assessment_ref(node)},
            many={"children": children, "objectives": objectives, "standards": standard_refs(node)},
        )
    ]


def assessment_item(node: Node) -> list[Rec]:
    code = node.required("IdentificationCode")
    return [
        Rec(
            "assessment_item",
            code,
            node.line,
            node.tag,
            values={
                "code": code,
                "title": node.text("ItemCategory"),
                "max_points": node.decimal("MaxRawScore"),
                "correct_response": node.text("CorrectResponse"),
            },
            refs={"assessment": assessment_ref(node)},
            many={"standards": standard_refs(node)},
        )
    ]


# --- StudentAssessment ---------------------------------------------------------------------


def _score(node: Node) -> tuple[str, str]:
    """The reporting method and result to keep: a numeric scale or raw score if any."""
    results = [
        (r.attr("AssessmentReportingMethod"), r.text("Result"))
        for r in node.findall("ScoreResults")
    ]
    for preferred in ("Scale score", "Raw score"):
        for method, value in results:
            if method == preferred and value:
                return method, value
    return results[0] if results else ("", "")


def student_assessment(node: Node) -> list[Rec]:
    child = student_ref(node)
    test = assessment_ref(node)
    when = node.date("AdministrationDate", required=True)
    method, result = _score(node)
    return [
        Rec(
            "student_assessment",
            f"{child.key}|{test.key}|{fmt_date(when)}",
            node.line,
            node.tag,
            values={
                "administered_on": when,
                "result": result,
                "method": method,
                "performance_level": node.text("PerformanceLevels/CodeValue")
                or node.text("PerformanceLevels/Description"),
                "reason_not_tested": node.text("ReasonNotTested"),
            },
            refs={"student": child, "assessment": test},
        )
    ]


def _student_assessment_of(node: Node) -> Ref:
    identity = node.child("StudentAssessmentReference/StudentAssessmentIdentity")
    child = student_ref(identity)
    test = assessment_ref(identity)
    when = identity.date("AdministrationDate", required=True)
    return Ref(
        "student_assessment",
        f"{child.key}|{test.key}|{fmt_date(when)}",
        path="StudentAssessmentReference",
    )


def student_objective_assessment(node: Node) -> list[Rec]:
    owner = _student_assessment_of(node)
    code = node.required(
        "ObjectiveAssessmentReference/ObjectiveAssessmentIdentity/ObjectiveAssessmentIdentificationCode"
    )
    method, result = _score(node)
    return [
        Rec(
            "student_item_score",
            f"{owner.key}|oa|{code}",
            node.line,
            node.tag,
            values={"result": result, "method": method},
            refs={
                "student_assessment": owner,
                "item": Ref("objective_assessment", code, path="ObjectiveAssessmentReference"),
            },
        )
    ]


def student_assessment_item(node: Node) -> list[Rec]:
    owner = _student_assessment_of(node)
    code = node.required(
        "AssessmentItemReference/AssessmentItemIdentity/AssessmentItemIdentificationCode"
    )
    return [
        Rec(
            "student_item_score",
            f"{owner.key}|ai|{code}",
            node.line,
            node.tag,
            values=common.item_score_values(node),
            refs={
                "student_assessment": owner,
                "item": Ref("assessment_item", code, path="AssessmentItemReference"),
            },
        )
    ]


# --- StudentGrade --------------------------------------------------------------------------


def _gradebook_key(identity: Node) -> str:
    target = identity.find("SectionReference/SectionIdentity")
    if target is None:
        raise RecordError("GradebookEntry has no SectionReference", "SectionReference")
    kind, assigned = identity.text("GradebookEntryType"), identity.text("DateAssigned")
    return f"{section_key(target)}|{kind}|{assigned}"


def gradebook_entry(node: Node) -> list[Rec]:
    node.required("DateAssigned")
    return [
        Rec(
            "gradebook_entry",
            _gradebook_key(node),
            node.line,
            node.tag,
            values={
                "title": node.text("Description")
                or node.text("GradebookEntryType")
                or "Gradebook entry",
                "category": node.text("GradebookEntryType"),
                "assigned_on": node.date("DateAssigned"),
            },
            refs={"section": section_ref(node)},
        )
    ]


def student_gradebook_entry(node: Node) -> list[Rec]:
    child, target = student_section_ref(node)
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
                "assigned_on": identity.date("DateAssigned"),
                "letter": node.text("LetterGradeEarned"),
                "numeric": node.decimal("NumericGradeEarned"),
                "competency": node.text("CompetencyLevel/CodeValue"),
            },
            refs={
                "student": child,
                "section": target,
                "gradebook_entry": Ref(
                    "gradebook_entry", entry_key, path="GradebookEntryReference"
                ),
            },
        )
    ]


def grade(node: Node) -> list[Rec]:
    child, target = student_section_ref(node)
    return common.grade(
        node,
        child,
        target,
        grading_period_ref(node),
        node.text("GradeType"),
        node.text("SchoolYear"),
    )


def report_card(node: Node) -> list[Rec]:
    child = student_ref(node)
    period = grading_period_ref(node)
    grades = []
    for reference in node.findall("GradeReference"):
        identity = reference.find("GradeIdentity")
        if identity is not None:
            grades.append(
                common.grade_prefix_ref(
                    student_ref(identity), section_ref(identity), grading_period_ref(identity)
                )
            )
    return common.report_card(
        node,
        child,
        period,
        grades,
        days_absent=node.decimal("NumberOfDaysAbsent"),
        school_year=school_year_end(node.text("SchoolYear")),
        gpa_grading_period=node.decimal("GPAGivenGradingPeriod"),
        gpa_cumulative=node.decimal("GPACumulative"),
    )


def _academic_record_key(identity: Node) -> tuple[Ref, Ref | None, str]:
    child = student_ref(identity)
    session_ = optional_session_ref(identity)
    year = identity.text("SchoolYear")
    return child, session_, f"{child.key}|{session_.key if session_ else ''}|{year}"


def academic_record(node: Node) -> list[Rec]:
    child, session_, key = _academic_record_key(node)
    return [
        Rec(
            "academic_record",
            key,
            node.line,
            node.tag,
            values={
                "school_year": school_year_end(node.text("SchoolYear")),
                "cumulative_credits_attempted": node.decimal("CumulativeCreditsAttempted/Credit"),
                "cumulative_credits_earned": node.decimal("CumulativeCreditsEarned/Credit"),
                "cumulative_gpa": node.decimal("CumulativeGradePointAverage"),
            },
            refs={"student": child, "session": session_},
        )
    ]


def course_transcript(node: Node) -> list[Rec]:
    identity = node.child("StudentAcademicRecordReference/StudentAcademicRecordIdentity")
    child, _session, record_key = _academic_record_key(identity)
    return common.course_transcript(
        node,
        child,
        record_key,
        course_ref(node),
        optional_edorg_ref(node, "EducationOrganizationReference"),
        credits="CreditsEarned/Credit",
        grade_level="GradeLevelWhenTaken",
    )


def student_competency(node: Node) -> list[Rec]:
    child, target = student_section_ref(node)
    reference = node.find("LearningObjectiveReference")
    objective = objective_ref_of(reference, "LearningObjectiveReference") if reference else None
    if objective is None:
        code = node.text(
            "StudentCompetencyObjectiveReference/StudentCompetencyObjectiveIdentity/"
            "StudentCompetencyObjectiveId"
        )
        if not code:
            raise RecordError(
                f"{node.tag} has no LearningObjectiveReference", "LearningObjectiveReference"
            )
        objective = Ref("objective", f"sco|{code}", path="StudentCompetencyObjectiveReference")
    return [
        Rec(
            "student_competency",
            f"{child.key}|{target.key}|{objective.kind}|{objective.key}",
            node.line,
            node.tag,
            values={"competency_level": node.required("CompetencyLevel/CodeValue")},
            refs={"student": child, "section": target, "objective": objective},
        )
    ]


def student_competency_objective(node: Node) -> list[Rec]:
    code = node.required("StudentCompetencyObjectiveId")
    return [
        Rec(
            "objective",
            f"sco|{code}",
            node.line,
            node.tag,
            values={
                "code": code,
                "description": node.required("Objective"),
                "subject": "",
                "grade_levels": node.descriptors("ObjectiveGradeLevel", GRADE_LEVEL),
            },
            many={"standards": [], "objectives": []},
            extra={"alias": "", "framework": "Student competency objectives"},
        )
    ]


# --- Attendance and discipline -------------------------------------------------------------


def attendance_event(node: Node) -> list[Rec]:
    child = student_ref(node)
    when = node.date("EventDate", required=True)
    node.required("AttendanceEventCategory")
    category = node.descriptor_code("AttendanceEventCategory", "AttendanceEventCategory")
    school = optional_edorg_ref(node, "SchoolReference")
    target = section_ref(node) if node.find("SectionReference") is not None else None
    where = school.key if school else (target.key if target else "")
    return [
        Rec(
            "attendance_event",
            f"{child.key}|{where}|{fmt_date(when)}|{category}",
            node.line,
            node.tag,
            values={
                "event_date": when,
                "category": category,
                "reason": node.text("AttendanceEventReason"),
                "educational_environment": node.text("EducationalEnvironment"),
                "school_year": school_year_end(node.text("SchoolYear")),
            },
            refs={"student": child, "school": school, "section": target},
        )
    ]


def _incident_key(identity: Node) -> str:
    school = _edorg_id(identity.find("EducationalOrgReference")) or _edorg_id(
        identity.find("SchoolReference")
    )
    return f"{school}|{identity.required('IncidentIdentifier')}"


def _behaviors(node: Node) -> list[str]:
    return node.texts("Behaviors/CodeValue") or node.texts("Behaviors/Description")


def discipline_incident(node: Node) -> list[Rec]:
    school = edorg_ref(node, "SchoolReference")
    identifier = node.required("IncidentIdentifier")
    values = common.incident_values(
        node, identifier, behaviors=_behaviors(node), weapons=node.texts("Weapons/Weapon")
    )
    return [
        Rec(
            "discipline_incident",
            f"{school.key}|{identifier}",
            node.line,
            node.tag,
            values=values,
            refs={"school": school, "reported_by": _optional_staff_ref(node)},
        )
    ]


def _optional_incident_ref(node: Node) -> Ref | None:
    identity = node.find("DisciplineIncidentReference/DisciplineIncidentIdentity")
    if identity is None:
        return None
    return Ref("discipline_incident", _incident_key(identity), path="DisciplineIncidentReference")


def _incident_ref(node: Node) -> Ref:
    incident = _optional_incident_ref(node)
    if incident is None:
        raise RecordError(
            f"{node.tag} has no DisciplineIncidentReference", "DisciplineIncidentReference"
        )
    return incident


def student_discipline_incident(node: Node) -> list[Rec]:
    return common.student_incident(
        node,
        student_ref(node),
        _incident_ref(node),
        participation=node.text("StudentParticipationCode"),
        behaviors=_behaviors(node),
    )


def discipline_action(node: Node) -> list[Rec]:
    identifier = node.required("DisciplineActionIdentifier")
    when = node.date("DisciplineDate", required=True)
    students = [
        Ref("student", sid, path="StudentReference")
        for found in node.findall("StudentReference")
        if (sid := found.text("StudentIdentity/StudentUniqueStateId"))
    ]
    if not students:
        raise RecordError(f"{node.tag} has no StudentReference", "StudentReference")
    return [
        Rec(
            "discipline_action",
            f"{identifier}|{fmt_date(when)}",
            node.line,
            node.tag,
            values=common.action_values(
                node,
                identifier,
                when,
                node.texts("Disciplines/Description") or node.texts("Disciplines/CodeValue"),
            ),
            refs={
                "incident": _optional_incident_ref(node),
                "assigned_by": _optional_staff_ref(node),
                "responsibility_school": optional_edorg_ref(node, "ResponsibilitySchoolReference"),
                "assignment_school": optional_edorg_ref(node, "AssignmentSchoolReference"),
            },
            many={"students": students},
        )
    ]


# Elements read, by interchange pass: records of a pass only reference earlier passes (or other
# files), so a file is read once per pass it needs and forward references inside it resolve.
Reader = Callable[[Node], list[Rec]]

READERS: dict[str, Reader] = {
    "EducationOrganization": education_organization,
    "Course": course,
    "Program": program,
    "CalendarDate": calendar_date,
    "GradingPeriod": grading_period,
    "Session": session,
    "CourseOffering": course_offering,
    "Section": section,
    "Staff": staff,
    "Teacher": staff,
    "StaffEducationOrgAssignmentAssociation": staff_edorg_assignment,
    "TeacherSchoolAssociation": teacher_school,
    "TeacherSectionAssociation": teacher_section,
    "Student": student,
    "Parent": parent,
    "StudentParentAssociation": student_parent,
    "StudentSchoolAssociation": student_school,
    "StudentSectionAssociation": student_section,
    "StudentProgramAssociation": student_program,
    "Cohort": cohort,
    "StudentCohortAssociation": student_cohort,
    "LearningStandard": learning_standard,
    "LearningObjective": learning_objective,
    "Assessment": assessment,
    "ObjectiveAssessment": objective_assessment,
    "AssessmentItem": assessment_item,
    "StudentAssessment": student_assessment,
    "StudentObjectiveAssessment": student_objective_assessment,
    "StudentAssessmentItem": student_assessment_item,
    "GradebookEntry": gradebook_entry,
    "StudentGradebookEntry": student_gradebook_entry,
    "Grade": grade,
    "ReportCard": report_card,
    "StudentAcademicRecord": academic_record,
    "CourseTranscript": course_transcript,
    "StudentCompetency": student_competency,
    "StudentCompetencyObjective": student_competency_objective,
    "AttendanceEvent": attendance_event,
    "DisciplineIncident": discipline_incident,
    "StudentDisciplineIncidentAssociation": student_discipline_incident,
    "DisciplineAction": discipline_action,
}

# Elements deliberately not kept, and why (the import report says so).
NOT_KEPT = {
    "AssessmentFamily": "kept as each assessment's family title, not as a record of its own",
    "AssessmentPeriodDescriptor": "Trellis keeps administration dates, not assessment periods",
    "StaffProgramAssociation": "program staff do not grant access in Trellis",
    "StaffCohortAssociation": "cohort staff do not grant access in Trellis",
}

# Passes per interchange root: element names, in the order they must be read.
PASSES: dict[str, list[set[str]]] = {
    "InterchangeEducationOrganization": [
        {"EducationOrganization"},
        {"Course", "Program"},
    ],
    "InterchangeEducationOrgCalendar": [{"CalendarDate", "GradingPeriod"}, {"Session"}],
    "InterchangeMasterSchedule": [{"CourseOffering"}, {"Section"}],
    "InterchangeStaffAssociation": [
        {"Staff", "Teacher"},
        {
            "StaffEducationOrgAssignmentAssociation",
            "TeacherSchoolAssociation",
            "TeacherSectionAssociation",
            "StaffProgramAssociation",
        },
    ],
    "InterchangeStudentParent": [{"Student", "Parent"}, {"StudentParentAssociation"}],
    "InterchangeStudentEnrollment": [{"StudentSchoolAssociation", "StudentSectionAssociation"}],
    "InterchangeStudentProgram": [{"StudentProgramAssociation"}],
    "InterchangeStudentCohort": [
        {"Cohort"},
        {"StudentCohortAssociation", "StaffCohortAssociation"},
    ],
    "InterchangeAssessmentMetadata": [
        {"LearningStandard", "AssessmentFamily", "AssessmentPeriodDescriptor"},
        {"LearningObjective"},
        {"Assessment"},
        {"ObjectiveAssessment", "AssessmentItem"},
    ],
    "InterchangeStudentAssessment": [
        {"StudentAssessment"},
        {"StudentObjectiveAssessment", "StudentAssessmentItem"},
    ],
    "InterchangeStudentGrade": [
        {"StudentCompetencyObjective", "GradebookEntry", "StudentAcademicRecord"},
        {"StudentGradebookEntry", "Grade", "CourseTranscript", "StudentCompetency"},
        {"ReportCard"},
    ],
    "InterchangeStudentAttendance": [{"AttendanceEvent"}],
    "InterchangeStudentDiscipline": [
        {"DisciplineIncident"},
        {"StudentDisciplineIncidentAssociation", "DisciplineAction"},
    ],
}

# Interchanges in dependency order, for a folder without a control file.
ORDER = list(PASSES)

# The district: the one local education agency of the EducationOrganization interchange.
DISTRICT_ROOTS = {"InterchangeEducationOrganization"}
DISTRICT_ELEMENTS = {"EducationOrganization"}
OBJECTIVE_ROOT = "InterchangeAssessmentMetadata"


def local_education_agency(node: Node) -> tuple[str, str, str] | None:
    categories = {c.lower() for c in node.texts("OrganizationCategories/OrganizationCategory")}
    if "local education agency" not in categories:
        return None
    return (
        node.required("StateOrganizationId"),
        node.required("NameOfInstitution"),
        node.text("Address/StateAbbreviation"),
    )
