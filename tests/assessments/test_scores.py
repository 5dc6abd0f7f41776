import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from assessments.engine import estimates_recompute
from assessments.models import (
    AssessmentItem,
    ItemKind,
    MasteryEstimate,
    MasteryEstimateHistory,
    MasteryEvidence,
    Score,
)
from assessments.services import ScoreInput, scores_record
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _score(world: World, points: str, day: int, student=None) -> ScoreInput:
    return ScoreInput(
        student_id=(student or world.student).pk,
        assessment_id=world.assessment.pk,
        points=Decimal(points),
        scored_on=dt.date(2026, 10, day),
    )


def test_scores_record_normalizes_keeps_evidence_and_marks_pairs(world: World) -> None:
    result = scores_record(scores=[_score(world, "8", 1)], enqueue=False)
    assert (result.created, result.pairs_marked) == (1, 1)
    score = Score.objects.get()
    assert score.normalized == pytest.approx(0.8)
    evidence = MasteryEvidence.objects.get()
    assert (evidence.standard_id, evidence.value) == (world.standard.pk, pytest.approx(0.8))
    estimate = MasteryEstimate.objects.get()
    assert estimate.pending_since is not None
    # The same score again changes nothing.
    again = scores_record(scores=[_score(world, "8", 1)], enqueue=False)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_recompute_applies_the_districts_method_and_is_idempotent(world: World) -> None:
    ids = scores_record(scores=[_score(world, "4", 1)], enqueue=False).estimate_ids
    estimates_recompute(ids)
    ids = scores_record(scores=[_score(world, "10", 2)], enqueue=False).estimate_ids
    estimates_recompute(ids)
    estimate = MasteryEstimate.objects.get()
    # standard_decaying_average, w=0.65: d1 = 0.4; d2 = 0.35*0.4 + 0.65*1.0 = 0.79
    assert estimate.probability == pytest.approx(0.79)
    assert estimate.level == 3  # Mastery from 0.65
    assert estimate.evidence_count == 2
    assert estimate.pending_since is None
    before = (estimate.probability, MasteryEstimateHistory.objects.count())
    estimates_recompute([estimate.pk])
    estimate.refresh_from_db()
    assert (estimate.probability, MasteryEstimateHistory.objects.count()) == before


def test_a_late_score_triggers_a_full_recompute_with_the_same_result(world: World) -> None:
    estimates_recompute(scores_record(scores=[_score(world, "10", 5)], enqueue=False).estimate_ids)
    ids = scores_record(scores=[_score(world, "4", 1)], enqueue=False).estimate_ids
    assert MasteryEstimate.objects.get().needs_full_recompute
    estimates_recompute(ids)
    # In date order: 0.4 then 1.0 → 0.79, as if the late score had arrived on time.
    assert MasteryEstimate.objects.get().probability == pytest.approx(0.79)


