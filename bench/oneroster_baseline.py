"""The fair baseline of the OneRoster roster import (bench_oneroster): the same roster rows,
read from the CSV files with no checks at all (each value taken as it is, references resolved
through dictionaries), COPYed into staging tables and upserted into the same tables by the same
interop.upsert.sourced_upsert calls as the importer's, in one transaction. What the import
would cost if parsing, checking and reporting were free.

Run in a child: `manage.py shell -c "from bench.oneroster_baseline import main; main(PATH)"`;
prints one JSON line with its own seconds and the rows it staged.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Model

from interop.oneroster.schema import SESSION_TYPES
from interop.upsert import source_id_map, sourced_upsert
from students.models import (
    AcademicSession,
    ContactDetail,
    Course,
    District,
    Enrollment,
    Guardian,
    GuardianRelationship,
    School,
    Section,
    SectionAssignment,
    Staff,
    StaffSchoolAssignment,
    Student,
    StudentSchoolMembership,
)

SOURCE = "oneroster"
STAFF = {"teacher": "teacher", "aide": "aide", "counselor": "counselor"}


def _rows(folder: Path, name: str) -> Iterator[dict[str, str]]:
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
        yield from csv.DictReader(handle)


def _date(text: str) -> str | None:
    return text[:10] or None


def _list(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def load(folder: Path) -> int:
    staged = 0

    def upsert(
        model: type[Model], fields: tuple[str, ...], rows: Iterable[Any], district_id: int | None
    ) -> None:
        nonlocal staged
        staged += sourced_upsert(
            model,
            fields=fields,
            rows=rows,
            district_id=district_id,
            source_system=SOURCE,
            deactivate_missing=True,
        ).staged

    orgs = list(_rows(folder, "orgs"))
    district = next(org for org in orgs if org["type"] == "district")
    upsert(
        District,
        ("source_id", "name", "nces_id"),
        [(district["sourcedId"], district["name"], "")],
        None,
    )
    did = District.objects.get(source_system=SOURCE, source_id=district["sourcedId"]).pk

    def ids_of(model: type[Model]) -> dict[str, int]:
        return source_id_map(model, district_id=did, source_system=SOURCE)

    upsert(
        School,
        ("source_id", "name", "school_number", "is_active", "source_extra"),
        [
            (o["sourcedId"], o["name"], o["identifier"], True, {})
            for o in orgs
            if o["type"] == "school"
        ],
        did,
    )
    schools = ids_of(School)
    upsert(
        AcademicSession,
        ("source_id", "title", "kind", "school_year", "start_date", "end_date", "is_active"),
        [
            (
                r["sourcedId"],
                r["title"],
                SESSION_TYPES.get(r["type"], "term"),
                int(r["schoolYear"]),
                r["startDate"],
                r["endDate"],
                True,
            )
            for r in _rows(folder, "academicSessions")
        ],
        did,
    )
    sessions = ids_of(AcademicSession)
    upsert(
        Course,
        ("source_id", "school_id", "title", "course_code", "subject", "grade_levels", "is_active"),
        (
            (
                r["sourcedId"],
                schools.get(r["orgSourcedId"]),
                r["title"],
                r["courseCode"],
                r["subjects"],
                _list(r["grades"]),
                True,
            )
            for r in _rows(folder, "courses")
        ),
        did,
    )
    courses = ids_of(Course)
    upsert(
        Section,
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
            "is_active",
            "source_extra",
        ),
        (
            (
                r["sourcedId"],
                schools[r["schoolSourcedId"]],
                courses[r["courseSourcedId"]],
                sessions[_list(r["termSourcedIds"])[0]],
                r["title"],
                r["classCode"],
                r["periods"],
                r["subjects"],
                _list(r["grades"]),
                r["location"],
                True,
                {},
            )
            for r in _rows(folder, "classes")
        ),
        did,
    )
    sections = ids_of(Section)
    roles: dict[str, list[tuple[str, str]]] = {}
    for r in _rows(folder, "roles"):
        roles.setdefault(r["userSourcedId"], []).append((r["role"], r["orgSourcedId"]))
    students: list[tuple] = []
    staff: list[tuple] = []
    guardians: list[tuple] = []
    contacts: list[tuple] = []
    agents: list[tuple[str, str]] = []
    names = ("first_name", "middle_name", "last_name", "preferred_first_name")
    for r in _rows(folder, "users"):
        sid = r["sourcedId"]
        role = roles[sid][0][0]
        person = (sid, r["givenName"], r["middleName"], r["familyName"], r["preferredGivenName"])
        if role == "student":
            students.append((*person, r["identifier"], True, {}))
            owner = "student"
        elif role in ("parent", "guardian", "relative"):
            guardians.append((*person, True, {}))
            agents += [(sid, student) for student in _list(r["agentSourcedIds"])]
            owner = "guardian"
        else:
            staff.append((*person, r["identifier"], STAFF.get(role, "other"), True, {}))
            owner = "staff"
        for column, kind, label in (
            ("email", "email", ""),
            ("phone", "phone", "phone"),
            ("sms", "phone", "sms"),
        ):
            if r[column]:
                contacts.append((f"{sid}:{column}", owner, sid, kind, label, r[column]))
    upsert(
        Student, ("source_id", *names, "student_number", "is_active", "source_extra"), students, did
    )
    upsert(
        Staff,
        ("source_id", *names, "staff_number", "kind", "is_active", "source_extra"),
        staff,
        did,
    )
    upsert(Guardian, ("source_id", *names, "is_active", "source_extra"), guardians, did)
    ids = {
        "student": ids_of(Student),
        "staff": ids_of(Staff),
        "guardian": ids_of(Guardian),
    }
    members: list[tuple] = [
        (f"{user}:{org}", ids["student"][user], schools[org], "", None, None, True, {})
        for user, entries in roles.items()
        for role, org in entries
        if role == "student" and org in schools
    ]
    upsert(
        StudentSchoolMembership,
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
        members,
        did,
    )
    assignments: list[tuple] = [
        (f"{user}:{org}", ids["staff"][user], schools[org], role, None, None, True, {})
        for user, entries in roles.items()
        for role, org in entries
        if user in ids["staff"] and org in schools
    ]
    upsert(
        StaffSchoolAssignment,
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
        assignments,
        did,
    )
    upsert(
        ContactDetail,
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
        [
            (
                source_id,
                ids["student"].get(sid) if owner == "student" else None,
                ids["guardian"].get(sid) if owner == "guardian" else None,
                ids["staff"].get(sid) if owner == "staff" else None,
                kind,
                label,
                value,
                True,
            )
            for source_id, owner, sid, kind, label, value in contacts
        ],
        did,
    )
    upsert(
        GuardianRelationship,
        (
            "source_id",
            "guardian_id",
            "student_id",
            "relationship",
            "portal_access",
            "has_educational_rights",
            "is_active",
        ),
        [
            (f"{g}:{s}", ids["guardian"][g], ids["student"][s], "guardian", True, True, True)
            for g, s in dict.fromkeys(agents)
            if s in ids["student"]
        ],
        did,
    )
    staged += sourced_upsert(
        Student,
        fields=(
            "source_id",
            "birth_date",
            "sex",
            "races",
            "hispanic_or_latino",
            "demographics_extra",
        ),
        rows=(
            (
                r["sourcedId"],
                _date(r["birthDate"]),
                "",
                [],
                r["hispanicOrLatinoEthnicity"] == "true",
                {},
            )
            for r in _rows(folder, "demographics")
        ),
        district_id=did,
        source_system=SOURCE,
    ).staged
    teaching: list[tuple] = []

    def learners() -> Iterator[tuple]:
        for r in _rows(folder, "enrollments"):
            row = (r["sourcedId"], r["userSourcedId"], sections[r["classSourcedId"]])
            if r["role"] == "student":
                yield (
                    row[0],
                    ids["student"][row[1]],
                    row[2],
                    _date(r["beginDate"]),
                    _date(r["endDate"]),
                    True,
                    {},
                )
            else:
                teaching.append(
                    (
                        row[0],
                        ids["staff"][row[1]],
                        row[2],
                        r["primary"] != "false",
                        _date(r["beginDate"]),
                        _date(r["endDate"]),
                        True,
                        {},
                    )
                )

    upsert(
        Enrollment,
        (
            "source_id",
            "student_id",
            "section_id",
            "begin_date",
            "end_date",
            "is_active",
            "source_extra",
        ),
        learners(),
        did,
    )
    upsert(
        SectionAssignment,
        (
            "source_id",
            "staff_id",
            "section_id",
            "is_primary",
            "begin_date",
            "end_date",
            "is_active",
            "source_extra",
        ),
        teaching,
        did,
    )
    return staged


def main(path: str) -> None:
    started = time.perf_counter()
    with transaction.atomic():
        staged = load(Path(path))
    print(json.dumps({"baseline_s": time.perf_counter() - started, "staged": staged}))
