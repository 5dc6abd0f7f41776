"""Import a OneRoster 1.1 or 1.2 CSV export into the district's records.

Files are read in an order where references point backwards (orgs, sessions, courses, classes,
roles, users, enrollments, then the gradebook); each is checked row by row, streamed into a
set-based upsert (interop.upsert), and its sourcedIds resolved to row ids for the next file.
Every problem is collected, of every kind (manifest, header, value, reference) in one pass: a
manifest or a district that cannot be read stops nothing (OneRosterImport.run), a reference into
a file that could not be read is not an error of its own, and every reference to a record that
exists nowhere is named. interop.services.import_execute rolls the whole import back when there
is any. Exports as vendors write them are read (reader.py: any case, 1/0, 1.0's `inactive`;
here: a blank manifest mode is absent, unknown manifest properties are warnings, 1.1's
`administrator` in roles.csv is a district or site administrator by its org, a class at a
department is at the department's school, an optional parent reference to nothing is dropped
with a warning, and 1.1's `administrator` in users.csv the same way by the user's orgs); the
report counts each value read as another (ImportReport.mappings). Vendor columns (`metadata.*`
and any other) are kept on the record a row becomes, in its source_extra (interop.oneroster.
vendor), written through the same set-based upserts; a re-import without a column clears it.

Partial exports: a reference into a file the manifest declares absent (or leaves out) resolves
against what Trellis holds for the district, failing that to a placeholder listed in the
report's warnings and counted, replaced in place by the export that brings the record: a course
(course_placeholders), an org (school_placeholders: "Unknown school (source id X)"), a class
(section_placeholders, with a placeholder course of its own). People are never placeholders (a
placeholder student would be on rosters): an unknown user stays an error, named. A reference to
a row a present file lacks is an error.

Memory is bounded by the batch (interop.oneroster.staging.BATCH rows) on PostgreSQL: each
large file (roles, users, demographics, enrollments) is read, checked and staged a batch at a
time. What a later row needs of earlier ones lives in the database (duplicate sourcedIds and a
person twice in a class in staging.FirstLines, roles.csv's entries in staging.RoleStore), the
people a batch names are looked up for that batch only (staging.SourceIds), and users.csv's
memberships, contacts and relationships are resolved to their people in SQL
(PeopleStream); elsewhere (SQLite) the same steps keep them in memory.

A bulk file replaces its scope (missing records become inactive); a delta file
applies its rows, `status=tobedeleted` included. Object permissions are re-derived and mastery
recomputation is enqueued (once per affected student and standard) when the import commits.

Mapping: orgs → District (type district) and School (type school); academicSessions →
AcademicSession; courses → Course; classes → Section; users by role → Student, Staff or
Guardian, their orgs → StudentSchoolMembership / StaffSchoolAssignment, email/phone/sms →
ContactDetail (encrypted), agentSourcedIds → GuardianRelationship (and a guardian with no
language gets their first child's home language: OneRoster names none); roles (1.2) → the users'
roles and schools with dates; demographics → the student's birth date, sex, races and
ethnicity; enrollments → Enrollment (students) and SectionAssignment (teachers and other
staff); categories → the assessment's category; lineItems → Assessment (gradebook, in the
class's section); learning-objective ids → Standard (created when Trellis holds none with that
code) aligned to the assessment, and an objective item per (lineItem, objective); results →
scores through assessments.services.scores_record_bulk (set-based on PostgreSQL, scores_record in
batches elsewhere); per-objective result scores → item scores.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple, TypedDict, cast

from django.db import connection, models

from accounts.services import derived_access_sync
from assessments.models import (
    Assessment,
    AssessmentItem,
    ItemKind,
    Score,
    ScoreSource,
    ScoreStatus,
    Standard,
    StandardKind,
)
from assessments.services import ScoreInput, mastery_recompute_enqueue, scores_record_bulk
from interop.guardians import guardian_language_default
from interop.oneroster import schema
from interop.oneroster.reader import (
    TRUE_VALUES,
    CsvFile,
    Row,
    csv_reader,
    folded,
    parse_date,
    plain_points,
    read_failure,
    suggestion,
)
from interop.oneroster.staging import (
    BATCH,
    FirstLines,
    RoleEntry,
    RoleStore,
    RowSink,
    SourceIds,
    batched,
    streamed,
    temp_table,
)
from interop.registry import ImportContext
from interop.signals import records_imported_on_commit
from interop.sources import RecordTooLarge, open_text
from interop.upsert import StagedUpsert, UpsertResult, source_id_map, sourced_upsert
from students.models import (
    AcademicSession,
    ContactDetail,
    ContactKind,
    Course,
    District,
    Enrollment,
    Guardian,
    GuardianRelationship,
    Relationship,
    School,
    Section,
    SectionAssignment,
    Sex,
    Staff,
    StaffKind,
    StaffSchoolAssignment,
    Student,
    StudentSchoolMembership,
)

SOURCE_SYSTEM = "oneroster"

STAFF_KINDS = {
    "teacher": StaffKind.TEACHER,
    "aide": StaffKind.AIDE,
    "counselor": StaffKind.COUNSELOR,
    "administrator": StaffKind.ADMINISTRATOR,
    "principal": StaffKind.ADMINISTRATOR,
    "siteAdministrator": StaffKind.ADMINISTRATOR,
    "districtAdministrator": StaffKind.DISTRICT,
    "systemAdministrator": StaffKind.DISTRICT,
    "proctor": StaffKind.OTHER,
}
GUARDIAN_ROLES = {
    "parent": Relationship.OTHER,
    "guardian": Relationship.GUARDIAN,
    "relative": Relationship.OTHER_RELATIVE,
}
# Parents and legal guardians get portal access and educational rights; other relatives do not.
PORTAL_RELATIONSHIPS = {Relationship.OTHER, Relationship.GUARDIAN}
SEX = {"male": Sex.MALE, "female": Sex.FEMALE, "other": Sex.NONBINARY, "unspecified": ""}
RACE_COLUMNS = {
    "americanIndianOrAlaskaNative": "american_indian_or_alaska_native",
    "asian": "asian",
    "blackOrAfricanAmerican": "black_or_african_american",
    "nativeHawaiianOrOtherPacificIslander": "native_hawaiian_or_other_pacific_islander",
    "white": "white",
}
# Trellis keeps grade codes in four characters.
GRADE_CODES = {"Other": "OTH"}
SCORE_STATUS = {
    "exempt": ScoreStatus.EXEMPT,
    "fully graded": ScoreStatus.SCORED,
    "not submitted": ScoreStatus.MISSING,
    "partially graded": ScoreStatus.INCOMPLETE,
    "submitted": ScoreStatus.SCORED,
}
# A manifest declares each of OneRoster's 21 files at most once: more is not a manifest.
MANIFEST_PROPERTIES = 100
# A result's flags, in the order _score_status reads them.
RESULT_FLAGS = ("inProgress", "incomplete", "late", "missing")
# Manifest properties Trellis knows but does not read (besides oneroster.version and file.*).
MANIFEST_OTHERS = ("manifest.version", "source.systemName", "source.systemCode")
# The file each kind of reference points into (OneRosterImport.reference): a reference into a
# file that could not be read is not an error of its own (the file's errors say why).
REFERENCE_FILES = {
    "org": "orgs",
    "academic session": "academicSessions",
    "course": "courses",
    "class": "classes",
    "student": "users",
    "user": "users",
    "parent, guardian or relative": "users",
    "line item": "lineItems",
}
# Files whose vendor columns are kept on the records their rows become (source_extra; a
# demographics row's on its student's demographics_extra). A row that becomes no record (an org
# that is neither district nor school, a role held at the district) keeps none.
VENDOR_KEPT = frozenset(
    (
        "orgs",
        "academicSessions",
        "courses",
        "classes",
        "roles",
        "users",
        "demographics",
        "enrollments",
        "lineItems",
        "results",
        "resultLearningObjectiveIds",
    )
)


def relationship_row(
    guardian: str, student: str, guardian_id: int, student_id: int, role: str
) -> tuple[str, int, int, str, bool, bool, bool]:
    """A GuardianRelationship row (source_id, guardian, student, relationship, portal_access,
    has_educational_rights, is_active). A guardian named only by the student (no role of its
    own) is a guardian."""
    relationship = GUARDIAN_ROLES[role or "guardian"]
    access = relationship in PORTAL_RELATIONSHIPS
    return (f"{guardian}:{student}", guardian_id, student_id, relationship, access, access, True)


# Roles held at the district level: their org is never made a placeholder school.
DISTRICT_ROLES = frozenset(("districtadministrator", "systemadministrator", "administrator"))
# Orgs that are never a class's school, even with no school above them.
NEVER_SCHOOLS = {"district"}


class SourceScope(TypedDict):
    """The keyword arguments source_id_map takes for this import's rows."""

    district_id: int | None
    source_system: str


class ResultFields(NamedTuple):
    """What result_plain and result_checked read of a results.csv row."""

    line_item: str
    assessment_id: int
    student: str
    student_id: int
    scored_on: date
    points: Decimal | None
    status: str


def administration_key(fields: ResultFields) -> str:
    """A result's (student, line item, scoreDate): one result each."""
    return f"{fields.student_id}|{fields.assessment_id}|{fields.scored_on.isoformat()}"


def _score_status(status: str, points: Decimal | None, flags: list[bool | None]) -> str:
    """The score status a result's scoreStatus and flags (RESULT_FLAGS) say: a flag wins."""
    in_progress, incomplete, late, missing = flags
    if missing:
        return ScoreStatus.MISSING
    if incomplete or in_progress:
        return ScoreStatus.INCOMPLETE
    if late:
        return ScoreStatus.LATE
    if status == "submitted" and points is None:
        return ScoreStatus.INCOMPLETE
    return SCORE_STATUS.get(status, ScoreStatus.SCORED)


CONTACTS = (
    ("email", ContactKind.EMAIL, ""),
    ("phone", ContactKind.PHONE, "phone"),
    ("sms", ContactKind.PHONE, "sms"),
)


def oneroster_import(context: ImportContext) -> None:
    OneRosterImport(context).run()


@dataclass
class PersonRows:
    """What users.csv (and roles.csv) say, gathered for the upserts that follow."""

    students: list[tuple] = field(default_factory=list)
    staff: list[tuple] = field(default_factory=list)
    guardians: list[tuple] = field(default_factory=list)
    # (source_id, person kind, person source id, school source id, grade/position, begin, end)
    memberships: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(
        default_factory=list
    )  # (source_id, kind, owner, kind, label, value)
    relationships: dict[tuple[str, str], str] = field(default_factory=dict)  # (guardian, student)
    # The users.csv line that first named each relationship (a line, not the Row: a row keeps
    # every value of the line, a hundred thousand of them add up).
    relationship_lines: dict[tuple[str, str], int] = field(default_factory=dict)