def test_rolled_back_scores_enqueue_nothing(
    world: World, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():  # noqa: PT012
            scores_record(scores=[_score(world, "8", 1)])
            raise RuntimeError("rollback")
    assert callbacks == []
    assert not Score.objects.exists()


def test_one_task_per_batch_not_per_score(
    world: World, django_capture_on_commit_callbacks, eager_celery
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        scores_record(scores=[_score(world, "8", 1), _score(world, "6", 1, world.classmate)])
    # One recompute enqueued for the batch (the recompute itself then announces its change).
    enqueues = [c for c in callbacks if "mastery_recompute_enqueue" in c.__qualname__]
    assert len(enqueues) == 1
    assert MasteryEstimate.objects.filter(pending_since__isnull=True, evidence_count=1).count() == 2


def test_teacher_enters_scores_in_the_grid(
    client, world: World, django_capture_on_commit_callbacks, eager_celery
) -> None:
    client.force_login(world.teacher)
    url = reverse(
        "assessments:score_grid",
        kwargs={"pk": world.section.pk, "assessment_id": world.assessment.pk},
    )
    page = client.get(url)
    assert page.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {
                f"score-{world.student.pk}-0": "9",
                f"status-{world.student.pk}": "scored",
                f"status-{world.classmate.pk}": "missing",
            },
        )
    assert response.status_code == 302
    assert Score.objects.get(student=world.student).points == Decimal("9")
    assert Score.objects.get(student=world.classmate).status == "missing"
    assert MasteryEstimate.objects.get(student=world.student).probability == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("score-{other}-0", "5", "not on this section"),
        ("score-{student}-0", "11", "from 0 to"),
        ("score-{student}-0", "abc", "is not a number"),
        ("score-{student}-999", "3", "not part of this assessment"),
    ],
)
def test_forged_or_bad_grid_input_saves_nothing(
    client, world: World, field: str, value: str, message: str
) -> None:
    client.force_login(world.teacher)
    url = reverse(
        "assessments:score_grid",
        kwargs={"pk": world.section.pk, "assessment_id": world.assessment.pk},
    )
    name = field.format(other=world.other_section_student.pk, student=world.student.pk)
    response = client.post(url, {name: value, f"score-{world.classmate.pk}-0": "7"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Score.objects.exists()


def test_principal_may_see_the_section_but_not_enter_scores(client, world: World) -> None:
    client.force_login(world.principal)
    url = reverse(
        "assessments:score_grid",
        kwargs={"pk": world.section.pk, "assessment_id": world.assessment.pk},
    )
    assert client.get(url).status_code == 403
    assert client.post(url, {f"score-{world.student.pk}-0": "5"}).status_code == 403
    assert not Score.objects.exists()


def test_recompute_mastery_command_rebuilds_from_scores(world: World, capsys) -> None:
    import json

    from django.core.management import call_command

    scores_record(scores=[_score(world, "4", 1), _score(world, "10", 2)], enqueue=False)
    MasteryEstimate.objects.update(probability=0.01, state={})
    call_command("recompute_mastery", "--section", str(world.section.pk), "--json")
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["estimates"] == 1
    assert MasteryEstimate.objects.get().probability == pytest.approx(0.79)


def test_data_inventory_counts_the_assessment_records(world: World, capsys) -> None:
    import json

    from django.core.management import call_command

    scores_record(
        scores=[_score(world, "4", 1), _score(world, "9", 2, world.classmate)], enqueue=False
    )
    call_command("data_inventory", "--json")
    counts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert counts["learning_standards"] == 1
    assert counts["assessments"] == 2
    assert counts["student_assessments"] == 2
    assert counts["scores"] == 2
    assert counts["mastery_estimates"] == 2


@pytest.mark.parametrize("clear_on_new_score", [True, False])
def test_override_and_a_newer_score(world: World, clear_on_new_score: bool) -> None:
    from assessments.models import MasteryOverride
    from assessments.services import mastery_override_set

    estimates_recompute(scores_record(scores=[_score(world, "3", 1)], enqueue=False).estimate_ids)
    override = mastery_override_set(
        student_id=world.student.pk,
        standard_id=world.standard.pk,
        level=3,
        note="Showed it in class on the whiteboard.",
        acting_user=world.teacher,
        clear_on_new_score=clear_on_new_score,
    )
    # A rerun with no new evidence never clears it.
    estimates_recompute(list(MasteryEstimate.objects.values_list("pk", flat=True)))
    override.refresh_from_db()
    assert override.cleared_at is None
    estimates_recompute(scores_record(scores=[_score(world, "9", 8)], enqueue=False).estimate_ids)
    override.refresh_from_db()
    assert (override.cleared_at is not None) is clear_on_new_score
    with pytest.raises(ValueError, match="note"):
        mastery_override_set(
            student_id=world.student.pk,
            standard_id=world.standard.pk,
            level=2,
            note=" ",
            acting_user=world.teacher,
            clear_on_new_score=False,
        )
    assert MasteryOverride.objects.filter(cleared_at__isnull=True).count() == (
        0 if clear_on_new_score else 1
    )


def test_history_records_material_changes_only(world: World) -> None:
    for day, points in ((1, "3"), (2, "3"), (3, "10")):
        estimates_recompute(
            scores_record(scores=[_score(world, points, day)], enqueue=False).estimate_ids
        )
    history = list(MasteryEstimateHistory.objects.order_by("as_of").values_list("as_of", "level"))
    # 0.3 (Below); 0.3 again (no change: no row); then 0.35*0.3 + 0.65*1.0 = 0.755 (Mastery).
    assert history == [(dt.date(2026, 10, 1), 1), (dt.date(2026, 10, 3), 3)]


def test_a_student_who_left_the_section_cannot_be_scored_there(client, world: World) -> None:
    import datetime as dt

    from django.utils import timezone

    from students.models import Enrollment

    client.force_login(world.teacher)
    url = reverse(
        "assessments:score_grid",
        kwargs={"pk": world.section.pk, "assessment_id": world.assessment.pk},
    )
    field = f'name="score-{world.classmate.pk}-0"'
    assert field in client.get(url).content.decode()
    Enrollment.objects.filter(student=world.classmate, section=world.section).update(
        end_date=timezone.localdate() - dt.timedelta(days=1)
    )
    assert field not in client.get(url).content.decode()
    response = client.post(url, {f"score-{world.classmate.pk}-0": "7"})
    assert response.status_code == 400
    assert "not on this section" in response.content.decode()
    assert not Score.objects.exists()


def test_the_database_keeps_one_score_per_assessment_and_per_item(world: World) -> None:
    """The unique indexes hold whatever writes: two whole-assessment scores, or two scores of
    one item, in one student assessment are refused."""
    scores_record(scores=[_score(world, "8", 1)], enqueue=False)
    first = Score.objects.get()
    item = AssessmentItem.objects.create(
        district=world.district, assessment=world.assessment, kind=ItemKind.OBJECTIVE, code="Q1"
    )

    def another(item_id: int | None) -> Score:
        return Score.objects.create(
            district=world.district,
            student_assessment=first.student_assessment,
            student=world.student,
            item_id=item_id,
            scored_on=first.scored_on,
        )

    for item_id in (None, item.pk):
        if item_id is not None:
            another(item_id)  # the item's first score is allowed
        with pytest.raises(IntegrityError), transaction.atomic():
            another(item_id)
