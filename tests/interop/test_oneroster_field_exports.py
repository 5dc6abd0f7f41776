"""OneRoster exports as other vendors' systems write them (issue 23): each quirk imports to the
expected records and its mapping or warning is in the run's report; each unacceptable export is
refused with all of its errors, in one run, and writes nothing. The rosters are built here
(tests/interop/oneroster_roster.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from students import models as sm
from tests.interop.conftest import ImportOutcome, db_snapshot, run_import
from tests.interop.oneroster_roster import clean_roster, manifest_text, write_roster, zip_roster

pytestmark = pytest.mark.django_db


def mappings(outcome: ImportOutcome) -> dict[tuple[str, str, str, str], int]:
    return {
        (m["file"], m["column"], m["from"], m["to"]): m["count"] for m in outcome.report["mappings"]
    }


def printed(path: Path) -> str:
    """What the command prints for people (a dry run, without --json)."""
    out = io.StringIO()
    call_command("import_oneroster", str(path), "--no-progress", "--dry-run", stdout=out)
    return out.getvalue()


def where(outcome: ImportOutcome, key: str = "errors") -> set[tuple]:
    return {(e["file"], e["line"], e["column"]) for e in outcome.report[key]}


def refused(path: Path, *args: str) -> ImportOutcome:
    before = db_snapshot()
    outcome = run_import(path, *args)
    assert outcome.exit_code == 1 and not outcome.report["ok"]
    assert db_snapshot() == before, "a refused import changed the database"
    assert "nothing was written" in outcome.stderr
    return outcome


def imported(path: Path, *args: str) -> ImportOutcome:
    outcome = run_import(path, *args)
    assert outcome.exit_code == 0, outcome.report["errors"]
    return outcome


# --- 1. every error in one run


def test_every_kind_of_error_is_reported_in_one_run(tmp_path) -> None:
    roster = clean_roster()
    # Value errors: a near-miss role, a class type that is no class type.
    roster["enrollments"][0]["role"] = "studnet"
    roster["classes"][1]["classType"] = "lecture"
    # References to records that exist nowhere: every one is named.
    roster["enrollments"][1]["userSourcedId"] = "ghost1"
    roster["enrollments"][2]["userSourcedId"] = "ghost2"
    roster["enrollments"][4].update(userSourcedId="ghost3", classSourcedId="cl-none")
    # A header error: courses.csv without its title column (classes' courses are then not
    # errors of their own).
    header = [c for c in clean_roster_columns("courses") if c != "title"]
    manifest = manifest_text(
        roster,
        (("file.categories", "bluk"),),
    ).replace("oneroster.version,1.2", "oneroster.version,1.3")
    # A manifest line for categories that is both wrong and a near miss.
    manifest = manifest.replace("file.categories,absent\n", "")
    folder = write_roster(tmp_path / "x", roster, manifest=manifest, headers={"courses": header})
    categories = manifest.splitlines().index("file.categories,bluk") + 1
    outcome = refused(folder)
    found = where(outcome)
    assert ("manifest.csv", 3, "oneroster.version") in found
    assert ("manifest.csv", categories, "file.categories") in found
    assert ("courses.csv", 1, "title") in found
    assert ("enrollments.csv", 2, "role") in found
    assert ("classes.csv", 3, "classType") in found
    for line in (3, 4, 6):
        assert ("enrollments.csv", line, "userSourcedId") in found
    assert ("enrollments.csv", 6, "classSourcedId") in found
    # No error of its own for a class whose course file could not be read.
    assert not any(e["column"] == "courseSourcedId" for e in outcome.report["errors"])
    by_where = {(e["file"], e["line"], e["column"]): e for e in outcome.report["errors"]}
    assert by_where[("enrollments.csv", 2, "role")]["suggestion"] == "student"
    assert by_where[("manifest.csv", categories, "file.categories")]["suggestion"] == "bulk"
    assert "'ghost3'" in by_where[("enrollments.csv", 6, "userSourcedId")]["message"]
    assert "did you mean 'student'?" in outcome.stderr
    assert outcome.report["error_total"] == len(outcome.report["errors"]) == 9


def clean_roster_columns(name: str) -> list[str]:
    from tests.interop.oneroster_roster import SPECS

    return list(SPECS[name].columns)


def test_a_district_that_cannot_be_told_does_not_stop_the_checks(tmp_path) -> None:
    roster = clean_roster()
    roster["orgs"][0]["name"] = ""  # the district org is broken
    roster["enrollments"][0]["userSourcedId"] = "ghost"
    outcome = refused(write_roster(tmp_path / "x", roster))
    assert where(outcome) == {("orgs.csv", 2, "name"), ("enrollments.csv", 2, "userSourcedId")}
    assert not sm.District.objects.exists()


def test_references_to_nothing_are_all_reported_up_to_the_cap(tmp_path) -> None:
    roster = clean_roster()
    template = roster["enrollments"][0]
    roster["enrollments"] = [
        dict(template, sourcedId=f"e{n}", userSourcedId=f"ghost{n}") for n in range(250)
    ]
    outcome = refused(zip_roster(write_roster(tmp_path / "x", roster), tmp_path / "x.zip"))
    assert len(outcome.report["errors"]) == 200 and outcome.report["error_total"] == 250
    named = {e["message"].rsplit("'", 2)[1] for e in outcome.report["errors"]}
    assert named == {f"ghost{n}" for n in range(200)}
    assert "... and 50 more errors." in outcome.stderr


def test_a_manifest_without_a_version_is_reported_with_the_rows(tmp_path) -> None:
    roster = clean_roster()
    roster["users"][0]["givenName"] = ""
    manifest = manifest_text(roster).replace("oneroster.version,1.2\n", "")
    outcome = refused(write_roster(tmp_path / "x", roster, manifest=manifest))
    assert where(outcome) == {
        ("manifest.csv", None, "oneroster.version"),
        ("users.csv", 2, "givenName"),
    }


# --- 2. enumerations in any case, booleans as 1 and 0


def test_enumerations_in_any_case_and_booleans_as_digits(tmp_path) -> None:
    roster = clean_roster()
    roster["classes"][0]["classType"] = "Scheduled"
    roster["classes"][1]["classType"] = "HOMEROOM"
    roster["orgs"][1]["type"] = "School"
    roster["roles"][0]["role"] = "Student"
    roster["roles"][1]["roleType"] = "Primary"
    roster["enrollments"][0]["role"] = "Student"
    roster["enrollments"][3]["primary"] = "1"
    roster["enrollments"][4]["primary"] = "0"
    roster["users"][0]["enabledUser"] = "1"
    roster["users"][1]["status"] = "Active"
    roster["academicSessions"][0]["type"] = "SCHOOLYEAR"
    roster["courses"][0]["grades"] = "kg"
    for row in roster["courses"]:
        row["SOURCEDID"] = row.pop("sourcedId")
    headers = {
        "courses": [c.upper() if c == "sourcedId" else c for c in clean_roster_columns("courses")]
    }
    outcome = imported(write_roster(tmp_path / "x", roster, headers=headers))
    assert set(sm.Section.objects.values_list("source_id", flat=True)) == {"cl1", "cl2"}
    assert sm.Course.objects.get(source_id="c1").grade_levels == ["KG"]
    assigned = dict(sm.SectionAssignment.objects.values_list("source_id", "is_primary"))
    assert assigned == {"e4": True, "e5": False}
    assert sm.Student.objects.get(source_id="st2").is_active
    assert sm.AcademicSession.objects.get(source_id="y1").kind == "school_year"
    assert mappings(outcome) == {
        ("classes.csv", "classType", "Scheduled", "scheduled"): 1,
        ("classes.csv", "classType", "HOMEROOM", "homeroom"): 1,
        ("orgs.csv", "type", "School", "school"): 1,
        ("roles.csv", "role", "Student", "student"): 1,
        ("roles.csv", "roleType", "Primary", "primary"): 1,
        ("enrollments.csv", "role", "Student", "student"): 1,
        ("enrollments.csv", "primary", "1", "true"): 1,
        ("enrollments.csv", "primary", "0", "false"): 1,
        ("users.csv", "enabledUser", "1", "true"): 1,
        ("users.csv", "status", "Active", "active"): 1,
        ("academicSessions.csv", "type", "SCHOOLYEAR", "schoolYear"): 1,
        ("courses.csv", "grades", "kg", "KG"): 1,
        ("courses.csv", "(header)", "SOURCEDID", "sourcedId"): 1,
    }
    assert "read as: classes.csv [classType] 'Scheduled' as 'scheduled' (1)" in printed(
        tmp_path / "x"
    )


# --- 3. older values


def test_older_status_and_role_names_are_read_as_today(tmp_path) -> None:
    roster = clean_roster()
    roster["users"][2]["status"] = "inactive"
    roster["enrollments"][2]["status"] = "Inactive"
    roster["roles"][5]["role"] = "administrator"  # at the district
    roster["users"].append(dict(roster["users"][5], sourcedId="a2", username="a2"))
    roster["roles"].append(
        dict(roster["roles"][5], sourcedId="r7", userSourcedId="a2", orgSourcedId="s1")
    )
    outcome = imported(write_roster(tmp_path / "x", roster))
    assert not sm.Student.objects.get(source_id="st3").is_active
    assert not sm.Enrollment.objects.get(source_id="e3").is_active
    kinds = dict(sm.Staff.objects.values_list("source_id", "kind"))
    assert kinds["a1"] == sm.StaffKind.DISTRICT and kinds["a2"] == sm.StaffKind.ADMINISTRATOR
    assert mappings(outcome) == {
        ("users.csv", "status", "inactive", "tobedeleted"): 1,
        ("enrollments.csv", "status", "Inactive", "tobedeleted"): 1,
        ("roles.csv", "role", "administrator", "districtAdministrator"): 1,
        ("roles.csv", "role", "administrator", "siteAdministrator"): 1,
    }


# --- 4. optional fields and references


def test_blank_optional_fields_unreadable_dates_and_dangling_optional_references(tmp_path) -> None:
    roster = clean_roster()
    for rows in roster.values():
        for row in rows:
            row["status"] = row["dateLastModified"] = ""
    roster["users"][0]["dateLastModified"] = "08/01/2026"
    roster["academicSessions"][1]["parentSourcedId"] = "y-gone"
    roster["orgs"][3]["parentSourcedId"] = "org-gone"
    outcome = imported(write_roster(tmp_path / "x", roster))
    assert sm.Student.objects.filter(is_active=True).count() == 3
    assert sm.AcademicSession.objects.get(source_id="term1").parent is None
    warned = {(w["file"], w["line"], w["column"], w["message"]) for w in outcome.report["warnings"]}
    assert warned == {
        (
            "users.csv",
            2,
            "dateLastModified",
            "Not a date-time (ISO 8601): kept as unknown: '08/01/2026'",
        ),
        (
            "academicSessions.csv",
            3,
            "parentSourcedId",
            "No academic session with this sourcedId in the export or in Trellis: dropped: "
            "'y-gone'",
        ),
        (
            "orgs.csv",
            5,
            "parentSourcedId",
            "No org with this sourcedId in the export or in Trellis: dropped: 'org-gone'",
        ),
    }
    assert "warning: users.csv:2 [dateLastModified]" in printed(tmp_path / "x")


def test_a_missing_required_reference_in_a_present_file_is_still_an_error(tmp_path) -> None:
    roster = clean_roster()
    roster["classes"][0]["courseSourcedId"] = "c-gone"
    outcome = refused(write_roster(tmp_path / "x", roster))
    assert ("classes.csv", 2, "courseSourcedId") in where(outcome)


# --- 5. org types


def test_a_class_at_a_department_is_at_the_department_school(tmp_path) -> None:
    roster = clean_roster()
    roster["orgs"].append(
        {"sourcedId": "prog1", "name": "Evening Program", "type": "local", "parentSourcedId": "d1"}
    )
    roster["classes"][0]["schoolSourcedId"] = "dep1"  # a department of Maple
    roster["classes"][1]["schoolSourcedId"] = "prog1"  # no school above it
    outcome = imported(write_roster(tmp_path / "x", roster))
    schools = dict(sm.Section.objects.values_list("source_id", "school__source_id"))
    assert schools == {"cl1": "s1", "cl2": "prog1"}
    assert sm.School.objects.get(source_id="prog1").name == "Evening Program"
    assert mappings(outcome) == {("classes.csv", "schoolSourcedId", "dep1", "s1"): 1}
    (warning,) = outcome.report["warnings"]
    assert (warning["file"], warning["line"], warning["column"]) == ("orgs.csv", 6, "type")
    assert "kept as a school" in warning["message"]


# --- 6. manifest


def test_blank_manifest_values_are_absent_and_unknown_properties_are_warnings(tmp_path) -> None:
    roster = clean_roster()
    manifest = (
        manifest_text(
            roster,
            (
                ("vendor.exportFlavor", "nightly"),
                ("file.widgets", "bulk"),
                ("file.Enrollment", "bulk"),
            ),
        )
        .replace("file.demographics,absent", "file.demographics,")
        .replace("file.users,bulk", "file.users,BULK")
    )
    outcome = imported(write_roster(tmp_path / "x", roster, manifest=manifest))
    assert sm.Enrollment.objects.count() == 3
    columns = {w["column"] for w in outcome.report["warnings"]}
    assert columns == {"vendor.exportFlavor", "file.widgets", "file.Enrollment"}
    near = next(w for w in outcome.report["warnings"] if w["column"] == "file.Enrollment")
    assert "did you mean file.enrollments?" in near["message"]
    assert mappings(outcome) == {
        ("manifest.csv", "file.demographics", "", "absent"): 1,
        ("manifest.csv", "file.users", "BULK", "bulk"): 1,
    }


# --- 7. partial exports


def test_an_export_without_courses_gets_placeholders_that_a_later_export_replaces(
    tmp_path,
) -> None:
    roster = clean_roster()
    courses = roster.pop("courses")
    outcome = imported(write_roster(tmp_path / "partial", roster))
    placeholders = {c.source_id: c for c in sm.Course.objects.all()}
    assert {
        sid: (c.is_placeholder, c.school and c.school.source_id) for sid, c in placeholders.items()
    } == {
        "c1": (True, "s1"),
        "c2": (True, "s2"),
    }
    assert outcome.counts("course_placeholders")["created"] == 2
    listed = {(w["file"], w["line"], w["column"]) for w in outcome.report["warnings"]}
    assert listed == {("classes.csv", 2, "courseSourcedId"), ("classes.csv", 3, "courseSourcedId")}
    assert "placeholder course" in outcome.report["warnings"][0]["message"]
    # The same partial export again adds nothing; an export with the courses replaces them.
    again = imported(write_roster(tmp_path / "again", roster))
    assert again.counts("course_placeholders")["created"] == 0 and not again.report["warnings"]
    roster["courses"] = courses
    imported(write_roster(tmp_path / "full", roster))
    real = sm.Course.objects.get(source_id="c1")
    assert (real.pk, real.title, real.is_placeholder) == (placeholders["c1"].pk, "Math 4", False)
    assert sm.Section.objects.get(source_id="cl1").course_id == real.pk


def test_an_export_without_orgs_resolves_held_schools_and_gets_placeholders_replaced_later(
    tmp_path,
) -> None:
    target = sm.District.objects.create(name="Hill County Schools")
    held = sm.School.objects.create(
        district=target, name="Maple", source_system="oneroster", source_id="s1"
    )
    roster = clean_roster()
    orgs = roster.pop("orgs")
    roster["roles"][5]["orgSourcedId"] = "s1"
    folder = write_roster(tmp_path / "partial", roster)
    outcome = imported(folder, "--district", "hill county schools")
    schools = {s.source_id: s for s in sm.School.objects.all()}
    assert {sid: (s.name, s.is_placeholder) for sid, s in schools.items()} == {
        "s1": ("Maple", False),
        "s2": ("Unknown school (source id s2)", True),
    }
    assert schools["s1"].pk == held.pk
    assert outcome.counts("school_placeholders")["created"] == 1
    # Listed once, where the export first names it.
    listed = [w for w in outcome.report["warnings"] if "placeholder school" in w["message"]]
    assert [(w["file"], w["line"], w["column"]) for w in listed] == [
        ("courses.csv", 3, "orgSourcedId")
    ]
    assert listed[0]["message"].endswith("until an export brings it: 's2'")
    assert sm.Section.objects.get(source_id="cl2").school_id == schools["s2"].pk
    assert sm.Enrollment.objects.count() == 3
    # The same partial export again adds nothing; an export with the orgs replaces it.
    again = imported(write_roster(tmp_path / "again", roster), "--district", str(target.pk))
    assert again.counts("school_placeholders")["created"] == 0 and not again.report["warnings"]
    roster["orgs"] = orgs
    imported(write_roster(tmp_path / "full", roster), "--district", str(target.pk))
    real = sm.School.objects.get(source_id="s2")
    assert (real.pk, real.name, real.is_placeholder) == (schools["s2"].pk, "Oak", False)


def test_an_export_without_classes_gets_placeholder_classes_that_a_later_export_replaces(
    tmp_path,
) -> None:
    roster = clean_roster()
    first = dict(roster, classes=roster["classes"][:1])
    first["enrollments"] = [e for e in roster["enrollments"] if e["classSourcedId"] == "cl1"]
    imported(write_roster(tmp_path / "first", first))
    held = sm.Section.objects.get(source_id="cl1")
    classes = roster.pop("classes")
    outcome = imported(write_roster(tmp_path / "partial", roster))
    sections = {s.source_id: s for s in sm.Section.objects.select_related("course", "school")}
    placeholder = sections["cl2"]
    assert sections["cl1"].pk == held.pk and not sections["cl1"].is_placeholder
    assert (placeholder.is_placeholder, placeholder.school.source_id) == (True, "s2")
    assert placeholder.course is not None and placeholder.course.is_placeholder
    assert outcome.counts("section_placeholders")["created"] == 1
    listed = {(w["file"], w["line"], w["column"]) for w in outcome.report["warnings"]}
    assert listed == {("enrollments.csv", 4, "classSourcedId")}
    assert "placeholder class" in outcome.report["warnings"][0]["message"]
    assert outcome.report["warnings"][0]["message"].endswith(": 'cl2'")
    assert sm.Enrollment.objects.filter(section=placeholder).count() == 1
    again = imported(write_roster(tmp_path / "again", roster))
    assert again.counts("section_placeholders")["created"] == 0 and not again.report["warnings"]
    roster["classes"] = classes
    imported(write_roster(tmp_path / "full", roster))
    real = sm.Section.objects.select_related("course").get(source_id="cl2")
    assert (real.pk, real.title, real.is_placeholder) == (placeholder.pk, "Science 7 - H", False)
    assert real.course is not None and real.course.source_id == "c2"


def test_an_export_without_users_resolves_held_people_and_names_unknown_ones(tmp_path) -> None:
    roster = clean_roster()
    imported(write_roster(tmp_path / "first", roster))
    del roster["users"], roster["roles"]
    roster["enrollments"][1]["userSourcedId"] = "ghost"
    outcome = refused(write_roster(tmp_path / "ghost", roster))
    (error,) = outcome.report["errors"]
    assert (error["file"], error["line"], error["column"]) == (
        "enrollments.csv",
        3,
        "userSourcedId",
    )
    assert error["message"].endswith(": 'ghost'")
    assert "users.csv is absent" in error["message"]
    assert "never made placeholders" in error["message"]
    roster["enrollments"][1]["userSourcedId"] = "st2"
    outcome = imported(write_roster(tmp_path / "partial", roster))
    assert not outcome.report["warnings"]
    assert sm.Enrollment.objects.count() == 3 and sm.Student.objects.count() == 3


def test_a_reference_to_a_row_missing_from_a_present_file_is_still_an_error(tmp_path) -> None:
    roster = clean_roster()
    roster["classes"][1]["schoolSourcedId"] = "s9"
    roster["enrollments"][0]["classSourcedId"] = "cl9"
    outcome = refused(write_roster(tmp_path / "x", roster))
    assert {("classes.csv", 3, "schoolSourcedId"), ("enrollments.csv", 2, "classSourcedId")} <= (
        where(outcome)
    )
    assert not any("placeholder" in w["message"] for w in outcome.report["warnings"])


# --- 7. partial exports: no district org


def test_an_export_without_a_district_org_goes_to_the_district_named(tmp_path) -> None:
    sm.District.objects.create(name="Other ISD")
    target = sm.District.objects.create(name="Hill County Schools")
    roster = clean_roster()
    roster["orgs"] = [dict(row, parentSourcedId="") for row in roster["orgs"][1:]]
    roster["roles"][5]["orgSourcedId"] = "s1"
    folder = write_roster(tmp_path / "x", roster)
    outcome = refused(folder)
    assert "no OneRoster district" in outcome.report["errors"][0]["message"]
    imported(folder, "--district", "hill county schools")
    assert set(sm.School.objects.values_list("district_id", flat=True)) == {target.pk}
    assert sm.Student.objects.filter(district=target).count() == 3
    imported(folder, "--district", str(target.pk))


# --- the run page


def test_the_run_page_lists_mappings_warnings_and_suggestions(
    client, world, eager_celery, tmp_path, django_capture_on_commit_callbacks
) -> None:
    roster = clean_roster()
    roster["orgs"] = [dict(row, parentSourcedId="") for row in roster["orgs"][1:]]
    roster["roles"][5]["orgSourcedId"] = "s1"
    roster["classes"][0]["classType"] = "Scheduled"
    roster["users"][0]["dateLastModified"] = "yesterday"
    good = zip_roster(write_roster(tmp_path / "good", roster), tmp_path / "good.zip")
    roster["enrollments"][0]["role"] = "studnet"
    bad = zip_roster(write_roster(tmp_path / "bad", roster), tmp_path / "bad.zip")
    client.force_login(world.district_staff)
    pages = []
    for path in (good, bad):
        upload = SimpleUploadedFile(path.name, path.read_bytes(), content_type="application/zip")
        data = {"district": world.district.pk, "format": "oneroster", "upload": upload}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("interop:import_upload"), data)
        pages.append(client.get(response["Location"]).content.decode())
    # The export has no district org: it went to the district chosen on the page.
    imported_sections = sm.Section.objects.filter(
        district=world.district, source_system="oneroster"
    )
    assert set(imported_sections.values_list("source_id", flat=True)) == {"cl1", "cl2"}
    assert "<h2>Values read as the standard's</h2>" in pages[0]
    assert "<td>Scheduled</td><td>scheduled</td>" in pages[0]
    assert "Not a date-time (ISO 8601): kept as unknown" in pages[0]
    assert "(did you mean “student”?)" in pages[1]
