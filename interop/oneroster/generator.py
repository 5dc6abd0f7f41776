"""A realistic OneRoster 1.2 bulk export of a made-up district, for tests and the benchmark.

For N students: about N/573 schools (elementary, middle, high), five subjects per grade with
classes of about 25 (each student takes 4-5), a teacher per ~3 classes, about 1.05 guardians
per student, 2-3 gradebook line items per class aligned to a learning objective, and a result
for nearly every enrolled student on each (86,000 students: ~150 schools, ~5,500 teachers,
~16,000 classes, ~400,000 enrollments, ~90,000 guardians, ~1M results). Deterministic for a
seed; rows are written as they are made, school by school, so memory stays flat.
"""

from __future__ import annotations

import csv
import random
import shutil
import tempfile
import zipfile
from datetime import date, timedelta
from pathlib import Path

from interop.oneroster import schema

FIRST = [
    "Ava",
    "Ben",
    "Chloe",
    "Diego",
    "Emma",
    "Finn",
    "Grace",
    "Hugo",
    "Isla",
    "Jonah",
    "Kira",
    "Liam",
    "Maya",
    "Noah",
    "Olga",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tariq",
]
LAST = [
    "Garcia",
    "Nguyen",
    "Smith",
    "Okafor",
    "Martin",
    "Kowalski",
    "Haddad",
    "Lee",
    "Brown",
    "Silva",
    "Novak",
    "Khan",
    "Jones",
    "Ito",
    "Mensah",
    "Rossi",
]
SUBJECTS = ["Mathematics", "English Language Arts", "Science", "Social Studies", "Art"]
BANDS = [
    ("Elementary", ["KG", "01", "02", "03", "04", "05"], 0.6),
    ("Middle", ["06", "07", "08"], 0.2),
    ("High", ["09", "10", "11", "12"], 0.2),
]
YEAR_START, YEAR_END = date(2026, 8, 17), date(2027, 6, 4)
STAMP = "2026-08-01T00:00:00.000Z"
CLASS_SIZE = 25


def oneroster_generate(
    *, out: str | Path, students: int, seed: int = 2026, results: bool = True
) -> dict[str, int]:
    """Write the export to OUT (a folder, or a zip when OUT ends in .zip); rows per file."""
    out = Path(out)
    if out.suffix == ".zip":
        with tempfile.TemporaryDirectory() as folder:
            counts = _generate(Path(folder), students, seed, results)
            with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(Path(folder).iterdir()):
                    archive.write(path, path.name)
        return counts
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    return _generate(out, students, seed, results)


class _Files:
    def __init__(self, folder: Path, specs: list[schema.FileSpec]) -> None:
        self.handles = {}
        self.writers = {}
        self.counts: dict[str, int] = {}
        for spec in specs:
            handle = open(folder / spec.filename, "w", newline="", encoding="utf-8")  # noqa: SIM115
            writer = csv.DictWriter(
                handle, fieldnames=spec.columns, lineterminator="\r\n", extrasaction="raise"
            )
            writer.writeheader()
            self.handles[spec.name], self.writers[spec.name] = handle, writer
            self.counts[spec.name] = 0

    def write(self, name: str, row: dict) -> None:
        self.writers[name].writerow(row)
        self.counts[name] += 1

    def close(self) -> None:
        for handle in self.handles.values():
            handle.close()


def _common(sourced_id: str) -> dict[str, str]:
    return {"sourcedId": sourced_id, "status": "active", "dateLastModified": STAMP}


