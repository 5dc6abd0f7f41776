"""Export what Trellis holds for a district (or one school) as a OneRoster 1.1 or 1.2 bulk CSV zip.

What a strict validator accepts: every file in the standard's columns and column order
(interop.oneroster.schema), then its vendor columns (the `metadata.*` and other columns the
records were imported with, kept in their source_extra: interop.oneroster.vendor) in name order;
a complete manifest (manifest.version, oneroster.version, a file.<name> line for every file the
version's manifest lists, `absent` for those not written, source.systemName and
source.systemCode); UTF-8 without a BOM, unless `bom` asks for one; CRLF line ends. Active
records only. Records that did not come from OneRoster get a stable sourcedId from their primary
key ("trellis-<kind>-<id>"). Rows stream from the database into the zip; nothing is held whole.
The same records give the same bytes: members carry a fixed time, and rows go in primary-key
order.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from assessments.models import Assessment, AssessmentItem, ItemKind, Score, ScoreStatus
from interop.oneroster import schema
from interop.oneroster.importer import GRADE_CODES, RACE_COLUMNS
from interop.oneroster.vendor import column_names, columns_of
from privacy.services import StudentRef
from students.models import (
    AcademicSession,
    ContactDetail,
    Course,
    District,
    Enrollment,
    GuardianRelationship,
    Relationship,
    School,
    Section,
    SectionAssignment,
    Staff,
    StaffKind,
    StaffSchoolAssignment,
    Student,
    StudentSchoolMembership,
)

if TYPE_CHECKING:
    from students.models import Guardian, SourcedRecord

SESSION_TYPES = {kind: name for name, kind in schema.SESSION_TYPES.items()}
GRADES = {code: grade for grade, code in GRADE_CODES.items()}
SEXES = {"male": "male", "female": "female", "nonbinary": "other"}
STAFF_ROLES: dict[str, dict[str, str]] = {
    "1.1": {
        StaffKind.TEACHER: "teacher",
        StaffKind.AIDE: "aide",
        StaffKind.COUNSELOR: "administrator",
        StaffKind.ADMINISTRATOR: "administrator",
        StaffKind.DISTRICT: "administrator",
        StaffKind.OTHER: "proctor",
    },
    "1.2": {
        StaffKind.TEACHER: "teacher",
        StaffKind.AIDE: "aide",
        StaffKind.COUNSELOR: "counselor",
        StaffKind.ADMINISTRATOR: "siteAdministrator",
        StaffKind.DISTRICT: "districtAdministrator",
        StaffKind.OTHER: "proctor",
    },
}
GUARDIAN_ROLES: dict[str, str] = {
    Relationship.GUARDIAN: "guardian",
    Relationship.OTHER_RELATIVE: "relative",
    Relationship.MOTHER: "parent",
    Relationship.FATHER: "parent",
    Relationship.OTHER: "parent",
}
SCORE_STATUSES: dict[str, str] = {
    ScoreStatus.SCORED: "fully graded",
    ScoreStatus.LATE: "fully graded",
    ScoreStatus.EXEMPT: "exempt",
    ScoreStatus.MISSING: "not submitted",
    ScoreStatus.INCOMPLETE: "partially graded",
}


# A row's vendor columns travel with it under this key (never a column name: it holds a NUL).
EXTRA = "\0extra"
# Every member's time in the zip, so that the same records give the same bytes (the DOS epoch).
MEMBER_TIME = (1980, 1, 1, 0, 0, 0)


class ExportError(Exception):
    pass


def _sid(prefix: str, source_id: str, pk: int) -> str:
    return source_id or f"trellis-{prefix}-{pk}"


def _ids(
    model: type[SourcedRecord], prefix: str, queryset: QuerySet[SourcedRecord] | None = None
) -> dict[int | None, str]:
    """Each row's sourcedId by primary key (keyed so that a nullable foreign key looks up)."""
    rows = (queryset if queryset is not None else model.objects).values_list("pk", "source_id")
    return {pk: _sid(prefix, source_id, pk) for pk, source_id in rows.iterator(chunk_size=10000)}


