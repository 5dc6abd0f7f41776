"""The OneRoster importer on the hand-made fixture sets (tests/interop/fixtures/v11, v12): every
file and column mapped, idempotence, dry runs, bulk against delta, and permissions afterwards."""

import datetime as dt
import io
from decimal import Decimal
from typing import Any, cast

import orjson
import pytest
from django.core.management import call_command

from accounts.access import students_visible_to
from accounts.models import User
from accounts.services import derived_access_sync
from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryEstimate,
    Score,
    ScoreSource,
    ScoreStatus,
    Standard,
    StandardKind,
)
from students import models as sm
from tests import factories
from tests.interop.conftest import FIXTURES, db_snapshot, edit_rows, run_import, set_manifest

pytestmark = pytest.mark.django_db

V11, V12 = FIXTURES / "v11", FIXTURES / "v12"


def by_source(model: type[sm.SourcedRecord], **filters: object) -> dict[str, Any]:
    return {
        obj.source_id: obj for obj in model.objects.filter(source_system="oneroster", **filters)
    }


def test_v12_maps_every_file_into_the_model() -> None:
    outcome = run_import(V12)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.report["ok"] and outcome.report["errors"] == []

    district = sm.District.objects.get(source_system="oneroster", source_id="d1")
    assert (district.name, district.nces_id) == ("North Valley ISD", "4800001")
    schools = by_source(sm.School)
    assert set(schools) == {"s1", "s2"}  # the department is no school
    assert (schools["s1"].name, schools["s1"].school_number, schools["s1"].district) == (
        "Maple Elementary",
        "101",
        district,
    )

    sessions = by_source(sm.AcademicSession)
    assert sessions["gp1"].parent == sessions["t1"] and sessions["t1"].parent == sessions["y2027"]
    assert (sessions["y2027"].kind, sessions["y2027"].school_year) == ("school_year", 2027)
    assert (sessions["gp1"].kind, sessions["gp1"].start_date) == (
        "grading_period",
        dt.date(2026, 8, 20),
    )

    courses = by_source(sm.Course)
    assert (courses["c1"].school, courses["c1"].course_code, courses["c1"].grade_levels) == (
        schools["s1"],
        "MA4",
        ["04"],
    )
    assert courses["c3"].school is None and courses["c3"].grade_levels == ["06", "07", "08"]

    sections = by_source(sm.Section)
    cl3 = sections["cl3"]
    assert (cl3.title, cl3.school, cl3.course, cl3.session) == (
        "Science 7",
        schools["s2"],
        courses["c2"],
        sessions["t1"],
    )
    assert (cl3.section_code, cl3.room, cl3.period, cl3.subject, cl3.grade_levels) == (
        "SC7-1",
        "Lab 2",
        "3, 4",
        "Science",
        ["07"],
    )

    students = by_source(sm.Student)
    ada = students["st1"]
    assert (ada.first_name, ada.middle_name, ada.last_name, ada.student_number) == (
        "Ada",
        "Augusta",
        "Lovelace",
        "1001",
    )
    assert (ada.birth_date, ada.sex, ada.races, ada.hispanic_or_latino) == (
        dt.date(2016, 12, 10),
        "female",
        ["white"],
        False,
    )
    assert students["st2"].preferred_first_name == "Al"
    assert students["st2"].races == ["asian", "white"] and students["st2"].hispanic_or_latino
    assert students["st3"].sex == "nonbinary"  # 1.2's "other"

    staff = by_source(sm.Staff)
    assert (staff["t1"].kind, staff["t1"].staff_number) == ("teacher", "T-1")
    assert staff["a1"].kind == "district"
    guardians = by_source(sm.Guardian)
    assert set(guardians) == {"g1", "r1"}

    memberships = by_source(sm.StudentSchoolMembership)
    assert (
        memberships["st1:s1"].school,
        memberships["st1:s1"].grade_level,
        memberships["st1:s1"].begin_date,
    ) == (schools["s1"], "04", dt.date(2026, 8, 20))
    assignments = by_source(sm.StaffSchoolAssignment)
    assert set(assignments) == {"t1:s1", "t2:s2"}  # the district administrator has no school

    relationships = by_source(sm.GuardianRelationship)
    parent, relative = relationships["g1:st1"], relationships["r1:st2"]
    assert (parent.guardian, parent.student, parent.portal_access) == (guardians["g1"], ada, True)
    assert (relative.relationship, relative.portal_access) == ("other_relative", False)

    contacts = {c.source_id: c for c in sm.ContactDetail.objects.all()}
    assert (
        contacts["st1:email"].value == "ada@example.test" and contacts["st1:email"].student == ada
    )
    assert (contacts["t1:sms"].kind, contacts["t1:sms"].label, contacts["t1:sms"].staff) == (
        "phone",
        "sms",
        staff["t1"],
    )
    assert contacts["g1:email"].guardian == guardians["g1"]

    enrollments = by_source(sm.Enrollment)
    assert set(enrollments) == {"e1", "e2", "e3"}
    assert (enrollments["e1"].student, enrollments["e1"].section) == (ada, sections["cl1"])
    teaching = by_source(sm.SectionAssignment)
    assert (teaching["e4"].staff, teaching["e4"].section, teaching["e4"].is_primary) == (
        staff["t1"],
        sections["cl1"],
        True,
    )
    assert teaching["e6"].is_primary is False

    assessments = by_source(Assessment)
    quiz = assessments["li1"]
    assert (quiz.title, quiz.section, quiz.category, quiz.kind) == (
        "Fractions quiz",
        sections["cl1"],
        "Tests",
        "gradebook",
    )
    assert (quiz.assigned_on, quiz.due_on, quiz.min_points, quiz.max_points) == (
        dt.date(2026, 9, 1),
        dt.date(2026, 9, 10),
        Decimal("0"),
        Decimal("10"),
    )
    assert assessments["li2"].due_on == dt.date(2026, 9, 9)  # a date-time's date
    codes = set(quiz.standards.values_list("code", flat=True))
    assert codes == {"CCSS.MATH.CONTENT.4.NF.A.1", "NV.MATH.4.FRACTIONS"}
    created_standard = Standard.objects.get(code="NV.MATH.4.FRACTIONS")
    assert (created_standard.kind, created_standard.framework) == (StandardKind.OBJECTIVE, "CASE")
    assert outcome.counts("standards")["created"] == 2
    objective = AssessmentItem.objects.get(source_id="li1:NV.MATH.4.FRACTIONS")
    assert (objective.kind, objective.assessment, list(objective.standards.all())) == (
        "objective",
        quiz,
        [created_standard],
    )

    scores = {s.source_id: s for s in Score.objects.all()}
    good = scores["res1"]
    assert (good.student, good.points, good.normalized, good.status, good.comment) == (
        ada,
        Decimal("8"),
        pytest.approx(0.8),
        ScoreStatus.SCORED,
        "Good work, Ada",
    )
    assert (good.scored_on, good.source) == (dt.date(2026, 9, 10), ScoreSource.IMPORTED)
    assert scores["res2"].status == ScoreStatus.MISSING and scores["res2"].points is None
    assert scores["res3"].status == ScoreStatus.LATE
    per_objective = scores["res1:NV.MATH.4.FRACTIONS"]
    assert (per_objective.item, per_objective.points, per_objective.rubric_level) == (
        objective,
        Decimal("9"),
        "Meets",
    )
    # The scores reached the mastery engine (estimates exist for Ada on both standards).
    assert MasteryEstimate.objects.filter(student=ada).count() == 2


