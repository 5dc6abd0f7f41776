"""A small OneRoster 1.2 roster built in the test (never from ../shared): two schools and a
department, a year and a term, two courses, two classes, three students, two teachers and a
district administrator, their roles and enrollments. Tests change its rows to make a quirk or a
broken export, and write it to a folder or a zip."""

from __future__ import annotations

import copy
import csv
import io
import zipfile
from pathlib import Path

from interop.oneroster import schema

ROW = dict[str, str]
FILES = ("orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments")
SPECS = {spec.name: spec for spec in schema.FILES["1.2"]}


def _common(**values: str) -> ROW:
    return {"status": "active", "dateLastModified": "2026-08-01T00:00:00Z", **values}


def clean_roster() -> dict[str, list[ROW]]:
    """Rows by file name (the manifest is written from the keys)."""
    return copy.deepcopy(
        {
            "orgs": [
                _common(sourcedId="d1", name="North Valley ISD", type="district", identifier="48"),
                _common(
                    sourcedId="s1",
                    name="Maple",
                    type="school",
                    identifier="101",
                    parentSourcedId="d1",
                ),
                _common(
                    sourcedId="s2",
                    name="Oak",
                    type="school",
                    identifier="102",
                    parentSourcedId="d1",
                ),
                _common(
                    sourcedId="dep1", name="Maple Math", type="department", parentSourcedId="s1"
                ),
            ],
            "academicSessions": [
                _common(
                    sourcedId="y1",
                    title="2026-2027",
                    type="schoolYear",
                    startDate="2026-08-01",
                    endDate="2027-06-30",
                    schoolYear="2027",
                ),
                _common(
                    sourcedId="term1",
                    title="Fall",
                    type="term",
                    startDate="2026-08-20",
                    endDate="2026-12-18",
                    parentSourcedId="y1",
                    schoolYear="2027",
                ),
            ],
            "courses": [
                _common(sourcedId="c1", title="Math 4", orgSourcedId="s1", grades="04"),
                _common(sourcedId="c2", title="Science 7", orgSourcedId="s2", grades="07"),
            ],
            "classes": [
                _common(
                    sourcedId="cl1",
                    title="Math 4 - A",
                    courseSourcedId="c1",
                    classType="scheduled",
                    schoolSourcedId="s1",
                    termSourcedIds="term1",
                    grades="04",
                ),
                _common(
                    sourcedId="cl2",
                    title="Science 7 - H",
                    courseSourcedId="c2",
                    classType="homeroom",
                    schoolSourcedId="s2",
                    termSourcedIds="term1",
                ),
            ],
            "users": [
                _user("st1", "Ada", "Lovelace", grades="04"),
                _user("st2", "Alan", "Turing", grades="04"),
                _user("st3", "Grace", "Hopper", grades="07"),
                _user("tc1", "Tom", "Teacher"),
                _user("tc2", "Tina", "Teacher"),
                _user("a1", "Al", "Admin"),
            ],
            "roles": [
                _role("r1", "st1", "student", "s1"),
                _role("r2", "st2", "student", "s1"),
                _role("r3", "st3", "student", "s2"),
                _role("r4", "tc1", "teacher", "s1"),
                _role("r5", "tc2", "teacher", "s2"),
                _role("r6", "a1", "districtAdministrator", "d1"),
            ],
            "enrollments": [
                _enrollment("e1", "cl1", "s1", "st1", "student"),
                _enrollment("e2", "cl1", "s1", "st2", "student"),
                _enrollment("e3", "cl2", "s2", "st3", "student"),
                _enrollment("e4", "cl1", "s1", "tc1", "teacher", primary="true"),
                _enrollment("e5", "cl2", "s2", "tc2", "teacher", primary="false"),
            ],
        }
    )


def _user(sourced_id: str, given: str, family: str, **values: str) -> ROW:
    return _common(
        sourcedId=sourced_id,
        enabledUser="true",
        username=sourced_id,
        givenName=given,
        familyName=family,
        identifier=sourced_id.upper(),
        **values,
    )


def _role(sourced_id: str, user: str, role: str, org: str) -> ROW:
    return _common(
        sourcedId=sourced_id, userSourcedId=user, roleType="primary", role=role, orgSourcedId=org
    )


def _enrollment(
    sourced_id: str, klass: str, school: str, user: str, role: str, **values: str
) -> ROW:
    return _common(
        sourcedId=sourced_id,
        classSourcedId=klass,
        schoolSourcedId=school,
        userSourcedId=user,
        role=role,
        **values,
    )


def csv_text(name: str, rows: list[ROW], header: list[str] | None = None) -> str:
    """A file's text: the standard's columns (or `header`), then the rows."""
    columns = header or list(SPECS[name].columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def manifest_text(files: dict[str, list[ROW]], extra: tuple[tuple[str, str], ...] = ()) -> str:
    lines = [("manifest.version", "1.0"), ("oneroster.version", "1.2")]
    lines += [(f"file.{name}", "bulk" if name in files else "absent") for name in SPECS]
    lines += list(extra)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["propertyName", "value"])
    writer.writerows(lines)
    return buffer.getvalue()


def write_roster(
    folder: Path,
    files: dict[str, list[ROW]],
    *,
    manifest: str | None = None,
    headers: dict[str, list[str]] | None = None,
) -> Path:
    """The roster as a folder of CSV files with its manifest (or the manifest given)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.csv").write_text(manifest if manifest is not None else manifest_text(files))
    for name, rows in files.items():
        (folder / f"{name}.csv").write_text(csv_text(name, rows, (headers or {}).get(name)))
    return folder


def zip_roster(folder: Path, path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for member in sorted(folder.iterdir()):
            archive.write(member, member.name)
    return path