def _date(value: date | None) -> str:
    return value.isoformat() if value else ""


def _stamp(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z") if value else ""


def _bool(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _decimal(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def _grades(codes: Iterable[str]) -> str:
    return ",".join(GRADES.get(code, code) for code in codes)


@dataclass
class ExportScope:
    district: District
    school_ids: set[int]
    version: str
    counts: dict[str, int] = field(default_factory=dict)


def oneroster_export(
    *,
    out: str | Path,
    version: str = "1.2",
    school_id: int | None = None,
    district_id: int | None = None,
    students_shown: Callable[[list[StudentRef]], object] | None = None,
    bom: bool = False,
) -> dict[str, int]:
    """Write the zip; returns the rows written per file. `students_shown` is given the students
    whose records the zip holds, for the access log. `bom` starts each file with a UTF-8 byte
    order mark (for spreadsheet programs that need one to read UTF-8)."""
    if version not in schema.FILES:
        raise ExportError(f"OneRoster version must be 1.1 or 1.2, not {version!r}.")
    if school_id is not None:
        school = School.objects.filter(pk=school_id).select_related("district").first()
        if school is None:
            raise ExportError(f"No school with id {school_id}.")
        district, school_ids = school.district, {school.pk}
    else:
        districts = District.objects.filter(is_active=True)
        if district_id is not None:
            districts = districts.filter(pk=district_id)
        found = list(districts[:2])
        if len(found) != 1:
            raise ExportError(
                "Name the district (--district ID) or a school (--school ID): "
                f"{'several districts' if found else 'no district'} found."
            )
        district = found[0]
        school_ids = set(
            School.objects.filter(district=district, is_active=True).values_list("pk", flat=True)
        )
    scope = ExportScope(district, school_ids, version)
    writer = _Writer(scope)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for spec in schema.FILES[version]:
            rows = writer.rows_for(spec.name)
            if rows is None:
                continue
            vendor = column_names(writer.extras_for(spec.name), spec.columns)
            count = _write_csv(archive, spec, rows, vendor, bom=bom)
            scope.counts[spec.name] = count
        if students_shown is not None:
            students_shown(
                [
                    StudentRef(id=pk, uuid=str(uuid))
                    for pk, uuid in writer.students_qs.values_list("pk", "uuid").iterator()
                ]
            )
        manifest = io.StringIO()
        if bom:
            manifest.write("\ufeff")
        out_csv = csv.writer(manifest, lineterminator="\r\n")
        out_csv.writerow(["propertyName", "value"])
        out_csv.writerow(["manifest.version", "1.0"])
        out_csv.writerow(["oneroster.version", version])
        for name in schema.MANIFEST_FILES[version]:
            mode = "bulk" if name in scope.counts else "absent"
            out_csv.writerow([f"file.{name}", mode])
        out_csv.writerow(["source.systemName", "Trellis"])
        out_csv.writerow(["source.systemCode", "trellis"])
        archive.writestr(_member(schema.MANIFEST), manifest.getvalue().encode("utf-8"))
    return scope.counts


def _member(name: str) -> zipfile.ZipInfo:
    """A zip member with a fixed time (MEMBER_TIME), compressed, readable by all."""
    info = zipfile.ZipInfo(name, date_time=MEMBER_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write_csv(
    archive: zipfile.ZipFile,
    spec: schema.FileSpec,
    rows: Iterator[dict],
    vendor: list[str],
    *,
    bom: bool,
) -> int:
    """The standard's columns, then the vendor columns; each row's vendor values come under
    EXTRA (its source_extra) and fill only the vendor columns."""
    count = 0
    vendor_set = set(vendor)
    with archive.open(_member(spec.filename), "w") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig" if bom else "utf-8", newline="")
        out = csv.DictWriter(text, fieldnames=(*spec.columns, *vendor), lineterminator="\r\n")
        out.writeheader()
        for row in rows:
            extra = row.pop(EXTRA, None)
            if extra and vendor_set:
                for column, value in columns_of(extra).items():
                    if column in vendor_set:
                        row[column] = value
            out.writerow(row)
            count += 1
        text.flush()
        text.detach()
    return count


class _Writer:
    """The rows of each file, as dicts keyed by column."""

    def __init__(self, scope: ExportScope) -> None:
        self.scope = scope
        self.version = scope.version
        district = scope.district
        self.district_sid = _sid("district", district.source_id, district.pk)
        self.schools = _ids(School, "school", School.objects.filter(pk__in=scope.school_ids))
        self.sessions = _ids(
            AcademicSession, "session", AcademicSession.objects.filter(district=district)
        )
        self.sections_qs = Section.objects.filter(
            school_id__in=scope.school_ids,
            is_active=True,
            course__isnull=False,
            session__isnull=False,
        )
        self.sections = _ids(Section, "class", self.sections_qs)
        self.courses_qs = Course.objects.filter(district=district, is_active=True).filter(
            Q(school_id__in=scope.school_ids)
            | Q(pk__in=self.sections_qs.values("course_id"))
            | Q(school__isnull=True)
        )
        self.courses = _ids(Course, "course", self.courses_qs)
        self.memberships = StudentSchoolMembership.objects.filter(
            school_id__in=scope.school_ids, is_active=True
        )
        self.students_qs = Student.objects.filter(
            district=district, is_active=True, pk__in=self.memberships.values("student_id")
        )
        self.students = _ids(Student, "user", self.students_qs)
        self.assignments = StaffSchoolAssignment.objects.filter(
            school_id__in=scope.school_ids, is_active=True
        )
        staff_filter = Q(pk__in=self.assignments.values("staff_id")) | Q(
            pk__in=SectionAssignment.objects.filter(section__in=self.sections_qs).values("staff_id")
        )
        if len(scope.school_ids) > 1 or not scope.school_ids:
            staff_filter |= Q(school_assignments__isnull=True)
        self.staff_qs = (
            Staff.objects.filter(district=district, is_active=True).filter(staff_filter).distinct()
        )
        self.staff = _ids(Staff, "user", self.staff_qs)
        self.relationships = GuardianRelationship.objects.filter(
            is_active=True, student_id__in=list(self.students), guardian__is_active=True
        )
        guardian_ids = set(self.relationships.values_list("guardian_id", flat=True))
        from students.models import Guardian

        self.guardians_qs = Guardian.objects.filter(pk__in=guardian_ids)
        self.guardians = _ids(Guardian, "user", self.guardians_qs)
        self.assessments_qs = Assessment.objects.filter(
            section_id__in=list(self.sections), is_active=True, due_on__isnull=False
        )
        self.assessments = _ids(Assessment, "lineitem", self.assessments_qs)

    def rows_for(self, name: str) -> Iterator[dict] | None:
        method = getattr(self, f"file_{name}", None)
        return method() if method is not None else None

    def extras_for(self, name: str) -> Iterator[dict]:
        """The source_extra of every record a file's rows come from that holds any (one pass in
        the database before the file is written: its header names the vendor columns)."""
        sources: dict[str, list[tuple[QuerySet, str]]] = {
            "orgs": [
                (District.objects.filter(pk=self.scope.district.pk), "source_extra"),
                (School.objects.filter(pk__in=self.scope.school_ids), "source_extra"),
            ],
            "academicSessions": [(self._sessions_qs(), "source_extra")],
            "courses": [(self.courses_qs, "source_extra")],
            "classes": [(self.sections_qs, "source_extra")],
            "users": [
                (self.students_qs, "source_extra"),
                (self.staff_qs, "source_extra"),
                (self.guardians_qs, "source_extra"),
            ],
            "roles": [(self.memberships, "source_extra"), (self.assignments, "source_extra")],
            "demographics": [(self.students_qs, "demographics_extra")],
            "enrollments": [
                (self._enrollments_qs(), "source_extra"),
                (self._section_assignments_qs(), "source_extra"),
            ],
            "lineItems": [(self.assessments_qs, "source_extra")],
            "results": [(self._scores(items=False), "source_extra")],
            "resultLearningObjectiveIds": [(self._objective_scores(), "source_extra")],
        }
        for queryset, column in sources.get(name, []):
            yield from (
                queryset.exclude(**{column: {}})
                .values_list(column, flat=True)
                .iterator(chunk_size=5000)
            )

    def _sessions_qs(self) -> QuerySet[AcademicSession]:
        return AcademicSession.objects.filter(district=self.scope.district, is_active=True)

    def _enrollments_qs(self) -> QuerySet[Enrollment]:
        return Enrollment.objects.filter(
            section_id__in=list(self.sections), is_active=True, student__is_active=True
        )

    def _section_assignments_qs(self) -> QuerySet[SectionAssignment]:
        return SectionAssignment.objects.filter(section_id__in=list(self.sections), is_active=True)

    def _common(self, source_id: str, updated_at: datetime | None) -> dict:
        return {"sourcedId": source_id, "status": "active", "dateLastModified": _stamp(updated_at)}

    def file_orgs(self) -> Iterator[dict]:
        district = self.scope.district
        yield {
            **self._common(self.district_sid, district.updated_at),
            "name": district.name,
            "type": "district",
            "identifier": district.nces_id,
            "parentSourcedId": "",
            EXTRA: district.source_extra,
        }
        for school in School.objects.filter(pk__in=self.scope.school_ids).order_by("pk"):
            yield {
                **self._common(self.schools[school.pk], school.updated_at),
                "name": school.name,
                "type": "school",
                "identifier": school.school_number,
                "parentSourcedId": self.district_sid,
                EXTRA: school.source_extra,
            }

    def file_academicSessions(self) -> Iterator[dict]:
        for session in self._sessions_qs().order_by("pk"):
            yield {
                **self._common(self.sessions[session.pk], session.updated_at),
                "title": session.title,
                "type": SESSION_TYPES[session.kind],
                "startDate": _date(session.start_date),
                "endDate": _date(session.end_date),
                "parentSourcedId": self.sessions.get(session.parent_id, ""),
                "schoolYear": session.school_year,
                EXTRA: session.source_extra,
            }

    def file_courses(self) -> Iterator[dict]:
        for course in self.courses_qs.order_by("pk"):
            yield {
                **self._common(self.courses[course.pk], course.updated_at),
                "schoolYearSourcedId": "",
                "title": course.title,
                "courseCode": course.course_code,
                "grades": _grades(course.grade_levels),
                "orgSourcedId": self.schools.get(course.school_id, self.district_sid),
                "subjects": course.subject,
                "subjectCodes": "",
                EXTRA: course.source_extra,
            }

    def file_classes(self) -> Iterator[dict]:
        for section in self.sections_qs.order_by("pk").iterator(chunk_size=5000):
            yield {
                **self._common(self.sections[section.pk], section.updated_at),
                "title": section.title,
                "grades": _grades(section.grade_levels),
                "courseSourcedId": self.courses[section.course_id],
                "classCode": section.section_code,
                "classType": "scheduled",
                "location": section.room,
                "schoolSourcedId": self.schools[section.school_id],
                "termSourcedIds": self.sessions[section.session_id],
                "subjects": section.subject,
                "subjectCodes": "",
                "periods": section.period,
                EXTRA: section.source_extra,
            }

    # --- users and roles

    def _contacts(self) -> dict[tuple[str, int | None], dict[str, str]]:
        found: dict[tuple[str, int | None], dict[str, str]] = defaultdict(dict)
        contacts = ContactDetail.objects.filter(
            district=self.scope.district, is_active=True
        ).order_by("-is_primary", "pk")
        for contact in contacts.iterator(chunk_size=5000):
            owner = (
                ("student", contact.student_id)
                if contact.student_id
                else ("guardian", contact.guardian_id)
                if contact.guardian_id
                else ("staff", contact.staff_id)
            )
            column = (
                "email"
                if contact.kind == "email"
                else ("sms" if contact.label in {"sms", "mobile"} else "phone")
            )
            if contact.kind == "address":
                continue
            found[owner].setdefault(column, contact.value)
        return found

    def _people(self) -> Iterator[tuple[str, Student | Staff | Guardian, str, list]]:
        """(kind, record, primary role, [(role, org sid, begin, end, grade, vendor columns)]) for
        every exported user."""
        student_schools: dict[int, list] = defaultdict(list)
        for membership in self.memberships.order_by("pk").iterator(chunk_size=10000):
            student_schools[membership.student_id].append(membership)
        for student in self.students_qs.order_by("pk").iterator(chunk_size=5000):
            orgs = [
                (
                    "student",
                    self.schools[m.school_id],
                    m.begin_date,
                    m.end_date,
                    m.grade_level,
                    m.source_extra,
                )
                for m in student_schools[student.pk]
            ]
            yield "student", student, "student", orgs
        staff_schools: dict[int, list] = defaultdict(list)
        for assignment in self.assignments.order_by("pk"):
            staff_schools[assignment.staff_id].append(assignment)
        roles = STAFF_ROLES[self.version]
        for staff in self.staff_qs.order_by("pk"):
            kind_role = roles[staff.kind]
            orgs = []
            for a in staff_schools[staff.pk]:
                role = a.position if a.position in schema.USER_ROLES[self.version] else kind_role
                orgs.append(
                    (role, self.schools[a.school_id], a.begin_date, a.end_date, "", a.source_extra)
                )
            if not orgs:
                orgs = [(kind_role, self.district_sid, None, None, "", {})]
            yield "staff", staff, orgs[0][0], orgs
        guardian_roles: dict[int, str] = {}
        for guardian_id, relationship in self.relationships.order_by("pk").values_list(
            "guardian_id", "relationship"
        ):
            guardian_roles.setdefault(guardian_id, GUARDIAN_ROLES[relationship])
        for guardian in self.guardians_qs.order_by("pk"):
            role = guardian_roles[guardian.pk]
            yield "guardian", guardian, role, [(role, self.district_sid, None, None, "", {})]

    def _agents(self) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
        of_student: dict[int, list[str]] = defaultdict(list)
        of_guardian: dict[int, list[str]] = defaultdict(list)
        for guardian_id, student_id in self.relationships.order_by("pk").values_list(
            "guardian_id", "student_id"
        ):
            of_student[student_id].append(self.guardians[guardian_id])
            of_guardian[guardian_id].append(self.students[student_id])
        return of_student, of_guardian

    def file_users(self) -> Iterator[dict]:
        contacts = self._contacts()
        of_student, of_guardian = self._agents()
        ids = {"student": self.students, "staff": self.staff, "guardian": self.guardians}
        for kind, person, role, orgs in self._people():
            sid = ids[kind][person.pk]
            mine = contacts.get((kind, person.pk), {})
            agents = (
                of_student.get(person.pk, [])
                if kind == "student"
                else (of_guardian.get(person.pk, []) if kind == "guardian" else [])
            )
            grades = sorted({org[4] for org in orgs if org[4]})
            number = getattr(person, "student_number", None) or getattr(person, "staff_number", "")
            row = {
                **self._common(sid, person.updated_at),
                "enabledUser": "true",
                "username": sid,
                "userIds": "",
                "givenName": person.first_name,
                "familyName": person.last_name,
                "middleName": person.middle_name,
                "identifier": number,
                "email": mine.get("email", ""),
                "sms": mine.get("sms", ""),
                "phone": mine.get("phone", ""),
                "agentSourcedIds": ",".join(agents),
                "grades": _grades(grades),
                "password": "",
                EXTRA: person.source_extra,
            }
            if self.version == "1.1":
                row["role"] = role
                row["orgSourcedIds"] = ",".join(dict.fromkeys(org[1] for org in orgs)) or (
                    self.district_sid
                )
            else:
                row.update(
                    {
                        "userMasterIdentifier": "",
                        "resourceSourcedIds": "",
                        "preferredGivenName": person.preferred_first_name,
                        "preferredMiddleName": "",
                        "preferredFamilyName": "",
                        "primaryOrgSourcedId": orgs[0][1] if orgs else "",
                        "pronouns": "",
                    }
                )
            yield row

    def file_roles(self) -> Iterator[dict]:
        ids = {"student": self.students, "staff": self.staff, "guardian": self.guardians}
        for kind, person, _, orgs in self._people():
            sid = ids[kind][person.pk]
            for index, (role, org, begin, end, _, extra) in enumerate(orgs):
                yield {
                    **self._common(f"{sid}:{org}", person.updated_at),
                    "userSourcedId": sid,
                    "roleType": "primary" if index == 0 else "secondary",
                    "role": role,
                    "beginDate": _date(begin),
                    "endDate": _date(end),
                    "orgSourcedId": org,
                    "userProfileSourcedId": "",
                    EXTRA: extra,
                }

    def file_demographics(self) -> Iterator[dict]:
        races = {race: column for column, race in RACE_COLUMNS.items()}
        for student in self.students_qs.order_by("pk").iterator(chunk_size=5000):
            if not (
                student.birth_date
                or student.sex
                or student.races
                or student.hispanic_or_latino is not None
                or student.demographics_extra
            ):
                continue
            row = {
                **self._common(self.students[student.pk], student.updated_at),
                "birthDate": _date(student.birth_date),
                "sex": SEXES.get(student.sex, "unspecified" if self.version == "1.2" else ""),
                "hispanicOrLatinoEthnicity": _bool(student.hispanic_or_latino),
                EXTRA: student.demographics_extra,
            }
            if not student.sex:
                row["sex"] = ""
            elif row["sex"] not in schema.SEXES[self.version]:
                row["sex"] = ""  # 1.1 knows only male and female
            for race, column in races.items():
                row[column] = _bool(race in student.races) if student.races else ""
            if student.races:
                row["demographicRaceTwoOrMoreRaces"] = _bool(len(student.races) > 1)
            yield row

    def file_enrollments(self) -> Iterator[dict]:
        section_school = dict(self.sections_qs.values_list("pk", "school_id"))
        for enrollment in self._enrollments_qs().order_by("pk").iterator(chunk_size=10000):
            if enrollment.student_id not in self.students:
                continue
            yield {
                **self._common(
                    _sid("enrollment", enrollment.source_id, enrollment.pk), enrollment.updated_at
                ),
                "classSourcedId": self.sections[enrollment.section_id],
                "schoolSourcedId": self.schools[section_school[enrollment.section_id]],
                "userSourcedId": self.students[enrollment.student_id],
                "role": "student",
                "primary": "false",
                "beginDate": _date(enrollment.begin_date),
                "endDate": _date(enrollment.end_date),
                EXTRA: enrollment.source_extra,
            }
        kinds = dict(self.staff_qs.values_list("pk", "kind"))
        for assignment in self._section_assignments_qs().order_by("pk"):
            if assignment.staff_id not in self.staff:
                continue
            role = (
                "administrator"
                if kinds.get(assignment.staff_id) in {StaffKind.ADMINISTRATOR, StaffKind.DISTRICT}
                else "teacher"
            )
            yield {
                **self._common(
                    _sid("enrollment", assignment.source_id, assignment.pk), assignment.updated_at
                ),
                "classSourcedId": self.sections[assignment.section_id],
                "schoolSourcedId": self.schools[section_school[assignment.section_id]],
                "userSourcedId": self.staff[assignment.staff_id],
                "role": role,
                "primary": _bool(assignment.is_primary),
                "beginDate": _date(assignment.begin_date),
                "endDate": _date(assignment.end_date),
                EXTRA: assignment.source_extra,
            }

    # --- gradebook

    def _category_sid(self, title: str) -> str:
        return f"category:{title}"

    def file_categories(self) -> Iterator[dict]:
        titles = sorted(
            set(self.assessments_qs.exclude(category="").values_list("category", flat=True))
        )
        for title in titles:
            row = {**self._common(self._category_sid(title), None), "title": title}
            if self.version == "1.2":
                row["weight"] = ""
            yield row

    def file_lineItems(self) -> Iterator[dict]:
        section_info: dict[int | None, tuple[int, int | None]] = dict(
            (pk, (school_id, session_id))
            for pk, school_id, session_id in self.sections_qs.values_list(
                "pk", "school_id", "session_id"
            )
        )
        for assessment in self.assessments_qs.order_by("pk").iterator(chunk_size=5000):
            school_id, session_id = section_info[assessment.section_id]
            row = {
                **self._common(self.assessments[assessment.pk], assessment.updated_at),
                "title": assessment.title,
                "description": "",
                "assignDate": _date(assessment.assigned_on or assessment.due_on),
                "dueDate": _date(assessment.due_on),
                "classSourcedId": self.sections[assessment.section_id],
                "categorySourcedId": self._category_sid(assessment.category)
                if assessment.category
                else "",
                "gradingPeriodSourcedId": self.sessions[session_id],
                "resultValueMin": _decimal(assessment.min_points),
                "resultValueMax": _decimal(assessment.max_points),
                EXTRA: assessment.source_extra,
            }
            if self.version == "1.2":
                row["schoolSourcedId"] = self.schools[school_id]
            yield row

    def file_lineItemLearningObjectiveIds(self) -> Iterator[dict]:
        through = Assessment.standards.through
        for assessment_id, code, framework in (
            through.objects.filter(assessment_id__in=list(self.assessments))
            .order_by("pk")
            .values_list("assessment_id", "standard__code", "standard__framework")
        ):
            yield {
                "lineItemSourcedId": self.assessments[assessment_id],
                "source": framework or "Trellis",
                "learningObjectiveId": code,
            }

    def _scores(self, *, items: bool) -> QuerySet[Score]:
        return Score.objects.filter(
            student_assessment__assessment_id__in=list(self.assessments),
            student_id__in=list(self.students),
            item__isnull=not items,
        )

    def file_results(self) -> Iterator[dict]:
        scores = self._scores(items=False).select_related("student_assessment").order_by("pk")
        for score in scores.iterator(chunk_size=10000):
            row = {
                **self._common(_sid("result", score.source_id, score.pk), score.updated_at),
                "lineItemSourcedId": self.assessments[score.student_assessment.assessment_id],
                "studentSourcedId": self.students[score.student_id],
                "scoreStatus": SCORE_STATUSES[score.status],
                "score": _decimal(score.points),
                "scoreDate": _date(score.scored_on),
                "comment": score.comment,
                EXTRA: score.source_extra,
            }
            if self.version == "1.2":
                row.update(
                    {
                        "textScore": score.rubric_level,
                        "inProgress": "false",
                        "incomplete": _bool(score.status == ScoreStatus.INCOMPLETE),
                        "late": _bool(score.status == ScoreStatus.LATE),
                        "missing": _bool(score.status == ScoreStatus.MISSING),
                    }
                )
            elif score.points is None:
                row["score"] = "0"  # 1.1 requires a score; exempt or missing scores carry 0
            yield row

    def file_resultLearningObjectiveIds(self) -> Iterator[dict]:
        whole = dict(
            (sa_id, _sid("result", source_id, pk))
            for sa_id, source_id, pk in self._scores(items=False).values_list(
                "student_assessment_id", "source_id", "pk"
            )
        )
        scores = self._objective_scores().order_by("pk")
        for sa_id, code, points, text_score, extra in scores.values_list(
            "student_assessment_id", "item__code", "points", "rubric_level", "source_extra"
        ).iterator(chunk_size=10000):
            if sa_id not in whole:
                continue
            yield {
                "resultSourcedId": whole[sa_id],
                "source": "Trellis",
                "learningObjectiveId": code,
                "score": _decimal(points),
                "textScore": text_score,
                EXTRA: extra,
            }

    def _objective_scores(self) -> QuerySet[Score]:
        """The scores of results' learning objectives (resultLearningObjectiveIds.csv)."""
        objective_items = AssessmentItem.objects.filter(kind=ItemKind.OBJECTIVE)
        return self._scores(items=True).filter(item__in=objective_items)