PERSON_FIELDS = ("first_name", "middle_name", "last_name", "preferred_first_name")
STUDENT_FIELDS = ("source_id", *PERSON_FIELDS, "student_number", "is_active", "source_extra")
STAFF_FIELDS = ("source_id", *PERSON_FIELDS, "staff_number", "kind", "is_active", "source_extra")
GUARDIAN_FIELDS = ("source_id", *PERSON_FIELDS, "is_active", "source_extra")
MEMBERSHIP_FIELDS = ("begin_date", "end_date", "is_active", "source_extra")
STUDENT_MEMBERSHIP_FIELDS = (
    "source_id",
    "student_id",
    "school_id",
    "grade_level",
    *MEMBERSHIP_FIELDS,
)
STAFF_ASSIGNMENT_FIELDS = ("source_id", "staff_id", "school_id", "position", *MEMBERSHIP_FIELDS)
CONTACT_FIELDS = (
    "source_id",
    "student_id",
    "guardian_id",
    "staff_id",
    "kind",
    "label",
    "value",
    "is_active",
)
RELATIONSHIP_FIELDS = (
    "source_id",
    "guardian_id",
    "student_id",
    "relationship",
    "portal_access",
    "has_educational_rights",
    "is_active",
)


class PeopleStream:
    """users.csv's records staged a batch at a time (PostgreSQL), so that the import holds one
    batch of them: people, their school memberships and contacts by the person's sourcedId (its
    row id is set in SQL once the people are written), their relationships by both sourcedIds
    (resolved, and any that names no one reported, in SQL). The same upserts, in the same order,
    as OneRosterImport.import_users makes from PersonRows in memory."""

    def __init__(self, importer: OneRosterImport, *, bulk: bool) -> None:
        self.importer = importer
        self.bulk = bulk
        scope: SourceScope = {"district_id": importer.district_id, "source_system": SOURCE_SYSTEM}
        person = (("person", "text"),)
        self.students = RowSink(Student, fields=STUDENT_FIELDS, **scope)
        self.staff = RowSink(Staff, fields=STAFF_FIELDS, **scope)
        self.guardians = RowSink(Guardian, fields=GUARDIAN_FIELDS, **scope)
        self.memberships = RowSink(
            StudentSchoolMembership,
            fields=STUDENT_MEMBERSHIP_FIELDS,
            extra_columns=person,
            **scope,
        )
        self.assignments = RowSink(
            StaffSchoolAssignment, fields=STAFF_ASSIGNMENT_FIELDS, extra_columns=person, **scope
        )
        self.contacts = RowSink(
            ContactDetail,
            fields=CONTACT_FIELDS,
            extra_columns=(("owner", "text"), *person),
            **scope,
        )
        self.batches = 0
        self.pairs = 0  # relationships staged so far: their order is PersonRows' order
        self.relationships = temp_table(
            "relationships",
            "guardian text, student text, role text, line integer, batch integer, seq integer",
        )

    def write(self, people: PersonRows) -> None:
        schools = self.importer.schools
        self.students.write(people.students)
        self.staff.write(people.staff)
        self.guardians.write(people.guardians)
        students, staff = [], []
        for source_id, owner, person, org, detail, begin, end, active, extra in people.memberships:
            if owner == "student":
                students.append(
                    (source_id, None, schools[org], detail, begin, end, active, extra, person)
                )
            else:
                staff.append(
                    (source_id, None, schools[org], detail[:100], begin, end, active, extra, person)
                )
        self.memberships.write(students)
        self.assignments.write(staff)
        self.contacts.write(
            [
                (source_id, None, None, None, kind, label, value, active, owner, person)
                for source_id, owner, person, kind, label, value, active in people.contacts
            ]
        )
        self.batches += 1
        lines = people.relationship_lines
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                f"COPY {self.relationships} (guardian, student, role, line, batch, seq) FROM STDIN"
            ) as copy,
        ):
            for (guardian, student), role in people.relationships.items():
                self.pairs += 1
                copy.write_row(
                    (guardian, student, role, lines[(guardian, student)], self.batches, self.pairs)
                )

    def finish(self, *, memberships: bool, memberships_bulk: bool) -> None:
        importer, bulk = self.importer, self.bulk
        importer.count("students", self.students.finish(deactivate_missing=bulk))
        importer.count("staff", self.staff.finish(deactivate_missing=bulk))
        importer.count("guardians", self.guardians.finish(deactivate_missing=bulk))
        # People are written above and only read below: each table is analysed once.
        analysed: set[str] = set()
        if memberships:
            places: tuple[tuple[RowSink, str, type[models.Model], str], ...] = (
                (self.memberships, "student_id", Student, "student_school_memberships"),
                (self.assignments, "staff_id", Staff, "staff_school_assignments"),
            )
            for sink, column, person, entity in places:
                cast(StagedUpsert, sink.staged).resolve(
                    [(column, person, "person", None)], analysed=analysed
                )
                importer.count(entity, sink.finish(deactivate_missing=memberships_bulk))
        staged = cast(StagedUpsert, self.contacts.staged)
        owners: tuple[tuple[str, type[models.Model], str], ...] = (
            ("student_id", Student, "student"),
            ("guardian_id", Guardian, "guardian"),
            ("staff_id", Staff, "staff"),
        )
        staged.resolve(
            [(column, person, "person", ("owner", owner)) for column, person, owner in owners],
            analysed=analysed,
        )
        importer.count("contact_details", self.contacts.finish(deactivate_missing=bulk))
        self.finish_relationships()

    def finish_relationships(self) -> None:
        """Each (guardian, student) pair once, at the line that first named it, with the role
        the last guardian row gave it (as PersonRows.relationships keeps them); a pair naming
        no one is an error, as upsert_relationships reports it."""
        importer = self.importer
        users = importer.files["users"]
        sink = RowSink(
            GuardianRelationship,
            fields=RELATIONSHIP_FIELDS,
            district_id=importer.district_id,
            source_system=SOURCE_SYSTEM,
        )
        scope = [importer.district_id, SOURCE_SYSTEM]
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {self.relationships}")
        with connection.chunked_cursor() as pairs:
            pairs.execute(
                "SELECT r.guardian, r.student, r.role, r.line, g.id, s.id FROM ("  # noqa: S608
                "SELECT guardian, student, min(line) AS line, min(seq) AS seq, "
                "coalesce((array_agg(role ORDER BY "
                "batch DESC) FILTER (WHERE role <> ''))[1], '') AS role "
                f"FROM {self.relationships} GROUP BY guardian, student) r "
                f"LEFT JOIN {Guardian._meta.db_table} g ON g.district_id = %s AND "
                "g.source_system = %s AND g.source_id = r.guardian "
                f"LEFT JOIN {Student._meta.db_table} s ON s.district_id = %s AND "
                "s.source_system = %s AND s.source_id = r.student ORDER BY r.seq",
                [*scope, *scope],
            )
            while chunk := pairs.fetchmany(BATCH):
                rows = []
                for guardian, student, role, line, guardian_id, student_id in chunk:
                    if guardian_id is None or student_id is None:
                        row = Row(users, line, {})
                        importer.reference(
                            row,
                            "agentSourcedIds",
                            {guardian: guardian_id} if guardian_id is not None else {},
                            "parent, guardian or relative",
                            value=guardian,
                        )
                        importer.reference(
                            row,
                            "agentSourcedIds",
                            {student: student_id} if student_id is not None else {},
                            "student",
                            value=student,
                        )
                        continue
                    rows.append(relationship_row(guardian, student, guardian_id, student_id, role))
                sink.write(rows)
        importer.count("guardian_relationships", sink.finish(deactivate_missing=self.bulk))