def test_v11_maps_users_roles_and_orgs_from_users_csv() -> None:
    outcome = run_import(V11)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.report["notes"][0] == "OneRoster 1.1."
    staff = by_source(sm.Staff)
    # 1.1's `administrator` at the district org is 1.2's districtAdministrator (issue 23; it was
    # kind "administrator" before, wherever it was held).
    assert staff["a1"].kind == "district"
    assert set(by_source(sm.StaffSchoolAssignment)) == {"t1:s1", "t1:s2", "t2:s2"}
    assert by_source(sm.StudentSchoolMembership)["st3:s2"].grade_level == "07"
    assert by_source(sm.GuardianRelationship)["g1:st1"].portal_access
    scores = {s.source_id: s.status for s in Score.objects.all()}
    assert scores == {"res1": "scored", "res2": "missing", "res3": "exempt"}
    assert by_source(Assessment)["li1"].standards.count() == 0


def test_a_second_identical_import_changes_nothing() -> None:
    first = run_import(V12)
    assert first.totals()["created"] > 40
    before = db_snapshot()
    second = run_import(V12)
    assert second.exit_code == 0
    totals = second.totals()
    assert (totals["created"], totals["updated"], totals["deactivated"]) == (0, 0, 0)
    assert second.counts("students")["unchanged"] == 3
    assert second.counts("scores")["unchanged"] == 4
    assert db_snapshot() == before