def _generate(folder: Path, student_total: int, seed: int, with_results: bool) -> dict[str, int]:
    rng = random.Random(seed)  # noqa: S311 (made-up people, not secrets)
    specs = [
        schema.ORGS,
        schema.ACADEMIC_SESSIONS,
        schema.COURSES,
        schema.CLASSES,
        schema.USERS_12,
        schema.ROLES,
        schema.DEMOGRAPHICS,
        schema.ENROLLMENTS,
        schema.CATEGORIES_12,
        schema.LINE_ITEMS_12,
        schema.LINE_ITEM_LEARNING_OBJECTIVE_IDS,
        schema.RESULTS_12,
    ]
    if not with_results:
        specs = specs[:8]
    files = _Files(folder, specs)
    try:
        _district(files, rng, student_total, with_results)
    finally:
        files.close()
    with open(folder / schema.MANIFEST, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(["propertyName", "value"])
        writer.writerow(["manifest.version", "1.0"])
        writer.writerow(["oneroster.version", "1.2"])
        written = {spec.name for spec in specs}
        for spec in schema.FILES["1.2"]:
            writer.writerow([f"file.{spec.name}", "bulk" if spec.name in written else "absent"])
        writer.writerow(["source.systemName", "Trellis generator"])
        writer.writerow(["source.systemCode", f"make_oneroster-{seed}"])
    return files.counts


def _district(files: _Files, rng: random.Random, student_total: int, with_results: bool) -> None:
    files.write(
        "orgs",
        {
            **_common("district"),
            "name": "Generated Unified School District",
            "type": "district",
            "identifier": "4899999",
            "parentSourcedId": "",
        },
    )
    files.write(
        "academicSessions",
        {
            **_common("y2027"),
            "title": "2026-2027",
            "type": "schoolYear",
            "startDate": YEAR_START.isoformat(),
            "endDate": YEAR_END.isoformat(),
            "parentSourcedId": "",
            "schoolYear": "2027",
        },
    )
    middle = date(2027, 1, 8)
    for term, (start, end) in {
        "t1": (YEAR_START, middle - timedelta(days=1)),
        "t2": (middle, YEAR_END),
    }.items():
        files.write(
            "academicSessions",
            {
                **_common(term),
                "title": f"Term {term[-1]}",
                "type": "term",
                "startDate": start.isoformat(),
                "endDate": end.isoformat(),
                "parentSourcedId": "y2027",
                "schoolYear": "2027",
            },
        )
    for name, title in (("homework", "Homework"), ("quiz", "Quizzes"), ("test", "Tests")):
        if "categories" in files.writers:
            files.write("categories", {**_common(name), "title": title, "weight": ""})
    grades = sorted({g for _, band, _ in BANDS for g in band})
    for grade in grades:
        for s, subject in enumerate(SUBJECTS):
            files.write(
                "courses",
                {
                    **_common(f"c-{grade}-{s}"),
                    "schoolYearSourcedId": "y2027",
                    "title": f"{subject} {grade}",
                    "courseCode": f"{s}{grade}",
                    "grades": grade,
                    "orgSourcedId": "district",
                    "subjects": subject,
                    "subjectCodes": "",
                },
            )
    school_count = max(1, round(student_total / 573))
    bands = [rng.choices(BANDS, weights=[b[2] for b in BANDS])[0] for _ in range(school_count)]
    bands[0] = BANDS[0]
    per_school = [
        student_total // school_count + (1 if i < student_total % school_count else 0)
        for i in range(school_count)
    ]
    counters = {
        "student": 0,
        "teacher": 0,
        "guardian": 0,
        "enrollment": 0,
        "result": 0,
        "lineitem": 0,
    }
    for index in range(school_count):
        _school(files, rng, index, bands[index], per_school[index], counters, with_results)


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST), rng.choice(LAST)


def _user(
    files: _Files,
    sourced_id: str,
    given: str,
    family: str,
    *,
    identifier: str = "",
    email: str = "",
    phone: str = "",
    agents: str = "",
    grade: str = "",
    org: str = "",
) -> None:
    files.write(
        "users",
        {
            **_common(sourced_id),
            "enabledUser": "true",
            "username": sourced_id,
            "userIds": "",
            "givenName": given,
            "familyName": family,
            "middleName": "",
            "identifier": identifier,
            "email": email,
            "sms": "",
            "phone": phone,
            "agentSourcedIds": agents,
            "grades": grade,
            "password": "",
            "userMasterIdentifier": "",
            "resourceSourcedIds": "",
            "preferredGivenName": "",
            "preferredMiddleName": "",
            "preferredFamilyName": "",
            "primaryOrgSourcedId": org,
            "pronouns": "",
        },
    )


def _role(files: _Files, user: str, role: str, org: str) -> None:
    files.write(
        "roles",
        {
            **_common(f"{user}:{org}"),
            "userSourcedId": user,
            "roleType": "primary",
            "role": role,
            "beginDate": "",
            "endDate": "",
            "orgSourcedId": org,
            "userProfileSourcedId": "",
        },
    )