class OneRosterImport:
    def __init__(self, context: ImportContext) -> None:
        self.context = context
        self.report = context.report
        self.errors = context.report.errors
        self.version = ""
        self.files: dict[str, CsvFile] = {}
        self.district_id: int | None = context.district_id
        self.schools: dict[str, int] = {}
        self.other_orgs: set[str] = set()
        # Orgs of orgs.csv: their type and parent; an org that is not a school (a department)
        # named as a class's school, by the school it resolves to (its nearest school ancestor).
        self.org_kinds: dict[str, str] = {}
        self.org_parents: dict[str, str] = {}
        self.school_of: dict[str, str] = {}
        self.sessions: dict[str, int] = {}
        self.courses: dict[str, int] = {}
        self.sections: dict[str, int] = {}
        self.students: dict[str, int] = {}
        self.staff: dict[str, int] = {}
        self.guardians: dict[str, int] = {}
        self.assessments: dict[str, int] = {}
        # Ids of records with errors, by file, so that references to them add no errors of
        # their own; at most the error limit's number of them (mark_invalid).
        self.invalid: dict[str, set[str]] = defaultdict(set)
        self.invalid_kept = 0
        self.invalid_overflow = False
        self.roles: RoleStore | None = None  # roles.csv's entries (read_roles)
        self.score_scales: set[str] = set()
        self.objective_items: dict[tuple[str, str], int] = {}
        self.categories: dict[str, str] | None = None
        self.estimate_ids: set[int] = set()

    # --- the whole import

    def run(self) -> None:
        """Every file is read and checked even after errors (a manifest's, a header's, a
        district that cannot be told), so that one run reports them all; any error rolls the
        run back (interop.services.import_execute)."""
        self.read_manifest()
        if not self.version:
            return
        for spec in schema.FILES[self.version]:
            if spec.name in self.files:
                self.files[spec.name].check_header()
        self.note_unkept_vendor_columns()
        self.context.progress.overall(
            sum(self.context.source.size(f.spec.filename) for f in self.files.values() if f.usable)
        )
        self.import_orgs()
        self.import_sessions()
        self.import_courses()
        self.import_classes()
        self.read_roles()
        self.import_users()
        self.import_demographics()
        self.check_user_profiles()
        self.import_enrollments()
        self.read_categories()
        self.check_score_scales()
        self.import_line_items()
        self.import_line_item_objectives()
        self.check_links("lineItemScoreScales", "lineItemSourcedId", self.assessments)
        self.import_results()
        self.check_links("resultScoreScales", "resultSourcedId", None)
        self.context.after_commit.append(self.after_commit)

    def note_unkept_vendor_columns(self) -> None:
        """Vendor columns are kept on the roster's records, line items and results (VENDOR_KEPT:
        a result's on its score, a result's learning objective's on its objective score); those
        of the other gradebook files are not, and the report says so."""
        for name, declared in self.files.items():
            if declared.vendor and name not in VENDOR_KEPT:
                columns = ", ".join(column for _, column in declared.vendor)
                self.report.notes.append(
                    f"{declared.spec.filename}: vendor columns not kept ({columns}); Trellis "
                    "keeps them for roster records, line items, results and their objectives only."
                )

    def after_commit(self) -> None:
        access = derived_access_sync()
        self.report.notes.append(
            f"Role mirror re-derived: {access.memberships_added} memberships added, "
            f"{access.memberships_removed} removed (access follows the records by date)."
        )
        mastery_recompute_enqueue(sorted(self.estimate_ids))
        records_imported_on_commit(district_id=self.district_id, report=self.report)

    # --- manifest

    def read_manifest(self) -> None:
        """The version and the files' modes. A problem here is an error like any other, and the
        files are still read (by the version the export's files suggest when the manifest does
        not say), so that one run reports everything. A blank mode is `absent`; modes and names
        are read in any case; properties Trellis does not know are warnings."""
        source = self.context.source
        if not source.has(schema.MANIFEST):
            self.errors.add(
                file=schema.MANIFEST, line=None, column="", message="The export has no manifest.csv"
            )
            self.manifest_guessed({})
            return
        properties: dict[str, tuple[str, int]] = {}
        warnings = self.report.warnings
        with open_text(source, schema.MANIFEST) as (text, counter):
            reader = csv_reader(text)
            try:
                header = [name.strip() for name in next(reader, [])]
                if [name.lower() for name in header[:2]] != ["propertyname", "value"]:
                    self.errors.add(
                        file=schema.MANIFEST,
                        line=1,
                        column="propertyName",
                        message="The header must be propertyName,value",
                        value=",".join(header),
                    )
                    self.manifest_guessed({})
                    return
                for record in reader:
                    counter.record_start = counter.bytes_read
                    name = record[0].strip() if record else ""
                    if not name:
                        continue
                    if name not in properties and len(properties) >= MANIFEST_PROPERTIES:
                        self.errors.add(
                            file=schema.MANIFEST,
                            line=reader.line_num,
                            column=name,
                            message=f"More than {MANIFEST_PROPERTIES} properties: "
                            "not a OneRoster manifest",
                        )
                        return
                    value = record[1].strip() if len(record) >= 2 else ""
                    properties[name] = (value, reader.line_num)
            except (csv.Error, UnicodeDecodeError, RecordTooLarge) as exc:
                self.errors.add(
                    file=schema.MANIFEST,
                    line=reader.line_num + 1,
                    column="",
                    message=read_failure(exc),
                )
                self.manifest_guessed({})
                return
        by_lower = {name.lower(): name for name in properties}
        version_name = by_lower.get("oneroster.version", "oneroster.version")
        version, line = properties.get(version_name, ("", None))
        if version not in schema.FILES:
            self.errors.add(
                file=schema.MANIFEST,
                line=line,
                column="oneroster.version",
                message="Must be 1.1 or 1.2" if version else "A value is required",
                value=version or None,
                suggestion=suggestion(version, schema.FILES) if version else None,
            )
            self.version = self.version_guessed(properties)
        else:
            self.version = version
        self.report.notes.append(f"OneRoster {self.version}.")
        known = folded(tuple(spec.name for spec in schema.FILES[self.version]))
        specs = {spec.name: spec for spec in schema.FILES[self.version]}
        unsupported = folded(tuple(schema.UNSUPPORTED_FILES))
        others = {name.lower() for name in MANIFEST_OTHERS}
        for name, (raw_mode, line) in properties.items():
            lowered = name.lower()
            if lowered == "oneroster.version" or lowered in others:
                continue
            if not lowered.startswith("file."):
                if lowered.startswith("source."):
                    continue  # source.* describes the sender; nothing Trellis reads
                warnings.add(
                    file=schema.MANIFEST,
                    line=line,
                    column=name,
                    message="Not a OneRoster manifest property: not read",
                    value=raw_mode or None,
                )
                continue
            given = name[len("file.") :]
            mode = raw_mode.lower()
            if not mode:
                self.report.mapped(schema.MANIFEST, name, "", "absent")
                mode = "absent"
            elif mode != raw_mode and mode in schema.MODES:
                self.report.mapped(schema.MANIFEST, name, raw_mode, mode)
            if mode not in schema.MODES:
                self.errors.add(
                    file=schema.MANIFEST,
                    line=line,
                    column=name,
                    message="Must be bulk, delta or absent",
                    value=raw_mode,
                    suggestion=suggestion(raw_mode, schema.MODES),
                )
                continue
            if mode == "absent":
                continue
            file_name = known.get(given.lower())
            if file_name is not None:
                if file_name != given:
                    self.report.mapped(schema.MANIFEST, "propertyName", name, f"file.{file_name}")
                self.files[file_name] = CsvFile(self.context, specs[file_name], mode)
            elif given.lower() in unsupported:
                self.report.notes.append(f"{given}.csv skipped: Trellis keeps no resources.")
            else:
                hint = suggestion(given, specs)
                warnings.add(
                    file=schema.MANIFEST,
                    line=line,
                    column=name,
                    message=f"Not a file of OneRoster {self.version}: not read"
                    + (f" (did you mean file.{hint}?)" if hint else ""),
                )

    def version_guessed(self, properties: dict[str, tuple[str, int]]) -> str:
        """The version an export's files suggest, when its manifest does not say (1.2 has
        roles.csv and users.csv without a role column; 1.1 has users.csv with one)."""
        source = self.context.source
        declared = {name.lower() for name in properties}
        if "file.roles" in declared or source.has("roles.csv"):
            return "1.2"
        if source.has("users.csv"):
            try:
                with open_text(source, "users.csv") as (text, _):
                    header = {name.strip().lower() for name in next(csv_reader(text), [])}
            except (csv.Error, UnicodeDecodeError, RecordTooLarge):
                header = set()
            if "role" in header and "orgsourcedids" in header:
                return "1.1"
        return "1.2"

    def manifest_guessed(self, properties: dict[str, tuple[str, int]]) -> None:
        """No readable manifest (an error says so): the files the export holds are read as bulk
        files of the version they suggest, so that their errors are reported in the same run."""
        self.version = self.version_guessed(properties)
        for spec in schema.FILES[self.version]:
            if self.context.source.has(spec.filename):
                self.files[spec.name] = CsvFile(self.context, spec, "bulk")
        self.report.notes.append(
            f"OneRoster {self.version} assumed (no readable manifest): the files present were "
            "checked as bulk files."
        )

    def file(self, name: str) -> CsvFile | None:
        declared = self.files.get(name)
        return declared if declared is not None and declared.usable else None

    # --- shared steps

    def count(self, entity: str, result: UpsertResult) -> None:
        self.report.count(
            entity,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            deactivated=result.deactivated,
        )

    def upsert(
        self,
        model: type[models.Model],
        entity: str,
        fields: Sequence[str],
        rows: Iterable[Sequence[Any]],
        *,
        bulk: bool,
    ) -> UpsertResult:
        result = sourced_upsert(
            model,
            fields=fields,
            rows=rows,
            district_id=self.district_id,
            source_system=SOURCE_SYSTEM,
            deactivate_missing=bulk,
        )
        self.count(entity, result)
        return result

    def unique(self, row: Row, seen: dict[str, int]) -> bool:
        """False (with an error) when the row's sourcedId came earlier in the file."""
        sourced_id = row.sourced_id
        if not sourced_id:
            return False
        first = seen.get(sourced_id)
        if first is not None:
            row.error("sourcedId", f"Duplicate sourcedId (first on line {first})", sourced_id)
            return False
        seen[sourced_id] = row.line
        return True

    def unique_at(self, row: Row, firsts: dict[str, int]) -> bool:
        """unique() for a row of a batch, given the first line of each of the batch's sourcedIds
        (FirstLines.firsts)."""
        sourced_id = row.sourced_id
        if not sourced_id:
            return False
        first = firsts[sourced_id]
        if first != row.line:
            row.error("sourcedId", f"Duplicate sourcedId (first on line {first})", sourced_id)
            return False
        return True

    @staticmethod
    def firsts_of(seen: FirstLines, batch: list[Row]) -> dict[str, int]:
        return seen.firsts([(row.sourced_id, row.line) for row in batch if row.sourced_id])

    def people_maps(self) -> None:
        """The people's row ids: whole in memory, by batch on PostgreSQL (SourceIds)."""
        scope: SourceScope = {"district_id": self.district_id, "source_system": SOURCE_SYSTEM}
        self.students = SourceIds(Student, **scope)
        self.staff = SourceIds(Staff, **scope)
        self.guardians = SourceIds(Guardian, **scope)

    def people_prefetch(self, users: Iterable[str], *, students_only: bool = False) -> None:
        """The ids of a batch's people (PostgreSQL; in memory every id is at hand); with
        students_only, of its students (results name no one else)."""
        maps = cast(tuple[SourceIds, ...], (self.students, self.staff, self.guardians))
        if not streamed() or all(ids.whole for ids in maps):
            return  # every id is at hand (in memory, or since people_all)
        for ids in maps:
            ids.clear()
        wanted = list({user for user in users if user})
        if not wanted:
            return
        self._people_fetch(wanted, [0] if students_only else [0, 1])
        if not students_only:
            # Guardians matter only for who is neither a student nor a staff member (a
            # reference's error says which they are): a batch of enrollments reads no
            # guardian at all, where it read the whole table each batch.
            self._people_fetch(
                [user for user in wanted if user not in maps[0] and user not in maps[1]], [2]
            )

    def _people_fetch(self, wanted: list[str], kinds: list[int]) -> None:
        """Fill the maps of `kinds` (0 students, 1 staff, 2 guardians) with `wanted`'s ids."""
        if not wanted:
            return
        maps = cast(tuple[SourceIds, ...], (self.students, self.staff, self.guardians))
        selects, params = [], []
        for kind in kinds:
            # The partial unique index's condition (source_id <> ''), so that it is used.
            selects.append(
                f"SELECT {kind}, source_id, id FROM {maps[kind].model._meta.db_table} "  # noqa: S608
                "WHERE district_id = %s AND source_system = %s AND source_id = ANY(%s) "
                "AND source_id <> ''"
            )
            params += [self.district_id, SOURCE_SYSTEM, wanted]
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(selects), params)
            for kind, source_id, pk in cursor.fetchall():
                maps[kind][source_id] = pk

    def people_all(self) -> None:
        """Every person's id, for the steps that look people up without batches."""
        for ids in (self.students, self.staff, self.guardians):
            if isinstance(ids, SourceIds):
                ids.load_all()

    def reference(
        self, row: Row, column: str, ids: dict[str, int], what: str, *, value: str | None = None
    ) -> int | None:
        """The row id a sourcedId names (in this import or already in Trellis), or an error."""
        sourced_id = row.text(column) if value is None else value
        if not sourced_id:
            return None
        found = ids.get(sourced_id)
        if found is None:
            if self.unread(REFERENCE_FILES.get(what, "")):
                row.ok = False  # the file it points into could not be read: its errors say why
            elif self.unresolved_is_error(sourced_id):
                row.error(
                    column, f"No {what} with this sourcedId in the export or in Trellis", sourced_id
                )
            row.ok = False
        return found

    def unread(self, name: str) -> bool:
        """Whether a declared file could not be read in full (its header, or a row that stopped
        the reading, is an error): references into it are then not errors of their own."""
        declared = self.files.get(name)
        return declared is not None and not (declared.usable and declared.complete)

    def mark_invalid(self, file: str, sourced_id: str) -> None:
        """Remember a record that has errors (its own, or a reference to one that has), so that
        references to it add none. At most as many ids as the report keeps errors
        (TRELLIS_IMPORT_ERROR_LIMIT), whatever the file holds: past that, the import has failed
        already and a reference Trellis cannot resolve may be to a record it stopped remembering,
        so such a reference is no longer counted (unresolved_is_error)."""
        ids = self.invalid[file]
        if sourced_id in ids:
            return
        if self.invalid_kept < self.errors.limit:
            ids.add(sourced_id)
            self.invalid_kept += 1
        else:
            self.invalid_overflow = True

    def unresolved_is_error(self, sourced_id: str, file: str | None = None) -> bool:
        """Whether a reference to `sourced_id` that resolves to nothing is an error of its own:
        not when the record it names (in `file`, or any) had errors, which were reported there;
        nor when mark_invalid stopped remembering such records, when it cannot be told (the
        report's total is then a minimum)."""
        if file is not None:
            if sourced_id in self.invalid[file]:
                return False
        elif any(sourced_id in bad for bad in self.invalid.values()):
            return False
        if self.invalid_overflow:
            self.errors.total_is_minimum = True
            return False
        return True

    # --- district and maps

    def district_upsert(self, rows: list[Row]) -> None:
        """The org of type district (one per import) is the District everything belongs to."""
        for row in rows[1:]:
            row.error("type", "Only one district per import", row.sourced_id)
        row = rows[0]
        name = row.fits("name", row.required("name"), 200)
        identifier = row.fits("identifier", row.text("identifier"), 20)
        if not row.ok:
            return
        if self.context.district_id is not None and not self.district_claim(row):
            return  # an error, or the chosen district used as it is
        result = sourced_upsert(
            District,
            fields=("source_id", "name", "nces_id", "is_active", "source_extra"),
            rows=[(row.sourced_id, name, identifier, row.is_active, row.extra)],
            district_id=None,
            source_system=SOURCE_SYSTEM,
        )
        self.count("districts", result)
        self.district_id = District.objects.get(
            source_system=SOURCE_SYSTEM, source_id=row.sourced_id
        ).pk

    def district_claim(self, row: Row) -> bool:
        """An upload into a chosen district never writes to another one: the export's district
        must be the chosen one, or belong to no district yet. True when the district row may be
        upserted (the chosen district came from OneRoster); a district from another source keeps
        its identity and is used as it is."""
        # Called only when the context names a district.
        target = District.objects.get(pk=cast(int, self.context.district_id))
        holder = (
            District.objects.filter(source_system=SOURCE_SYSTEM, source_id=row.sourced_id)
            .values_list("pk", flat=True)
            .first()
        )
        from_oneroster = target.source_system == SOURCE_SYSTEM and bool(target.source_id)
        if (holder is not None and holder != target.pk) or (
            from_oneroster and target.source_id != row.sourced_id
        ):
            row.error(
                "sourcedId",
                f"This export is for another district than {target.name}, the one chosen",
                row.sourced_id,
            )
            return False
        if not from_oneroster:
            self.district_id = target.pk
            self.report.count("districts", unchanged=1)
        return from_oneroster

    def district_existing(self) -> None:
        """Without a district org, the district given, or the one OneRoster district held."""
        if self.district_id is not None:
            return
        candidates = list(
            District.objects.filter(source_system=SOURCE_SYSTEM).values_list("pk", flat=True)[:2]
        )
        if len(candidates) == 1:
            self.district_id = candidates[0]
            return
        self.errors.add(
            file="orgs.csv",
            line=None,
            column="type",
            message="No org of type district in the export, and Trellis holds "
            + ("several OneRoster districts" if candidates else "no OneRoster district"),
        )

    def district_for_checks(self) -> None:
        """The district could not be told (an error says why). The other files are still read
        and checked, against a district made for this run, so that one run reports every error;
        the errors roll the run back, this district with it."""
        if not self.errors:  # never expected: no district is itself an error
            self.errors.add(file="orgs.csv", line=None, column="type", message="No district")
        self.district_id = District.objects.create(name="(import being checked)").pk

    def load_maps(self) -> None:
        scope: SourceScope = {"district_id": self.district_id, "source_system": SOURCE_SYSTEM}
        self.schools = source_id_map(School, **scope)
        self.sessions = source_id_map(AcademicSession, **scope)
        self.courses = source_id_map(Course, **scope)
        self.sections = source_id_map(Section, **scope)
        self.people_maps()
        self.assessments = source_id_map(Assessment, **scope)
        # The maps are loaded once the district is known.
        district_source = District.objects.filter(pk=cast(int, self.district_id)).values_list(
            "source_id", flat=True
        )
        self.other_orgs = set(district_source)

    # --- orgs, sessions, courses, classes

    def import_orgs(self) -> None:
        orgs = self.file("orgs")
        if orgs is None:
            self.district_existing()
            if self.district_id is None:
                self.district_for_checks()
            self.load_maps()
            self.school_placeholders()
            return
        seen: dict[str, int] = {}
        org_types = self.org_kinds
        schools: list[tuple] = []
        parents: list[tuple[Row, str]] = []
        districts: list[Row] = []
        # Orgs of other types, in case a class names one as its school: (name, number, active,
        # line, vendor columns).
        others: dict[str, tuple[str, str, bool, int, dict]] = {}
        for row in orgs.rows():
            if not self.unique(row, seen):
                continue
            kind = row.enum("type", schema.ORG_TYPES, required=True)
            if kind == "district":
                districts.append(row)
            name = row.fits("name", row.required("name"), 200)
            org_types[row.sourced_id] = kind
            parent = row.text("parentSourcedId")
            if parent:
                parents.append((row, parent))
            if kind == "school":
                number = row.fits("identifier", row.text("identifier"), 40)
                if row.ok:
                    schools.append((row.sourced_id, name, number, row.is_active, row.extra))
            elif kind and kind != "district":
                self.other_orgs.add(row.sourced_id)
                if row.ok:
                    identifier = row.text("identifier")[:40]
                    others[row.sourced_id] = (
                        name,
                        identifier,
                        row.is_active,
                        row.line,
                        row.extra,
                    )
            if not row.ok:
                self.mark_invalid("orgs", row.sourced_id)
        if districts:
            self.district_upsert(districts)
        else:
            self.district_existing()
        if self.district_id is None:
            self.district_for_checks()
        self.load_maps()
        self.other_orgs |= {sid for sid, kind in org_types.items() if kind not in {"school", ""}}
        for row, parent in parents:
            if parent in org_types or parent in self.other_orgs or parent in self.schools:
                self.org_parents[row.sourced_id] = parent
            elif parent not in self.invalid["orgs"]:
                # An optional reference: the org is kept without it.
                row.warn(
                    "parentSourcedId",
                    "No org with this sourcedId in the export or in Trellis: dropped",
                    parent,
                )
        schools.extend(self.orgs_as_schools(others))
        # A placeholder (school_placeholders) with this sourcedId is replaced.
        self.upsert(
            School,
            "schools",
            ("source_id", "name", "school_number", "is_active", "source_extra", "is_placeholder"),
            [(*school, False) for school in schools],
            bulk=orgs.bulk,
        )
        self.schools = source_id_map(
            School, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )
        skipped = sum(1 for kind in org_types.values() if kind not in {"school", "district"})
        skipped -= sum(1 for sid, school in self.school_of.items() if sid == school)
        if skipped:
            self.report.notes.append(
                f"{skipped} orgs of other types (department, state...) are kept as references only."
            )

    def school_placeholders(self) -> None:
        """An export without orgs.csv (declared absent, or not declared): an org its courses,
        classes, enrollments or roles (1.1: users) name that Trellis does not hold for the
        district becomes a placeholder school (is_placeholder, named "Unknown school (source id
        X)"), each listed in the report's warnings at its first mention; the export that brings
        the org replaces it. Orgs held with a district-level role are not schools. With orgs.csv
        present, an org it lacks is an error."""
        if "orgs" in self.files:
            return
        places = [
            ("courses", ("orgSourcedId",)),
            ("classes", ("schoolSourcedId",)),
            ("enrollments", ("schoolSourcedId",)),
            ("roles", ("orgSourcedId", "role")),
        ]
        if self.version == "1.1":
            places.append(("users", ("orgSourcedIds", "role")))
        wanted: dict[str, tuple[str, int, str]] = {}
        for name, columns in places:
            for line, values in self.read_ahead(name, columns):
                role = values[1].lower() if len(values) > 1 else ""
                if role in DISTRICT_ROLES:
                    continue
                orgs = values[0].split(",") if name == "users" else [values[0]]
                for org in (org.strip() for org in orgs):
                    if org and org not in self.schools and org not in self.other_orgs:
                        wanted.setdefault(org, (name, line, columns[0]))
        if not wanted:
            return
        rows = []
        for org, (name, line, column) in wanted.items():
            rows.append((org, f"Unknown school (source id {org})"[:200], True, True))
            Row(self.files[name], line, {}).warn(
                column,
                "No org with this sourcedId in Trellis, and orgs.csv is absent: a placeholder "
                "school is kept until an export brings it",
                org,
            )
        result = sourced_upsert(
            School,
            fields=("source_id", "name", "is_placeholder", "is_active"),
            rows=rows,
            district_id=self.district_id,
            source_system=SOURCE_SYSTEM,
        )
        self.count("school_placeholders", result)
        self.schools = source_id_map(
            School, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )

    def school_ancestor(self, org: str) -> str | None:
        """The nearest org of type school above `org` (in orgs.csv, or a school Trellis holds)."""
        seen = {org}
        current = self.org_parents.get(org)
        while current and current not in seen:
            kind = self.org_kinds.get(current)
            if kind == "school" or (not kind and current in self.schools):
                return current
            seen.add(current)
            current = self.org_parents.get(current)
        return None

    def orgs_as_schools(self, others: dict[str, tuple[str, str, bool, int, dict]]) -> list[tuple]:
        """Orgs that are not schools (a department) but that classes name as their school: each
        resolves to its nearest school ancestor (school_of); one with none is kept as a school
        itself, with a warning. The rows of School to add for those."""
        for org in others:
            ancestor = self.school_ancestor(org)
            if ancestor is not None:
                self.school_of[org] = ancestor
        orphans = {org for org in others if org not in self.school_of}
        named = self.classes_naming(orphans) if orphans else set()
        orgs = self.files["orgs"]
        rows = []
        for org in sorted(named):
            name, identifier, active, line, extra = others[org]
            Row(orgs, line, {}).warn(
                "type",
                f"A {self.org_kinds[org]} named as a class's school, with no school above it: "
                "kept as a school",
                org,
            )
            self.school_of[org] = org
            self.other_orgs.discard(org)
            rows.append((org, name, identifier, active, extra))
        return rows

    def classes_naming(self, orgs: set[str]) -> set[str]:
        """Which of `orgs` classes.csv names as a school (read ahead for that column only; only
        when some org could be one, which clean exports never have)."""
        return {school for _, (school,) in self.read_ahead("classes", ("schoolSourcedId",))} & orgs

    def read_ahead(self, name: str, columns: tuple[str, ...]) -> Iterator[tuple[int, tuple]]:
        """(line, values of `columns`) of each record of a declared, readable file, before it is
        imported: for the few decisions an earlier step needs from a later file (a department
        as a school, a placeholder course). Problems are reported when the file is imported."""
        declared = self.file(name)
        if declared is None or any(column not in declared.header for column in columns):
            return
        positions = [declared.header.index(column) for column in columns]
        with open_text(self.context.source, declared.spec.filename) as (text, counter):
            reader = csv_reader(text)
            try:
                next(reader, None)
                line = reader.line_num
                for record in reader:
                    counter.record_start = counter.bytes_read
                    start, line = line + 1, reader.line_num
                    if len(record) > max(positions):
                        yield start, tuple(record[at].strip() for at in positions)
            except (csv.Error, UnicodeDecodeError, RecordTooLarge):
                return  # reported when the file is imported

    def org_school(self, row: Row, column: str, value: str | None = None) -> int | None:
        """A school id for an org reference; None for the district or another known org."""
        sourced_id = row.text(column) if value is None else value
        if sourced_id in self.other_orgs or sourced_id in self.invalid["orgs"]:
            return None
        return self.reference(row, column, self.schools, "org", value=sourced_id)

    def import_sessions(self) -> None:
        sessions = self.file("academicSessions")
        if sessions is None:
            return
        seen: dict[str, int] = {}
        parents: list[tuple[Row, str, str]] = []

        def rows() -> Iterator[tuple]:
            for row in sessions.rows():
                if not self.unique(row, seen):
                    continue
                title = row.fits("title", row.required("title"), 200)
                kind = row.enum("type", schema.SESSION_TYPES, required=True)
                start = row.date("startDate", required=True)
                end = row.date("endDate", required=True)
                year = row.integer("schoolYear", required=True)
                if year is not None and not 1900 <= year <= 2200:
                    row.error("schoolYear", "Not a year", row.text("schoolYear"))
                if start and end and end < start:
                    row.error("endDate", "Before the startDate", row.text("endDate"))
                if row.text("parentSourcedId"):
                    parents.append((row, row.sourced_id, row.text("parentSourcedId")))
                if not row.ok:
                    self.mark_invalid("academicSessions", row.sourced_id)
                    continue
                yield (
                    row.sourced_id,
                    title,
                    schema.SESSION_TYPES[kind],
                    year,
                    start,
                    end,
                    row.is_active,
                    row.extra,
                )

        self.upsert(
            AcademicSession,
            "academic_sessions",
            (
                "source_id",
                "title",
                "kind",
                "school_year",
                "start_date",
                "end_date",
                "is_active",
                "source_extra",
            ),
            rows(),
            bulk=sessions.bulk,
        )
        self.sessions = source_id_map(
            AcademicSession, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )
        links = []
        for row, child, parent in parents:
            parent_id = self.sessions.get(parent)
            if parent_id is None:
                if parent not in self.invalid["academicSessions"]:
                    # An optional reference: the session is kept without a parent.
                    row.warn(
                        "parentSourcedId",
                        "No academic session with this sourcedId in the export or in Trellis: "
                        "dropped",
                        parent,
                    )
                continue
            if child in self.sessions:
                links.append((self.sessions[child], parent_id))
        self.link_parents(AcademicSession, links)

    def link_parents(self, model: type[AcademicSession], links: list[tuple[int, int]]) -> None:
        """Self references, set once every row exists (a parent may come after its child)."""
        current = dict(
            model.objects.filter(pk__in=[child for child, _ in links]).values_list(
                "pk", "parent_id"
            )
        )
        changed = [
            model(pk=child, parent_id=parent)
            for child, parent in links
            if current.get(child) != parent
        ]
        if changed:
            model.objects.bulk_update(changed, ["parent_id"], batch_size=2000)

    def import_courses(self) -> None:
        courses = self.file("courses")
        if courses is None:
            return
        seen: dict[str, int] = {}

        def rows() -> Iterator[tuple]:
            for row in courses.rows():
                if not self.unique(row, seen):
                    continue
                title = row.fits("title", row.required("title"), 200)
                row.required("orgSourcedId")
                school_id = self.org_school(row, "orgSourcedId")
                if row.text("schoolYearSourcedId"):
                    self.reference(row, "schoolYearSourcedId", self.sessions, "academic session")
                code = row.fits("courseCode", row.text("courseCode"), 60)
                subject = row.fits("subjects", ", ".join(row.list("subjects")), 100)
                grades = self.grades(row)
                if not row.ok:
                    self.mark_invalid("courses", row.sourced_id)
                    continue
                # A placeholder (course_placeholders) with this sourcedId is replaced.
                yield (
                    row.sourced_id,
                    school_id,
                    title,
                    code,
                    subject,
                    grades,
                    False,
                    row.is_active,
                    row.extra,
                )

        self.upsert(
            Course,
            "courses",
            (
                "source_id",
                "school_id",
                "title",
                "course_code",
                "subject",
                "grade_levels",
                "is_placeholder",
                "is_active",
                "source_extra",
            ),
            rows(),
            bulk=courses.bulk,
        )
        self.courses = source_id_map(
            Course, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )

    def grades(self, row: Row) -> list[str]:
        grades = row.list("grades")
        for at, grade in enumerate(grades):
            if grade not in schema.GRADES:
                known = folded(schema.GRADES).get(grade.lower())
                if known is None:
                    row.error(
                        "grades",
                        "Not a CEDS grade level (KG, 01 ... 12, Other ...)",
                        grade,
                        hint=suggestion(grade, schema.GRADES),
                    )
                    continue
                self.report.mapped(row.file.spec.filename, "grades", grade, known)
                grades[at] = known
        return [GRADE_CODES.get(grade, grade) for grade in grades]

    def course_placeholders(self) -> None:
        """An export without courses.csv (declared absent, or not declared): a course its
        classes name that Trellis does not hold becomes a placeholder course (is_placeholder, at
        the class's school), each listed in the report's warnings; the export that brings the
        course replaces it. With courses.csv present, a course it lacks is an error."""
        if "courses" in self.files:
            return
        wanted: dict[str, tuple[int, str]] = {}
        for line, (course, school) in self.read_ahead(
            "classes", ("courseSourcedId", "schoolSourcedId")
        ):
            if course and course not in self.courses:
                wanted.setdefault(course, (line, school))
        if not wanted:
            return
        rows = []
        classes = self.files["classes"]
        for course, (line, school) in wanted.items():
            school_id = self.schools.get(self.school_of.get(school, school))
            rows.append((course, school_id, f"Placeholder for course {course}"[:200], True, True))
            Row(classes, line, {}).warn(
                "courseSourcedId",
                "No course with this sourcedId in Trellis, and courses.csv is absent: a "
                "placeholder course is kept until an export brings it",
                course,
            )
        result = sourced_upsert(
            Course,
            fields=("source_id", "school_id", "title", "is_placeholder", "is_active"),
            rows=rows,
            district_id=self.district_id,
            source_system=SOURCE_SYSTEM,
        )
        self.count("course_placeholders", result)
        self.courses = source_id_map(
            Course, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )

    def import_classes(self) -> None:
        classes = self.file("classes")
        if classes is None:
            return
        self.course_placeholders()
        seen: dict[str, int] = {}

        def rows() -> Iterator[tuple]:
            for row in classes.rows():
                if not self.unique(row, seen):
                    continue
                title = row.fits("title", row.required("title"), 200)
                row.enum("classType", schema.CLASS_TYPES, required=True)
                row.required("courseSourcedId")
                course_id = self.reference(row, "courseSourcedId", self.courses, "course")
                school = row.required("schoolSourcedId")
                if school in self.school_of and self.school_of[school] != school:
                    row.mapped("schoolSourcedId", school, self.school_of[school])
                school_id = self.org_school(row, "schoolSourcedId")
                if school_id is None and row.ok:
                    row.error(
                        "schoolSourcedId", "Not an org of type school", row.text("schoolSourcedId")
                    )
                terms = row.list("termSourcedIds")
                if not terms:
                    row.error("termSourcedIds", "A value is required")
                term_ids = [
                    self.reference(
                        row, "termSourcedIds", self.sessions, "academic session", value=term
                    )
                    for term in terms
                ]
                values = (
                    row.fits("classCode", row.text("classCode"), 60),
                    row.fits("periods", ", ".join(row.list("periods")), 40),
                    row.fits("subjects", ", ".join(row.list("subjects")), 100),
                    self.grades(row),
                    row.fits("location", row.text("location"), 60),
                )
                if not row.ok:
                    self.mark_invalid("classes", row.sourced_id)
                    continue
                yield (
                    row.sourced_id,
                    school_id,
                    course_id,
                    term_ids[0],
                    title,
                    *values,
                    False,
                    row.is_active,
                    row.extra,
                )

        self.upsert(
            Section,
            "sections",
            (
                "source_id",
                "school_id",
                "course_id",
                "session_id",
                "title",
                "section_code",
                "period",
                "subject",
                "grade_levels",
                "room",
                "is_placeholder",
                "is_active",
                "source_extra",
            ),
            rows(),
            bulk=classes.bulk,
        )
        self.sections = source_id_map(
            Section, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )

    # --- people

    def read_roles(self) -> None:
        roles = self.file("roles")
        if roles is None:
            return
        seen = FirstLines()
        self.roles = RoleStore()
        roles_12 = frozenset(schema.USER_ROLES["1.2"])
        for batch in batched(roles.rows()):
            firsts = self.firsts_of(seen, batch)
            entries: list[tuple[str, int, RoleEntry | None]] = []
            for row in batch:
                if not self.unique_at(row, firsts):
                    continue
                user = row.required("userSourcedId")
                org = row.required("orgSourcedId")
                given = row.text("role")
                older = None if given in roles_12 else schema.OLDER_ROLES_BY_ORG.get(given.lower())
                if older is not None:
                    row.mapped("role", given, older[self.org_level(org)])
                role = row.enum("role", schema.USER_ROLES["1.2"], required=True)
                role_type = row.enum("roleType", schema.ROLE_TYPES, required=True)
                if org and org not in self.schools and org not in self.other_orgs:
                    self.org_school(row, "orgSourcedId")
                begin, end = row.date("beginDate"), row.date("endDate")
                entry = (
                    RoleEntry(role, role_type, org, begin, end, row.is_active, row.extra)
                    if row.ok
                    else None
                )
                entries.append((user, row.line, entry))
            self.roles.add(entries)
        self.roles.finished()

    def org_level(self, org: str) -> str:
        """ "school" for a school or an org within one (a department), else "district" (the
        district, or a state or other org above the schools): how 1.1's administrator splits."""
        if org in self.schools or self.org_kinds.get(org) == "school":
            return "school"
        if self.org_kinds.get(org) in {"department", "local"} and self.school_ancestor(org):
            return "school"
        return "district"

    def import_users(self) -> None:
        users = self.file("users")
        roles = self.file("roles")
        if users is None:
            if self.version == "1.2" and roles is not None:
                self.report.notes.append("roles.csv without users.csv: roles are checked only.")
            return
        stream = PeopleStream(self, bulk=users.bulk) if streamed() else None
        people = PersonRows()
        seen = FirstLines()
        for batch in batched(users.rows()):
            firsts = self.firsts_of(seen, batch)
            ids = [row.sourced_id for row in batch]
            if self.roles is not None:
                self.roles.prefetch(ids)
            # A user with no role is looked up in Trellis (user_roles): only those.
            self.people_prefetch(
                ids
                if self.roles is None or self.version == "1.1"
                else [sid for sid in ids if not self.roles.of(sid)]
            )
            for row in batch:
                if self.unique_at(row, firsts):
                    self.read_user(row, people)
            if stream is not None:
                stream.write(people)
                people = PersonRows()
        if self.version == "1.2" and roles is not None and self.roles is not None:
            # Checked against the people Trellis held before this import (none written yet).
            scope = {"district_id": self.district_id, "source_system": SOURCE_SYSTEM}

            def held(user: str) -> bool:
                return user in self.students or user in self.staff or user in self.guardians

            for user, line in self.roles.unknown_users(
                seen, (Student, Staff, Guardian), scope, held
            ):
                Row(roles, line, {}).error(
                    "userSourcedId",
                    "No user with this sourcedId in the export or in Trellis",
                    user,
                )
        memberships = self.version == "1.1" or roles is not None
        memberships_bulk = (
            users.bulk
            if self.version == "1.1"
            else (roles is not None and self.files["roles"].bulk)
        )
        if stream is not None:
            stream.finish(memberships=memberships, memberships_bulk=memberships_bulk)
            self.people_maps()
            self.guardian_languages()
            return
        bulk = users.bulk
        self.upsert(Student, "students", STUDENT_FIELDS, people.students, bulk=bulk)
        self.upsert(Staff, "staff", STAFF_FIELDS, people.staff, bulk=bulk)
        self.upsert(Guardian, "guardians", GUARDIAN_FIELDS, people.guardians, bulk=bulk)
        self.people_maps()
        if memberships:
            self.upsert_memberships(people, bulk=memberships_bulk)
        self.upsert_contacts(people, bulk=bulk)
        self.upsert_relationships(people, bulk=bulk)
        self.guardian_languages()

    def user_roles(self, row: Row) -> tuple[str, list[RoleEntry]]:
        """The user's primary role and its org roles, from users.csv (1.1) or roles.csv (1.2)."""
        if self.version == "1.1":
            given = row.text("role")
            older = schema.OLDER_ROLES_BY_ORG.get(given.lower())
            row.required("orgSourcedIds")
            orgs = row.list("orgSourcedIds")
            if older is None:
                role = row.enum("role", schema.USER_ROLES["1.1"], required=True)
                return role, [RoleEntry(role, "primary", org, None, None, True) for org in orgs]
            # 1.1's administrator is 1.2's district or site administrator, by the org it is held
            # at (as in roles.csv): the user's first org says which, and each org its own.
            roles = [older[self.org_level(org)] for org in orgs] or [older["district"]]
            row.mapped("role", given, roles[0])
            return roles[0], [
                RoleEntry(role, "primary", org, None, None, True)
                for role, org in zip(roles, orgs, strict=False)
            ]
        entries = self.roles.of(row.sourced_id) if self.roles is not None else []
        primary = [entry.role for entry in entries if entry.role_type == "primary"]
        if primary:
            return primary[0], entries
        if entries:
            return entries[0].role, entries
        # A delta users file may leave roles unchanged: the record Trellis holds says who it is.
        if row.sourced_id in self.students:
            return "student", []
        if row.sourced_id in self.staff:
            return "teacher", []
        if row.sourced_id in self.guardians:
            return "guardian", []
        row.error("sourcedId", "No role for this user in roles.csv or in Trellis", row.sourced_id)
        return "", []

    def read_user(self, row: Row, people: PersonRows) -> None:
        role, entries = self.user_roles(row)
        row.boolean("enabledUser", required=True)
        given = row.fits("givenName", row.required("givenName"), 100)
        family = row.fits("familyName", row.required("familyName"), 100)
        middle = row.fits("middleName", row.text("middleName"), 100)
        preferred = row.fits("preferredGivenName", row.text("preferredGivenName"), 100)
        identifier = row.fits("identifier", row.text("identifier"), 60)
        grades = self.grades(row)
        agents = row.list("agentSourcedIds")
        schools = []
        for entry in entries:
            school_id = self.org_school(
                row, "orgSourcedIds" if self.version == "1.1" else "sourcedId", value=entry.org
            )
            if school_id is not None:
                schools.append(entry)
        contacts = []
        for column, kind, label in CONTACTS:
            value = row.text(column)
            if value:
                contacts.append((f"{row.sourced_id}:{column}", kind, label, value))
        if not row.ok or not role:
            self.mark_invalid("users", row.sourced_id)
            return
        sourced_id, active = row.sourced_id, row.is_active
        names = (given, middle, family, preferred)
        if role == "student":
            people.students.append((sourced_id, *names, identifier, active, row.extra))
            owner = "student"
            grade = grades[0] if grades else ""
            for entry in schools:
                people.memberships.append(
                    (
                        f"{sourced_id}:{entry.org}",
                        owner,
                        sourced_id,
                        entry.org,
                        grade,
                        entry.begin,
                        entry.end,
                        active and entry.active,
                        entry.extra,
                    )
                )
            for agent in agents:
                people.relationships.setdefault((agent, sourced_id), "")
                people.relationship_lines.setdefault((agent, sourced_id), row.line)
        elif role in GUARDIAN_ROLES:
            people.guardians.append((sourced_id, *names, active, row.extra))
            owner = "guardian"
            for agent in agents:
                people.relationships[(sourced_id, agent)] = role
                people.relationship_lines.setdefault((sourced_id, agent), row.line)
        else:
            people.staff.append(
                (sourced_id, *names, identifier, STAFF_KINDS[role], active, row.extra)
            )
            owner = "staff"
            for entry in schools:
                people.memberships.append(
                    (
                        f"{sourced_id}:{entry.org}",
                        owner,
                        sourced_id,
                        entry.org,
                        entry.role,
                        entry.begin,
                        entry.end,
                        active and entry.active,
                        entry.extra,
                    )
                )
        for source_id, kind, label, value in contacts:
            people.contacts.append((source_id, owner, sourced_id, kind, label, value, active))

    def upsert_memberships(self, people: PersonRows, *, bulk: bool) -> None:
        students, staff = [], []
        for source_id, owner, person, org, detail, begin, end, active, extra in people.memberships:
            if owner == "student":
                students.append(
                    (
                        source_id,
                        self.students[person],
                        self.schools[org],
                        detail,
                        begin,
                        end,
                        active,
                        extra,
                    )
                )
            else:
                staff.append(
                    (
                        source_id,
                        self.staff[person],
                        self.schools[org],
                        detail[:100],
                        begin,
                        end,
                        active,
                        extra,
                    )
                )
        self.upsert(
            StudentSchoolMembership,
            "student_school_memberships",
            (
                "source_id",
                "student_id",
                "school_id",
                "grade_level",
                "begin_date",
                "end_date",
                "is_active",
                "source_extra",
            ),
            students,
            bulk=bulk,
        )
        self.upsert(
            StaffSchoolAssignment,
            "staff_school_assignments",
            (
                "source_id",
                "staff_id",
                "school_id",
                "position",
                "begin_date",
                "end_date",
                "is_active",
                "source_extra",
            ),
            staff,
            bulk=bulk,
        )

    def upsert_contacts(self, people: PersonRows, *, bulk: bool) -> None:
        owners = {"student": self.students, "guardian": self.guardians, "staff": self.staff}
        rows = []
        for source_id, owner, person, kind, label, value, active in people.contacts:
            ids: dict[str, int | None] = {"student": None, "guardian": None, "staff": None}
            ids[owner] = owners[owner][person]
            rows.append(
                (
                    source_id,
                    ids["student"],
                    ids["guardian"],
                    ids["staff"],
                    kind,
                    label,
                    value,
                    active,
                )
            )
        self.upsert(
            ContactDetail,
            "contact_details",
            (
                "source_id",
                "student_id",
                "guardian_id",
                "staff_id",
                "kind",
                "label",
                "value",
                "is_active",
            ),
            rows,
            bulk=bulk,
        )

    def upsert_relationships(self, people: PersonRows, *, bulk: bool) -> None:
        rows = []
        users = self.files["users"]
        for (guardian, student), role in people.relationships.items():
            row = Row(users, people.relationship_lines[(guardian, student)], {})
            guardian_id = self.reference(
                row,
                "agentSourcedIds",
                self.guardians,
                "parent, guardian or relative",
                value=guardian,
            )
            student_id = self.reference(
                row, "agentSourcedIds", self.students, "student", value=student
            )
            if guardian_id is None or student_id is None:
                continue
            rows.append(relationship_row(guardian, student, guardian_id, student_id, role))
        self.upsert(
            GuardianRelationship,
            "guardian_relationships",
            (
                "source_id",
                "guardian_id",
                "student_id",
                "relationship",
                "portal_access",
                "has_educational_rights",
                "is_active",
            ),
            rows,
            bulk=bulk,
        )

    def guardian_languages(self) -> None:
        """OneRoster names no language for parents, guardians or relatives: those linked by this
        source's relationships with no language in Trellis get their first child's home
        language (one UPDATE; a language Trellis holds is kept, users.csv never writes it)."""
        if self.district_id is None:
            return
        given = guardian_language_default(district_id=self.district_id, source_system=SOURCE_SYSTEM)
        if given:
            self.report.notes.append(
                f"guardians: {given} with no language of their own given their first child's "
                "home language"
            )

    def import_demographics(self) -> None:
        demographics = self.file("demographics")
        if demographics is None:
            return
        sexes = schema.SEXES[self.version]
        seen = FirstLines()
        # Demographics update students; they never create or deactivate one.
        sink = RowSink(
            Student,
            fields=(
                "source_id",
                "birth_date",
                "sex",
                "races",
                "hispanic_or_latino",
                "demographics_extra",
            ),
            district_id=self.district_id,
            source_system=SOURCE_SYSTEM,
        )
        for batch in batched(demographics.rows()):
            firsts = self.firsts_of(seen, batch)
            # Demographics name students only.
            self.people_prefetch((row.sourced_id for row in batch), students_only=True)
            rows = []
            for row in batch:
                if not self.unique_at(row, firsts):
                    continue
                self.reference(row, "sourcedId", self.students, "student")
                birth = row.date("birthDate")
                sex = row.enum("sex", sexes)
                races = []
                for column, race in RACE_COLUMNS.items():
                    if row.boolean(column):
                        races.append(race)
                row.boolean("demographicRaceTwoOrMoreRaces")
                hispanic = row.boolean("hispanicOrLatinoEthnicity")
                if not row.ok:
                    continue
                rows.append((row.sourced_id, birth, SEX.get(sex, ""), races, hispanic, row.extra))
            sink.write(rows)
        self.count("demographics", sink.finish(deactivate_missing=False))

    def check_user_profiles(self) -> None:
        profiles = self.file("userProfiles")
        if profiles is None:
            return
        seen: dict[str, int] = {}
        self.people_all()
        people = {**self.students, **self.staff, **self.guardians}
        for row in profiles.rows():
            if self.unique(row, seen):
                self.reference(row, "userSourcedId", people, "user")
                for column in ("profileType", "vendorId", "credentialType", "username"):
                    row.required(column)
        self.report.notes.append(
            "userProfiles.csv checked; Trellis keeps no third-party credentials."
        )

    # --- enrollments

    def section_placeholders(self) -> None:
        """An export without classes.csv (declared absent, or not declared): a class its
        enrollments name that Trellis does not hold becomes a placeholder section
        (is_placeholder, at the enrollment's school, its course a placeholder course of its
        own), each listed in the report's warnings; the export that brings the class replaces
        it. An enrollment whose school resolves to none gets no placeholder (its error says
        why). With classes.csv present, a class it lacks is an error."""
        if "classes" in self.files:
            return
        wanted: dict[str, tuple[int, int]] = {}
        for line, (klass, school) in self.read_ahead(
            "enrollments", ("classSourcedId", "schoolSourcedId")
        ):
            school_id = self.schools.get(self.school_of.get(school, school))
            if klass and klass not in self.sections and school_id is not None:
                wanted.setdefault(klass, (line, school_id))
        if not wanted:
            return
        courses = [
            (f"placeholder-for-class:{klass}", school_id, f"Course of class {klass}"[:200])
            for klass, (_, school_id) in wanted.items()
        ]
        result = sourced_upsert(
            Course,
            fields=("source_id", "school_id", "title", "is_placeholder", "is_active"),
            rows=[(*course, True, True) for course in courses],
            district_id=self.district_id,
            source_system=SOURCE_SYSTEM,
        )
        self.count("course_placeholders", result)
        self.courses = source_id_map(
            Course, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )
        rows = []
        enrollments = self.files["enrollments"]
        for klass, (line, school_id) in wanted.items():
            course_id = self.courses[f"placeholder-for-class:{klass}"]
            rows.append((klass, school_id, course_id, f"Placeholder for class {klass}"[:200]))
            Row(enrollments, line, {}).warn(
                "classSourcedId",
                "No class with this sourcedId in Trellis, and classes.csv is absent: a "
                "placeholder class is kept until an export brings it",
                klass,
            )
        result = sourced_upsert(
            Section,
            fields=("source_id", "school_id", "course_id", "title", "is_placeholder", "is_active"),
            rows=[(*row, True, True) for row in rows],
            district_id=self.district_id,
            source_system=SOURCE_SYSTEM,
        )
        self.count("section_placeholders", result)
        self.sections = source_id_map(
            Section, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )

    def import_enrollments(self) -> None:
        enrollments = self.file("enrollments")
        if enrollments is None:
            return
        self.section_placeholders()
        seen = FirstLines()
        # A person in a class once: (student?, person id, section id) packed in 63 bits (ids
        # past 2**31, never seen, by their text) -> first line.
        pairs, wide_pairs = FirstLines(int_keys=True), FirstLines()
        students = RowSink(
            Enrollment,
            fields=(
                "source_id",
                "student_id",
                "section_id",
                "begin_date",
                "end_date",
                "is_active",
                "source_extra",
            ),
            district_id=self.district_id,
            source_system=SOURCE_SYSTEM,
        )
        teachers = RowSink(
            SectionAssignment,
            fields=(
                "source_id",
                "staff_id",
                "section_id",
                "is_primary",
                "begin_date",
                "end_date",
                "is_active",
                "source_extra",
            ),
            district_id=self.district_id,
            source_system=SOURCE_SYSTEM,
        )
        for batch in batched(enrollments.rows()):
            firsts = self.firsts_of(seen, batch)
            self.people_prefetch(row.text("userSourcedId") for row in batch)
            kept = [
                read
                for row in batch
                if self.unique_at(row, firsts) and (read := self.read_enrollment(row)) is not None
            ]
            packed = [(key, row.line) for row, key, _ in kept if isinstance(key, int)]
            wide = [(key, row.line) for row, key, _ in kept if not isinstance(key, int)]
            first_lines = {**pairs.firsts(packed), **(wide_pairs.firsts(wide) if wide else {})}
            learners: list[tuple] = []
            teaching: list[tuple] = []
            for row, key, values in kept:
                first = first_lines[key]
                if first != row.line:
                    row.error(
                        "userSourcedId",
                        f"The user is already in this class (line {first})",
                        row.text("userSourcedId"),
                    )
                    continue
                (learners if len(values) == 7 else teaching).append(values)
            students.write(learners)
            teachers.write(teaching)
        self.count("enrollments", students.finish(deactivate_missing=enrollments.bulk))
        self.count("section_assignments", teachers.finish(deactivate_missing=enrollments.bulk))

    def read_enrollment(self, row: Row) -> tuple[Row, int | str, tuple] | None:
        """A row of enrollments.csv checked: (row, the key of its person in its class, the
        values of its Enrollment (7) or SectionAssignment (8)), or None when it has errors."""
        role = row.enum("role", schema.ENROLLMENT_ROLES, required=True)
        row.required("classSourcedId")
        section_id = self.reference(row, "classSourcedId", self.sections, "class")
        row.required("schoolSourcedId")
        self.org_school(row, "schoolSourcedId")
        user = row.required("userSourcedId")
        begin, end = row.date("beginDate"), row.date("endDate")
        primary = row.boolean("primary")
        if begin and end and end < begin:
            row.error("endDate", "Before the beginDate", row.text("endDate"))
        people = self.students if role == "student" else self.staff
        person_id = people.get(user)
        if (
            user
            and person_id is None
            and role
            and not self.unread("users")
            and self.unresolved_is_error(user, "users")
        ):
            other = user in self.students or user in self.staff or user in self.guardians
            row.error(
                "userSourcedId",
                f"The user is not a {'student' if role == 'student' else 'staff member'}"
                if other
                else "No user with this sourcedId in the export or in Trellis"
                if "users" in self.files
                else "No user with this sourcedId in Trellis, and users.csv is absent "
                "(people are never made placeholders)",
                user,
            )
        if not row.ok or person_id is None or section_id is None:
            return None
        student = role == "student"
        key: int | str = (
            (int(student) << 62) | (person_id << 31) | section_id
            if person_id < 2**31 and section_id < 2**31
            else f"{int(student)}:{person_id}:{section_id}"
        )
        if student:
            values: tuple = (row.sourced_id, person_id, section_id, begin, end)
        else:
            values = (row.sourced_id, person_id, section_id, primary is not False, begin, end)
        return row, key, (*values, row.is_active, row.extra)

    # --- gradebook

    def read_categories(self) -> None:
        categories = self.file("categories")
        if categories is None:
            return
        self.categories = {}
        seen: dict[str, int] = {}
        for row in categories.rows():
            if self.unique(row, seen):
                title = row.fits("title", row.required("title"), 100)
                if row.text("weight"):
                    row.decimal("weight")
                self.categories[row.sourced_id] = title
        self.report.count("categories", unchanged=len(self.categories))

    def check_score_scales(self) -> None:
        scales = self.file("scoreScales")
        if scales is None:
            return
        seen: dict[str, int] = {}
        for row in scales.rows():
            if self.unique(row, seen):
                row.required("title")
                row.required("type")
                row.required("scoreScaleValue")
                if row.text("classSourcedId"):
                    self.reference(row, "classSourcedId", self.sections, "class")
                if row.text("courseSourcedId"):
                    self.reference(row, "courseSourcedId", self.courses, "course")
                self.score_scales.add(row.sourced_id)
        self.report.notes.append(
            "scoreScales.csv checked; Trellis reads scores against each assessment's range."
        )

    def import_line_items(self) -> None:
        line_items = self.file("lineItems")
        if line_items is None:
            return
        seen: dict[str, int] = {}
        fields = [
            "source_id",
            "section_id",
            "title",
            "kind",
            "assigned_on",
            "due_on",
            "min_points",
            "max_points",
            "is_active",
            "source_extra",
        ]
        if self.categories is not None:
            fields.insert(4, "category")

        def rows() -> Iterator[tuple]:
            for row in line_items.rows():
                if not self.unique(row, seen):
                    continue
                title = row.fits("title", row.required("title"), 250)
                assigned = row.date("assignDate", required=True)
                due = row.date("dueDate", required=True)
                row.required("classSourcedId")
                section_id = self.reference(row, "classSourcedId", self.sections, "class")
                category = ""
                if self.categories is not None and row.text("categorySourcedId"):
                    category = self.categories.get(row.text("categorySourcedId"), "")
                    if row.text("categorySourcedId") not in self.categories:
                        row.error(
                            "categorySourcedId",
                            "No category with this sourcedId in categories.csv",
                            row.text("categorySourcedId"),
                        )
                elif "categorySourcedId" in line_items.spec.required:
                    row.required("categorySourcedId")
                if row.text("gradingPeriodSourcedId"):
                    self.reference(row, "gradingPeriodSourcedId", self.sessions, "academic session")
                elif "gradingPeriodSourcedId" in line_items.spec.required:
                    row.required("gradingPeriodSourcedId")
                if row.text("schoolSourcedId"):
                    self.org_school(row, "schoolSourcedId")
                low = row.decimal(
                    "resultValueMin", required="resultValueMin" in line_items.spec.required
                )
                high = row.decimal(
                    "resultValueMax", required="resultValueMax" in line_items.spec.required
                )
                if low is not None and high is not None and high <= low:
                    row.error(
                        "resultValueMax", "Not above resultValueMin", row.text("resultValueMax")
                    )
                if not row.ok:
                    self.mark_invalid("lineItems", row.sourced_id)
                    continue
                values = [
                    row.sourced_id,
                    section_id,
                    title,
                    "gradebook",
                    assigned,
                    due,
                    low if low is not None else Decimal(0),
                    high,
                    row.is_active,
                    row.extra,
                ]
                if self.categories is not None:
                    values.insert(4, category)
                yield tuple(values)

        self.upsert(Assessment, "assessments", fields, rows(), bulk=line_items.bulk)
        self.assessments = source_id_map(
            Assessment, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )

    def import_line_item_objectives(self) -> None:
        """Learning objectives of line items: standards (created when new), the assessment's
        alignment, and an objective item per (line item, objective) for per-objective scores."""
        links = self.file("lineItemLearningObjectiveIds")
        if links is None:
            return
        wanted: dict[tuple[str, str], tuple[int, str]] = {}
        for row in links.rows():
            line_item = row.required("lineItemSourcedId")
            source = row.fits("source", row.required("source"), 100)
            objective = row.fits("learningObjectiveId", row.required("learningObjectiveId"), 120)
            assessment_id = self.reference(row, "lineItemSourcedId", self.assessments, "line item")
            if not row.ok or assessment_id is None:
                continue
            if (line_item, objective) in wanted:
                row.error("learningObjectiveId", "Listed twice for this line item", objective)
                continue
            wanted[(line_item, objective)] = (assessment_id, source)
        standards = self.standards_ensure({(obj, src) for (_, obj), (_, src) in wanted.items()})
        # The assessment's alignment (added; a bulk file also removes links it no longer lists).
        through = Assessment.standards.through
        pairs = {(assessment_id, standards[obj]) for (_, obj), (assessment_id, _) in wanted.items()}
        existing = set(
            through.objects.filter(assessment_id__in={a for a, _ in pairs}).values_list(
                "assessment_id", "standard_id"
            )
        )
        through.objects.bulk_create(
            [through(assessment_id=a, standard_id=s) for a, s in pairs - existing],
            batch_size=5000,
        )
        removed = 0
        if links.bulk:
            stale = existing - pairs
            for assessment_id, standard_id in stale:
                removed += through.objects.filter(
                    assessment_id=assessment_id, standard_id=standard_id
                ).delete()[0]
        self.report.count(
            "assessment_standards",
            created=len(pairs - existing),
            unchanged=len(pairs & existing),
            deactivated=removed,
        )
        max_points = dict(
            Assessment.objects.filter(pk__in={a for a, _ in pairs}).values_list("pk", "max_points")
        )
        items = [
            (
                f"{line_item}:{objective}",
                assessment_id,
                ItemKind.OBJECTIVE,
                objective,
                objective,
                max_points.get(assessment_id),
                True,
            )
            for (line_item, objective), (assessment_id, _) in wanted.items()
        ]
        self.upsert(
            AssessmentItem,
            "assessment_items",
            ("source_id", "assessment_id", "kind", "code", "title", "max_points", "is_active"),
            items,
            bulk=links.bulk,
        )
        item_ids = source_id_map(
            AssessmentItem, district_id=self.district_id, source_system=SOURCE_SYSTEM
        )
        item_through = AssessmentItem.standards.through
        item_pairs = set()
        for line_item, objective in wanted:
            item_id = item_ids[f"{line_item}:{objective}"]
            self.objective_items[(line_item, objective)] = item_id
            item_pairs.add((item_id, standards[objective]))
        existing_items = set(
            item_through.objects.filter(
                assessmentitem_id__in={i for i, _ in item_pairs}
            ).values_list("assessmentitem_id", "standard_id")
        )
        item_through.objects.bulk_create(
            [
                item_through(assessmentitem_id=i, standard_id=s)
                for i, s in item_pairs - existing_items
            ],
            batch_size=5000,
        )

    def standards_ensure(self, objectives: set[tuple[str, str]]) -> dict[str, int]:
        """Standard ids by code; an objective id naming no standard of the district creates it."""
        codes = {code for code, _ in objectives}
        found: dict[str, int] = {}
        for pk, code in (
            # The gradebook is read once the district is known.
            Standard.objects.filter(district_id=cast(int, self.district_id), code__in=codes)
            .order_by("pk")
            .values_list("pk", "code")
        ):
            found.setdefault(code, pk)
        missing = sorted((code, source) for code, source in objectives if code not in found)
        created: dict[str, tuple] = {}
        for code, source in missing:
            created.setdefault(code, (code, code, source, StandardKind.OBJECTIVE, True))
        if created:
            result = sourced_upsert(
                Standard,
                fields=("source_id", "code", "framework", "kind", "is_active"),
                rows=list(created.values()),
                district_id=self.district_id,
                source_system=SOURCE_SYSTEM,
            )
            self.count("standards", result)
            found.update(
                Standard.objects.filter(
                    district_id=cast(int, self.district_id), code__in=list(created)
                ).values_list("code", "pk")
            )
        self.report.count("standards", unchanged=len(codes) - len(created))
        return found

    def check_links(self, name: str, column: str, ids: dict[str, int] | None) -> None:
        links = self.file(name)
        if links is None:
            return
        for row in links.rows():
            row.required(column)
            scale = row.required("scoreScaleSourcedId")
            if ids is not None:
                self.reference(row, column, ids, "line item")
            if scale and scale not in self.score_scales:
                row.error(
                    "scoreScaleSourcedId",
                    "No score scale with this sourcedId in scoreScales.csv",
                    scale,
                )
        self.report.notes.append(f"{name}.csv checked; Trellis keeps no score scales.")

    def read_result_objectives(self) -> dict[str, list[tuple[Row, str, Decimal | None, str]]]:
        links = self.file("resultLearningObjectiveIds")
        by_result: dict[str, list] = defaultdict(list)
        if links is None:
            return by_result
        for row in links.rows():
            result = row.required("resultSourcedId")
            row.required("source")
            objective = row.required("learningObjectiveId")
            score = row.decimal("score")
            text_score = row.fits("textScore", row.text("textScore"), 60)
            if any(entry[1] == objective for entry in by_result.get(result, [])):
                row.error("learningObjectiveId", "Listed twice for this result", objective)
            if row.ok:
                by_result[result].append((row, objective, score, text_score))
        return by_result

    def import_results(self) -> None:
        results = self.file("results")
        objectives = self.read_result_objectives()
        if results is None:
            if objectives:
                self.check_results_exist(objectives)
            return
        # Memory stays with the batch on PostgreSQL (as for the roster's files): the sourcedIds
        # and administrations seen so far are FirstLines, and each batch's students are fetched
        # with it. A million results held them in dictionaries: 300 MiB and more.
        seen = FirstLines()
        administrations = FirstLines()
        with_objectives: set[str] = set()  # the results that resultLearningObjectiveIds names

        def inputs() -> Iterator[ScoreInput]:
            for batch in batched(results.rows()):
                firsts = self.firsts_of(seen, batch)
                self.people_prefetch(
                    (row.text("studentSourcedId") for row in batch), students_only=True
                )
                read = []
                for row in batch:
                    if not self.unique_at(row, firsts):
                        continue
                    if row.sourced_id in objectives:
                        # Its objectives' scores are this row's, read or refused with it.
                        with_objectives.add(row.sourced_id)
                    fields = self.result_plain(row) or self.result_checked(row)
                    if fields is not None:
                        read.append((row, fields))
                first_lines = administrations.firsts(
                    [(administration_key(fields), row.line) for row, fields in read]
                )
                for row, fields in read:
                    first = first_lines[administration_key(fields)]
                    yield from self.read_result(row, fields, first, objectives)

        # Set-based on PostgreSQL; recomputation is enqueued once, after the import commits.
        recorded = scores_record_bulk(scores=inputs(), source=ScoreSource.IMPORTED)
        self.estimate_ids.update(recorded.estimate_ids)
        unknown = {key: value for key, value in objectives.items() if key not in with_objectives}
        if unknown:
            self.check_results_exist(unknown)
        self.report.count(
            "scores",
            created=recorded.created,
            updated=recorded.updated,
            unchanged=recorded.unchanged,
        )

    def result_checked(self, row: Row) -> ResultFields | None:
        """A result's fields read through the checks, each problem reported by column; None when
        there is one."""
        line_item = row.required("lineItemSourcedId")
        assessment_id = self.reference(row, "lineItemSourcedId", self.assessments, "line item")
        student = row.required("studentSourcedId")
        student_id = self.reference(row, "studentSourcedId", self.students, "student")
        status = row.enum("scoreStatus", schema.SCORE_STATUSES, required=True)
        points = row.decimal("score", required="score" in row.file.spec.required)
        scored_on = row.date("scoreDate", required=True)
        row.fits("textScore", row.text("textScore"), 60)
        flags = [row.boolean(name) for name in RESULT_FLAGS]
        if not row.ok or assessment_id is None or student_id is None or scored_on is None:
            return None
        return ResultFields(
            line_item,
            assessment_id,
            student,
            student_id,
            scored_on,
            points,
            _score_status(status, points, flags),
        )

    def result_plain(self, row: Row) -> ResultFields | None:
        """A result's fields when every one is plainly valid, as in nearly every row of a real
        export, read without the checks' bookkeeping (a million results spent a fifth of the
        import's time there); None sends the row through result_checked, which names what is
        wrong. Accepts exactly what result_checked accepts without an error."""
        if not row.ok:
            return None
        get = row.values.get
        line_item = get("lineItemSourcedId", "")
        student = get("studentSourcedId", "")
        status = get("scoreStatus", "")
        raw_date = get("scoreDate", "")
        if not (line_item and student and status and raw_date) or len(get("textScore", "")) > 60:
            return None
        assessment_id = self.assessments.get(line_item)
        student_id = self.students.get(student)
        scored_on = parse_date(raw_date)
        if (
            assessment_id is None
            or student_id is None
            or scored_on is None
            or status not in schema.SCORE_STATUSES
        ):
            return None
        raw_points = get("score", "")
        points = None
        if raw_points:
            points = plain_points(raw_points)
            if points is None:
                return None
        elif "score" in row.file.spec.required:
            return None
        flags = []
        for name in RESULT_FLAGS:
            raw = get(name, "")
            flag = TRUE_VALUES.get(raw) if raw in TRUE_VALUES else TRUE_VALUES.get(raw.lower())
            if raw and (flag is None or raw in ("1", "0")):
                return None  # 1 and 0 are read by the checks, which report the mapping
            flags.append(flag)
        return ResultFields(
            line_item,
            assessment_id,
            student,
            student_id,
            scored_on,
            points,
            _score_status(status, points, flags),
        )

    def read_result(
        self, row: Row, fields: ResultFields, first: int, objectives: dict
    ) -> list[ScoreInput]:
        """The scores of a result row read into `fields`, whose (student, line item, scoreDate)
        came first on line `first`."""
        line_item, assessment_id, student, student_id, scored_on, points, status_value = fields
        comment = row.text("comment")
        text_score = row.text("textScore")
        if first != row.line:
            row.error(
                "studentSourcedId",
                f"A second result for this student, line item and scoreDate (line {first})",
                student,
            )
            return []
        sourced_id = row.sourced_id
        if not row.is_active:
            # Trellis keeps scores (they are evidence); a deleted result is noted, not erased.
            self.report.count("scores_marked_deleted", unchanged=1)
            return []
        inputs = [
            ScoreInput(
                student_id=student_id,
                assessment_id=assessment_id,
                scored_on=scored_on,
                points=points,
                rubric_level=text_score,
                status=status_value,
                comment=comment,
                source_system=SOURCE_SYSTEM,
                source_id=sourced_id,
                source_extra=row.extra,
            )
        ]
        for link_row, objective, score, objective_text in objectives.get(sourced_id, ()):
            item_id = self.objective_items.get((line_item, objective))
            if item_id is None:
                link_row.error(
                    "learningObjectiveId",
                    "Not a learning objective of the "
                    "result's line item (lineItemLearningObjectiveIds.csv)",
                    objective,
                )
                continue
            inputs.append(
                ScoreInput(
                    student_id=student_id,
                    assessment_id=assessment_id,
                    item_id=item_id,
                    scored_on=scored_on,
                    points=score,
                    rubric_level=objective_text,
                    status=status_value,
                    source_system=SOURCE_SYSTEM,
                    source_id=f"{sourced_id}:{objective}",
                    source_extra=link_row.extra,
                )
            )
        return inputs

    def check_results_exist(self, objectives: dict) -> None:
        known = set(
            Score.objects.filter(
                district_id=cast(int, self.district_id),  # results are read once it is known
                source_system=SOURCE_SYSTEM,
                source_id__in=list(objectives),
                item__isnull=True,
            ).values_list("source_id", flat=True)
        )
        for result, entries in objectives.items():
            if result not in known:
                row = entries[0][0]
                row.error(
                    "resultSourcedId",
                    "No result with this sourcedId in the export or in Trellis",
                    result,
                )
            else:
                row = entries[0][0]
                row.error(
                    "resultSourcedId",
                    "Per-objective scores need their result in the same import (results.csv)",
                    result,
                )