def test_a_dry_run_reports_what_would_change_and_writes_nothing() -> None:
    before = db_snapshot()
    outcome = run_import(V12, "--dry-run")
    assert outcome.exit_code == 0 and outcome.report["dry_run"]
    assert outcome.counts("students")["created"] == 3
    assert outcome.counts("enrollments")["created"] == 3
    assert db_snapshot() == before


def test_the_json_report_is_the_last_line_and_lists_every_entity() -> None:
    outcome = run_import(V12)
    last = outcome.stdout.strip().splitlines()[-1]
    assert orjson.loads(last) == outcome.report
    for entity in (
        "schools",
        "academic_sessions",
        "courses",
        "sections",
        "students",
        "staff",
        "guardians",
        "enrollments",
        "assessments",
        "scores",
    ):
        assert set(outcome.counts(entity)) == {"created", "updated", "deactivated", "unchanged"}


def test_bulk_marks_records_missing_from_a_file_inactive(fixture_copy) -> None:
    run_import(V12)
    folder = fixture_copy("v12")
    edit_rows(folder, "enrollments.csv", lambda rows: [r for r in rows if r["sourcedId"] != "e2"])
    edit_rows(folder, "users.csv", lambda rows: [r for r in rows if r["sourcedId"] != "r1"])
    edit_rows(folder, "roles.csv", lambda rows: [r for r in rows if r["userSourcedId"] != "r1"])
    outcome = run_import(folder)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.counts("enrollments")["deactivated"] == 1
    assert outcome.counts("guardians")["deactivated"] == 1
    assert not sm.Enrollment.objects.get(source_id="e2").is_active  # kept, never deleted
    assert not sm.Guardian.objects.get(source_id="r1").is_active
    assert sm.Enrollment.objects.filter(is_active=True).count() == 2


def test_delta_applies_its_rows_and_tobedeleted_without_touching_the_rest(fixture_copy) -> None:
    run_import(V12)
    folder = fixture_copy("v12")
    modes = {
        name: "absent"
        for name in (
            "academicSessions",
            "categories",
            "classes",
            "courses",
            "demographics",
            "lineItems",
            "lineItemLearningObjectiveIds",
            "lineItemScoreScales",
            "orgs",
            "results",
            "resultLearningObjectiveIds",
            "resultScoreScales",
            "roles",
            "scoreScales",
            "userProfiles",
            "users",
        )
    }
    set_manifest(folder, enrollments="delta", **modes)

    def delta(rows: list[dict]) -> list[dict]:
        e2 = next(r for r in rows if r["sourcedId"] == "e2")
        e2["status"] = "tobedeleted"
        new = dict(e2, sourcedId="e7", status="active", classSourcedId="cl2")
        return [e2, new]

    edit_rows(folder, "enrollments.csv", delta)
    outcome = run_import(folder)
    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.counts("enrollments") == {
        "created": 1,
        "updated": 1,
        "deactivated": 0,
        "unchanged": 0,
    }
    assert not sm.Enrollment.objects.get(source_id="e2").is_active
    assert sm.Enrollment.objects.get(source_id="e7").section.source_id == "cl2"
    # Records the delta did not mention stay as they were.
    assert sm.Enrollment.objects.get(source_id="e1").is_active
    assert sm.Student.objects.filter(is_active=True).count() == 3