def _school(
    files: _Files,
    rng: random.Random,
    index: int,
    band: tuple,
    size: int,
    counters: dict[str, int],
    with_results: bool,
) -> None:
    band_name, band_grades, _ = band
    school = f"school-{index:03d}"
    files.write(
        "orgs",
        {
            **_common(school),
            "name": f"{rng.choice(LAST)} {band_name} School",
            "type": "school",
            "identifier": f"{1000 + index}",
            "parentSourcedId": "district",
        },
    )
    by_grade: dict[str, list[str]] = {grade: [] for grade in band_grades}
    for n in range(size):
        counters["student"] += 1
        student = f"stu-{counters['student']:06d}"
        grade = band_grades[n % len(band_grades)]
        by_grade[grade].append(student)
        guardians = []
        for _ in range(2 if rng.random() < 0.05 else 1):
            counters["guardian"] += 1
            guardian = f"gua-{counters['guardian']:06d}"
            guardians.append(guardian)
            given, family = _person(rng)
            _user(
                files,
                guardian,
                given,
                family,
                email=f"{guardian}@example.test",
                phone=f"555-{rng.randrange(10000):04d}",
                agents=student,
            )
            _role(files, guardian, "parent" if rng.random() < 0.9 else "guardian", school)
        given, family = _person(rng)
        _user(
            files,
            student,
            given,
            family,
            identifier=f"{100000 + counters['student']}",
            agents=",".join(guardians),
            grade=grade,
            org=school,
        )
        _role(files, student, "student", school)
        races = rng.choice(
            [
                ["white"],
                ["blackOrAfricanAmerican"],
                ["asian"],
                ["white", "asian"],
                ["americanIndianOrAlaskaNative"],
            ]
        )
        birth = date(
            2027 - 6 - (band_grades.index(grade) if band_name == "Elementary" else int(grade)), 1, 1
        ) + timedelta(days=rng.randrange(365))
        demographic = {
            **_common(student),
            "birthDate": birth.isoformat(),
            "sex": rng.choice(["male", "female"]),
        }
        for column in (
            "americanIndianOrAlaskaNative",
            "asian",
            "blackOrAfricanAmerican",
            "nativeHawaiianOrOtherPacificIslander",
            "white",
        ):
            demographic[column] = "true" if column in races else "false"
        demographic["demographicRaceTwoOrMoreRaces"] = "true" if len(races) > 1 else "false"
        demographic["hispanicOrLatinoEthnicity"] = "true" if rng.random() < 0.2 else "false"
        files.write("demographics", demographic)
    teachers: list[str] = []
    classes_taught = 0
    for grade, roster in by_grade.items():
        for s, subject in enumerate(SUBJECTS):
            takers = [student for student in roster if rng.random() < 0.93]
            class_count = max(1, -(-len(takers) // CLASS_SIZE))
            for c in range(class_count):
                members = takers[c::class_count]
                klass = f"{school}-{grade}-{s}-{c}"
                files.write(
                    "classes",
                    {
                        **_common(klass),
                        "title": f"{subject} {grade} ({c + 1})",
                        "grades": grade,
                        "courseSourcedId": f"c-{grade}-{s}",
                        "classCode": f"{s}{grade}-{c + 1}",
                        "classType": "scheduled",
                        "location": f"Room {rng.randrange(100, 300)}",
                        "schoolSourcedId": school,
                        "termSourcedIds": "y2027",
                        "subjects": subject,
                        "subjectCodes": "",
                        "periods": str(s + 1),
                    },
                )
                if not teachers or classes_taught % 3 == 0:
                    counters["teacher"] += 1
                    teacher = f"tea-{counters['teacher']:05d}"
                    teachers.append(teacher)
                    given, family = _person(rng)
                    _user(
                        files,
                        teacher,
                        given,
                        family,
                        identifier=f"T{counters['teacher']}",
                        email=f"{teacher}@district.example.test",
                        org=school,
                    )
                    _role(files, teacher, "teacher", school)
                classes_taught += 1
                _enroll(files, counters, klass, school, teachers[-1], "teacher")
                for student in members:
                    _enroll(files, counters, klass, school, student, "student")
                if with_results:
                    _gradebook(files, rng, counters, klass, grade, s, members)


def _enroll(
    files: _Files, counters: dict[str, int], klass: str, school: str, user: str, role: str
) -> None:
    counters["enrollment"] += 1
    files.write(
        "enrollments",
        {
            **_common(f"enr-{counters['enrollment']:07d}"),
            "classSourcedId": klass,
            "schoolSourcedId": school,
            "userSourcedId": user,
            "role": role,
            "primary": "true" if role == "teacher" else "false",
            "beginDate": YEAR_START.isoformat(),
            "endDate": "",
        },
    )


def _gradebook(
    files: _Files,
    rng: random.Random,
    counters: dict[str, int],
    klass: str,
    grade: str,
    subject: int,
    members: list[str],
) -> None:
    for n in range(2 if rng.random() < 0.5 else 3):
        counters["lineitem"] += 1
        item = f"li-{counters['lineitem']:06d}"
        due = YEAR_START + timedelta(days=14 + 21 * n + rng.randrange(7))
        category = ("homework", "quiz", "test")[n % 3]
        files.write(
            "lineItems",
            {
                **_common(item),
                "title": f"{category.title()} {n + 1}",
                "description": "",
                "assignDate": (due - timedelta(days=7)).isoformat(),
                "dueDate": due.isoformat(),
                "classSourcedId": klass,
                "categorySourcedId": category,
                "gradingPeriodSourcedId": "t1",
                "resultValueMin": "0",
                "resultValueMax": "10",
                "schoolSourcedId": "",
            },
        )
        objective = f"GEN.{SUBJECTS[subject][:4].upper()}.{grade}.{n + 1}"
        files.write(
            "lineItemLearningObjectiveIds",
            {"lineItemSourcedId": item, "source": "Generated", "learningObjectiveId": objective},
        )
        for student in members:
            if rng.random() < 0.03:
                continue
            counters["result"] += 1
            files.write(
                "results",
                {
                    **_common(f"res-{counters['result']:07d}"),
                    "lineItemSourcedId": item,
                    "studentSourcedId": student,
                    "scoreStatus": "fully graded",
                    "score": str(rng.randrange(3, 11)),
                    "textScore": "",
                    "scoreDate": due.isoformat(),
                    "comment": "",
                    "inProgress": "false",
                    "incomplete": "false",
                    "late": "false",
                    "missing": "false",
                },
            )
