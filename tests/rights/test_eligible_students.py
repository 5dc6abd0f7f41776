"""Students who hold their own rights (34 CFR 99.3, 99.5): at 18, flagged by a daily task, or
attending a postsecondary institution, flagged by hand; what parents' access becomes is the
district's setting, no change by default."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import Http404

from accounts import access
from accounts.models import User
from rights.models import (
    EligibilityReason,
    EligibleStudent,
    ParentsAccessAtEligibility,
    RightsEvent,
)
from rights.selectors import eligibility_of, rights_policy_of
from rights.services import (
    RightsRefused,
    eighteenth_birthday,
    eligible_student_parents_access_set,
    eligible_student_postsecondary_set,
    eligible_students_flag,
    rights_policy_set,
)
from rights.tasks import eligible_students_flag_daily
from tests.conftest import World

pytestmark = pytest.mark.django_db


def at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(19, 0), tzinfo=dt.UTC)  # noon in Denver


def born(world: World, day: dt.date) -> None:
    world.student.birth_date = day
    world.student.save(update_fields=["birth_date"])


def test_turning_18_task_flags_once(world: World, eager_celery: object) -> None:
    born(world, dt.date(2008, 5, 4))
    with time_machine.travel(at_noon(dt.date(2026, 5, 3)), tick=False):
        assert eligible_students_flag_daily.delay().get() == 0
    with time_machine.travel(at_noon(dt.date(2026, 5, 4)), tick=False):
        assert eligible_students_flag_daily.delay().get() == 1
        assert eligible_students_flag_daily.delay().get() == 0
    with time_machine.travel(at_noon(dt.date(2026, 6, 1)), tick=False):
        assert eligible_students_flag() == 0
    eligible = EligibleStudent.objects.get()
    assert (eligible.student, eligible.eligible_since) == (world.student, dt.date(2026, 5, 4))
    assert eligible.reason == EligibilityReason.AGE_18 and eligible.flagged_by is None
    event = RightsEvent.objects.get(action="eligible_flagged")
    assert event.actor_label == "task: rights.eligible_students_flag"
    assert event.student_id == world.student.pk


def test_a_missed_day_flags_from_the_birthday_and_leaves_others(world: World) -> None:
    born(world, dt.date(2008, 5, 4))
    with time_machine.travel(at_noon(dt.date(2026, 5, 9)), tick=False):
        assert eligible_students_flag() == 1
    assert EligibleStudent.objects.get(student=world.student).eligible_since == dt.date(2026, 5, 4)
    # The others were born in 2016 (the factory's date); none without a date is flagged.
    assert eligibility_of(world.classmate) is None


def test_born_on_29_february() -> None:
    assert eighteenth_birthday(dt.date(2008, 2, 29)) == dt.date(2026, 2, 28)
    assert eighteenth_birthday(dt.date(2012, 2, 29)) == dt.date(2030, 2, 28)
    assert eighteenth_birthday(dt.date(2014, 2, 28)) == dt.date(2032, 2, 28)


def test_born_on_29_february_is_flagged_on_the_28th(world: World) -> None:
    born(world, dt.date(2008, 2, 29))
    with time_machine.travel(at_noon(dt.date(2026, 2, 27)), tick=False):
        assert eligible_students_flag() == 0
    with time_machine.travel(at_noon(dt.date(2026, 2, 28)), tick=False):
        assert eligible_students_flag() == 1


def test_the_task_runs_daily_by_beat() -> None:
    from config.celery_app import app

    tasks = [str(entry["task"]) for entry in settings.CELERY_BEAT_SCHEDULE.values()]
    assert [task for task in tasks if task.startswith("rights.")] == [
        "rights.tasks.eligible_students_flag_daily"
    ]
    assert "rights.tasks.eligible_students_flag_daily" in app.tasks


def test_99_5_parents_access_does_not_change_by_default(world: World) -> None:
    assert rights_policy_of(world.district).parents_access_at_eligibility == "no_change"
    born(world, dt.date(2008, 5, 4))
    with time_machine.travel(at_noon(dt.date(2026, 5, 4)), tick=False):
        eligible_students_flag()
    assert not EligibleStudent.objects.get(student=world.student).parents_portal_access_ended
    access.forget_viewer(world.parent)
    assert access.child_for_guardian(world.parent, world.student.pk).student == world.student


def test_99_5_a_district_that_ends_parents_access(world: World, officer: User) -> None:
    rights_policy_set(
        acting_user=officer,
        district=world.district,
        parents_access_at_eligibility=ParentsAccessAtEligibility.END_PORTAL_ACCESS,
    )
    born(world, dt.date(2008, 5, 4))
    with time_machine.travel(at_noon(dt.date(2026, 5, 4)), tick=False):
        eligible_students_flag()
    eligible = EligibleStudent.objects.get(student=world.student)
    assert eligible.parents_portal_access_ended
    access.forget_viewer(world.parent)
    with pytest.raises(Http404):
        access.child_for_guardian(world.parent, world.student.pk)
    assert not access.may_exercise_rights_for(world.parent, world.student)
    # Another family's child is untouched.
    assert access.child_for_guardian(world.other_parent, world.classmate.pk)
    # The office keeps it for this student (a dependant for tax purposes), saying why.
    with pytest.raises(ValidationError):
        eligible_student_parents_access_set(
            acting_user=officer, eligible=eligible, ended=False, note=" "
        )
    with pytest.raises(RightsRefused):
        eligible_student_parents_access_set(
            acting_user=world.district_staff, eligible=eligible, ended=False, note="Dependant"
        )
    eligible_student_parents_access_set(
        acting_user=officer, eligible=eligible, ended=False, note="A dependant (99.31(a)(8))"
    )
    access.forget_viewer(world.parent)
    assert access.child_for_guardian(world.parent, world.student.pk).student == world.student


def test_99_5_postsecondary_is_a_manual_flag(world: World, officer: User) -> None:
    with pytest.raises(RightsRefused):
        eligible_student_postsecondary_set(acting_user=world.district_staff, student=world.student)
    eligible = eligible_student_postsecondary_set(
        acting_user=officer, student=world.student, since=dt.date(2026, 9, 1)
    )
    assert eligible.reason == EligibilityReason.POSTSECONDARY
    assert eligible.flagged_by == officer and eligible.eligible_since == dt.date(2026, 9, 1)
    # Flagged already: the first date and reason stand, and the task leaves it.
    again = eligible_student_postsecondary_set(acting_user=officer, student=world.student)
    assert again.pk == eligible.pk and again.eligible_since == dt.date(2026, 9, 1)
    born(world, dt.date(2008, 5, 4))
    with time_machine.travel(at_noon(dt.date(2026, 12, 1)), tick=False):
        assert eligible_students_flag() == 0