def test_permissions_follow_the_import_and_a_student_leaving_a_section(fixture_copy) -> None:
    run_import(V12)
    teacher = factories.UserFactory.create(staff_record=sm.Staff.objects.get(source_id="t1"))
    parent = factories.UserFactory.create(guardian_record=sm.Guardian.objects.get(source_id="g1"))
    relative = factories.UserFactory.create(guardian_record=sm.Guardian.objects.get(source_id="r1"))
    derived_access_sync()

    def visible(user: User) -> set[str]:
        return set(students_visible_to(user).values_list("source_id", flat=True))

    assert visible(teacher) == {"st1", "st2"}
    assert visible(parent) == {"st1"}
    assert visible(relative) == set()  # relatives get no portal access

    folder = fixture_copy("v12")
    edit_rows(folder, "enrollments.csv", lambda rows: [r for r in rows if r["sourcedId"] != "e2"])
    assert run_import(folder).exit_code == 0
    for user in (teacher, parent):
        # accounts.access.viewer_for caches the user's grants in an attribute User does not declare.
        cached = cast(Any, user)
        cached._trellis_viewer = None
        del cached._trellis_viewer
    assert visible(teacher) == {"st1"}  # the import re-derived access when it committed
    assert visible(parent) == {"st1"}


def test_data_inventory_counts_the_imported_records() -> None:
    run_import(V12)
    out = io.StringIO()
    call_command("data_inventory", "--json", stdout=out)
    counts = orjson.loads(out.getvalue().strip().splitlines()[-1])
    counts = counts.get("counts", counts)
    expected = {
        "students": 3,
        "guardians": 2,
        "staff": 3,
        "schools": 2,
        "sections": 3,
        "enrollments": 3,
        "courses": 3,
        "academic_sessions": 3,
        "guardian_relationships": 2,
        "contact_details": 5,
    }
    assert {key: counts[key] for key in expected} == expected


def test_scores_enqueue_one_recompute_per_affected_pair_after_commit(
    django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from assessments import tasks

    batches: list[list[int]] = []
    # Every publish goes through config.celery_app.publish: apply_async, without retry.
    monkeypatch.setattr(
        tasks.mastery_recompute, "apply_async", lambda args, **options: batches.append(args[0])
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert run_import(V12).exit_code == 0
    enqueued = [estimate_id for batch in batches for estimate_id in batch]
    assert len(enqueued) == len(set(enqueued))  # once per pair
    assert set(enqueued) == set(MasteryEstimate.objects.values_list("pk", flat=True))
    assert len(batches) == 1


def test_a_failed_import_enqueues_nothing(
    django_capture_on_commit_callbacks, fixture_copy, monkeypatch
) -> None:
    from assessments import tasks

    batches: list = []
    # Every publish goes through config.celery_app.publish: apply_async, without retry.
    monkeypatch.setattr(
        tasks.mastery_recompute, "apply_async", lambda args, **options: batches.append(args[0])
    )
    folder = fixture_copy("v12")
    edit_rows(folder, "classes.csv", lambda rows: [dict(rows[0], classType="lecture"), *rows[1:]])
    with django_capture_on_commit_callbacks(execute=True):
        assert run_import(folder).exit_code == 1
    assert batches == []
