"""The lesson plan calendars (a section's, and a teacher's across their sections), week and month,
both ways; and how plans show on the teacher's other pages: the section page's links and today's
plan (a substitute's first of all), the standard page's "Plan a lesson on this standard", home,
the top bar, and "recently taught" from plans marked taught in needs-attention and the score
entry picker, with the section's cached grid retired when a plan is marked taught."""

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import time_machine
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import User
from accounts.services import substitute_grant
from lessons import services
from lessons.models import LessonPlan
from students.models import Section, Staff
from tests import factories
from tests.conftest import World
from tests.dashboard.test_cache import CACHED
from tests.dashboard.test_pages import overview_url, record, score
from tests.lessons.conftest import co_teacher_of

pytestmark = pytest.mark.django_db

# A Wednesday: its week runs Monday Feb 1 to Sunday Feb 7, 2027.
DAY = dt.date(2027, 2, 3)
NOW = dt.datetime.combine(DAY, dt.time(9))


@pytest.fixture(autouse=True)
def _on_day() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def teacher_staff(world: World) -> Staff:
    staff = world.teacher.staff_record
    assert staff is not None
    return staff


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def plan(
    world: World,
    first_day: dt.date,
    last_day: dt.date | None = None,
    *,
    section: Section | None = None,
    objective: str = "Compare fractions with unlike denominators",
    teacher: User | None = None,
) -> LessonPlan:
    return services.plan_create(
        acting_user=teacher or world.teacher,
        section=section or world.section,
        first_day=first_day,
        last_day=last_day,
        objective=objective,
        standards=[world.standard],
    )


def section_url(world: World, **query: str) -> str:
    url = reverse("lessons:section_calendar", kwargs={"pk": world.section.pk})
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def teacher_url(**query: str) -> str:
    url = reverse("lessons:teacher_calendar")
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def days_with(response, plan_pk: int) -> list[dt.date]:
    """The days of the calendar shown that list the plan."""
    return [
        day.day
        for day in response.context["calendar"].days
        if any(entry.plan.pk == plan_pk for entry in day.entries)
    ]


def test_the_week_lists_each_days_plans_with_links_codes_objective_and_taught(
    client: Client, world: World
) -> None:
    monday = plan(world, DAY - dt.timedelta(days=2), objective="Equivalent fractions")
    wednesday = plan(world, DAY)
    services.plan_mark_taught(acting_user=world.teacher, plan=monday)
    plan(world, DAY + dt.timedelta(days=7), objective="Next week's lesson")
    client.force_login(world.teacher)
    response = client.get(section_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    calendar = response.context["calendar"]
    assert (calendar.first, calendar.last) == (dt.date(2027, 2, 1), dt.date(2027, 2, 7))
    assert "Week of Monday, February 1, 2027" in html
    assert days_with(response, monday.pk) == [dt.date(2027, 2, 1)]
    assert days_with(response, wednesday.pk) == [DAY]
    assert "Next week" not in html.split("Next week →")[0].split("calendar-week")[-1]
    assert reverse("lessons:plan_detail", kwargs={"pk": wednesday.pk}) in html
    assert "4.NF.A.1" in html
    assert "Equivalent fractions" in html and "Compare fractions" in html
    assert "Taught" in html and "Not marked taught" in html
    # Today, in words; "Plan this day" with the day, for the section's teacher.
    assert re.search(r"Wednesday, February 3 <span class=\"today-badge\">Today</span>", html)
    plan_new = reverse("lessons:plan_new", kwargs={"pk": world.section.pk})
    assert f'href="{plan_new}?day=2027-02-03"' in html
    assert "Next week's lesson" not in html


def test_previous_next_and_today_links_move_by_a_week_or_a_month(
    client: Client, world: World
) -> None:
    client.force_login(world.teacher)
    html = client.get(section_url(world, day="2027-02-03")).content.decode()
    assert "?view=week&amp;day=2027-01-25" in html and "?view=week&amp;day=2027-02-08" in html
    assert 'href="' + section_url(world) + '?view=week" aria-current="date">Today' in html
    html = client.get(section_url(world, view="month", day="2027-03-15")).content.decode()
    assert "?view=month&amp;day=2027-02-01" in html and "?view=month&amp;day=2027-04-01" in html
    assert "Previous month (February 2027)" in html and "Next month (April 2027)" in html
    assert 'aria-current="date"' not in html  # today is not in March


def test_the_month_is_a_table_of_weeks_and_a_span_shows_on_each_of_its_days(
    client: Client, world: World
) -> None:
    spanning = plan(world, dt.date(2027, 2, 26), dt.date(2027, 3, 2), objective="Unit project")
    client.force_login(world.teacher)
    response = client.get(section_url(world, view="month", day="2027-02-10"))
    html = response.content.decode()
    calendar = response.context["calendar"]
    # February 2027 begins on a Monday and ends on a Sunday: four whole weeks.
    assert (calendar.first, calendar.last) == (dt.date(2027, 2, 1), dt.date(2027, 2, 28))
    assert len(calendar.weeks) == 4
    assert days_with(response, spanning.pk) == [dt.date(2027, 2, d) for d in (26, 27, 28)]
    assert "<caption>February 2027: the lesson plans of each day" in html
    assert html.count('<th scope="col">') == 7
    assert 'role="region" aria-label="February 2027, month calendar"' in html
    assert "day 1 of 5" in html and "day 3 of 5" in html
    assert '<span class="today-badge">Today</span>' in html
    march = client.get(section_url(world, view="month", day="2027-03-01"))
    # March 2027: Monday Mar 1 to Sunday Apr 4, the plan's last two days in the first week.
    assert days_with(march, spanning.pk) == [dt.date(2027, 3, 1), dt.date(2027, 3, 2)]
    assert "day 5 of 5" in march.content.decode()


def test_a_substitute_sees_only_the_plans_of_the_days_they_cover(
    client: Client, world: World
) -> None:
    covered = plan(world, DAY)
    before = plan(world, DAY - dt.timedelta(days=2), objective="Before the cover")
    substitute = factories.UserFactory.create(full_name="Sam Substitute")
    substitute_grant(
        acting_user=world.principal,
        substitute=substitute,
        section=world.section,
        begin_date=DAY,
        end_date=DAY + dt.timedelta(days=1),
    )
    client.force_login(substitute)
    response = client.get(section_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert days_with(response, covered.pk) == [DAY]
    assert days_with(response, before.pk) == []
    assert "Before the cover" not in html
    assert "You are covering this class from February 3 through February 4" in html
    assert reverse("lessons:plan_new", kwargs={"pk": world.section.pk}) not in html
    # They plan no section: the teacher's calendar is not theirs.
    assert client.get(teacher_url()).status_code == 404
    # The section page leads with today's plan.
    page = client.get(overview_url(world)).content.decode()
    detail = reverse("lessons:plan_detail", kwargs={"pk": covered.pk})
    assert f'<a href="{detail}" class="button-link">Open today\'s plan</a>' in page


def test_the_principal_reads_without_planning_links_and_others_get_404(
    client: Client, world: World
) -> None:
    shown = plan(world, DAY)
    client.force_login(world.principal)
    response = client.get(section_url(world))
    assert response.status_code == 200
    html = response.content.decode()
    assert days_with(response, shown.pk) == [DAY]
    assert "only its teachers change them" in html
    assert reverse("lessons:plan_new", kwargs={"pk": world.section.pk}) not in html
    assert client.get(teacher_url()).status_code == 404
    for user in (world.other_teacher, world.other_principal, world.district_staff, world.parent):
        client.force_login(user)
        assert client.get(section_url(world)).status_code == 404
        assert client.get(section_url(world, day="2024-02-30")).status_code == 404
        # Their own calendar (another teacher's sections) never shows this section's plan.
        mine = client.get(teacher_url())
        assert mine.status_code == (200 if user == world.other_teacher else 404)
        if mine.status_code == 200:
            assert days_with(mine, shown.pk) == []


def test_a_co_teacher_plans_from_the_section_calendar(client: Client, world: World) -> None:
    co_teacher = co_teacher_of(world.section)
    shown = plan(world, DAY, teacher=co_teacher)
    client.force_login(co_teacher)
    html = client.get(section_url(world)).content.decode()
    assert reverse("lessons:plan_detail", kwargs={"pk": shown.pk}) in html
    assert reverse("lessons:plan_new", kwargs={"pk": world.section.pk}) + "?day=" in html


def test_the_teacher_calendar_labels_each_plan_with_its_section(
    client: Client, world: World
) -> None:
    second = factories.SectionFactory.create(school=world.school, title="Grade 4 Science")
    co_teacher = co_teacher_of(second)
    # The world's teacher teaches a second section too.
    from students.models import SectionAssignment

    SectionAssignment.objects.create(
        district=world.district, staff=teacher_staff(world), section=second
    )
    teacher = _fresh(world.teacher)
    math = plan(world, DAY)
    science = plan(world, DAY, section=second, teacher=co_teacher, objective="Circuits")
    elsewhere = plan(world, DAY, section=world.other_section, teacher=world.other_teacher)
    client.force_login(teacher)
    response = client.get(teacher_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert days_with(response, math.pk) == [DAY]
    assert days_with(response, science.pk) == [DAY]
    assert days_with(response, elsewhere.pk) == []
    assert ">Grade 4 Math" in html and ">Grade 4 Science" in html and "Circuits" in html
    # Several sections: each day offers a plan link per section.
    for section in (world.section, second):
        plan_new = reverse("lessons:plan_new", kwargs={"pk": section.pk})
        assert f'href="{plan_new}?day=2027-02-03"' in html
    month = client.get(teacher_url(view="month"))
    assert days_with(month, science.pk) == [DAY]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ({"day": "2024-02-30"}, "day: '2024-02-30' is not a date"),
        ({"day": "\x00"}, "day: "),
        ({"day": "0001-01-01"}, "day: '0001-01-01' is not a date (YYYY-MM-DD) from 1900"),
        ({"day": "2024-2-3"}, "day: "),
        ({"view": "xyz"}, "view: 'xyz' is not one of week, month"),
        ({"view": "\x00"}, "view: "),
    ],
)
def test_odd_values_answer_400_naming_the_parameter(
    client: Client, world: World, query: dict[str, str], named: str
) -> None:
    client.force_login(world.teacher)
    for url in (
        reverse("lessons:section_calendar", kwargs={"pk": world.section.pk}),
        reverse("lessons:teacher_calendar"),
    ):
        response = client.get(url, query)
        assert response.status_code == 400
        assert named in response.content.decode()


def test_the_edges_of_the_years_shown_leave_out_the_link_past_them(
    client: Client, world: World
) -> None:
    client.force_login(world.teacher)
    html = client.get(section_url(world, view="month", day="2999-12-31")).content.decode()
    assert "Next month" not in html and "Previous month (November 2999)" in html
    html = client.get(section_url(world, view="week", day="1900-01-01")).content.decode()
    assert "Previous week" not in html


def test_calendar_queries_do_not_grow_with_plans_or_sections(
    client: Client, world: World, django_assert_max_num_queries
) -> None:
    from students.models import SectionAssignment

    client.force_login(world.teacher)
    plan(world, DAY)
    client.get(section_url(world))
    with django_assert_max_num_queries(8):
        client.get(section_url(world))
    with django_assert_max_num_queries(8):
        client.get(teacher_url(view="month"))
    for index in range(5):
        section = factories.SectionFactory.create(school=world.school, title=f"Extra {index}")
        SectionAssignment.objects.create(
            district=world.district, staff=teacher_staff(world), section=section
        )
    teacher = _fresh(world.teacher)
    for section in Section.objects.filter(title__startswith="Extra"):
        for offset in range(4):
            plan(world, DAY + dt.timedelta(days=offset), section=section, teacher=teacher)
    for offset in range(10):
        plan(world, DAY + dt.timedelta(days=offset % 5))
    client.force_login(teacher)
    with django_assert_max_num_queries(8):
        assert client.get(section_url(world)).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(section_url(world, view="month")).status_code == 200
    with django_assert_max_num_queries(8):
        response = client.get(teacher_url(view="month"))
    assert len(response.context["sections"]) == 6
    assert sum(len(d.entries) for d in response.context["calendar"].days) == 5 * 4 + 11


# --- The teacher's other pages


def test_the_section_page_links_the_plans_and_shows_todays(client: Client, world: World) -> None:
    today = plan(world, DAY, objective="Fractions on a number line")
    client.force_login(world.teacher)
    html = client.get(overview_url(world)).content.decode()
    assert reverse("lessons:section_calendar", kwargs={"pk": world.section.pk}) in html
    assert reverse("lessons:plan_new", kwargs={"pk": world.section.pk}) + '">Plan a lesson' in html
    detail = reverse("lessons:plan_detail", kwargs={"pk": today.pk})
    assert f'<a href="{detail}">Fractions on a number line</a>' in html
    # The principal reads the plans: the calendar and today's plan, no "Plan a lesson".
    client.force_login(world.principal)
    html = client.get(overview_url(world)).content.decode()
    assert detail in html and "Plan a lesson" not in html
    # District staff see the section but never its plans.
    client.force_login(world.district_staff)
    html = client.get(overview_url(world)).content.decode()
    assert "Today's plan" not in html
    assert reverse("lessons:section_calendar", kwargs={"pk": world.section.pk}) not in html


def test_the_standard_page_offers_a_plan_on_the_standard_to_the_sections_teachers(
    client: Client, world: World
) -> None:
    url = reverse(
        "dashboard:standard_detail",
        kwargs={"pk": world.section.pk, "standard_id": world.standard.pk},
    )
    link = (
        reverse("lessons:plan_new", kwargs={"pk": world.section.pk})
        + f"?standard={world.standard.pk}"
    )
    client.force_login(world.teacher)
    html = client.get(url).content.decode()
    assert f'href="{link}">Plan a lesson on this standard' in html
    client.force_login(world.principal)
    assert "Plan a lesson on this standard" not in client.get(url).content.decode()


def test_home_shows_todays_and_tomorrows_plans_and_the_bar_links_the_calendar(
    client: Client, world: World
) -> None:
    today = plan(world, DAY, objective="Fractions, day one")
    tomorrow = plan(world, DAY + dt.timedelta(days=1), objective="Fractions, day two")
    client.force_login(world.teacher)
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert [e.plan for e in response.context["plans_today"]] == [today]
    assert [e.plan for e in response.context["plans_tomorrow"]] == [tomorrow]
    assert "Fractions, day one" in html and "Fractions, day two" in html
    assert f'href="{teacher_url()}"' in html
    assert ">Lesson plans</a>" in html  # the top bar
    client.force_login(world.principal)
    html = client.get(reverse("home")).content.decode()
    assert teacher_url() not in html


# --- Recently taught, from plans marked taught


def _attention(client: Client, world: World) -> dict[int, tuple[str, ...]]:
    return dict(client.get(overview_url(world)).context["attention"])


def _picker_recent(client: Client, world: World) -> list[int]:
    response = client.get(
        reverse("assessments:section_assessments", kwargs={"pk": world.section.pk})
    )
    groups = response.context["form"].fields["standards"].picker.groups
    return [option.standard_id for group in groups if group.recent for option in group.options]


def test_a_plan_marked_taught_makes_its_standard_recently_taught(
    client: Client, world: World, django_capture_on_commit_callbacks
) -> None:
    # Below mastery on a standard last measured months ago (the quiz was due Oct 1, 2026).
    record([score(world, world.classmate, "1", 40), score(world, world.classmate, "0", 39)])
    client.force_login(world.teacher)
    with override_settings(CACHES=CACHED):
        from django.core.cache import caches

        caches["dashboard"].clear()
        caches["dashboard_versions"].clear()
        assert world.classmate.pk not in _attention(client, world)
        assert world.standard.pk not in _picker_recent(client, world)
        lesson = plan(world, DAY - dt.timedelta(days=1))
        # Planned, not taught: still not recent; the cached grid is served again.
        assert world.classmate.pk not in _attention(client, world)
        with django_capture_on_commit_callbacks(execute=True):
            services.plan_mark_taught(acting_user=world.teacher, plan=lesson)
        reasons = " ".join(_attention(client, world)[world.classmate.pk])
        assert "taught in the last 3 weeks: 4.NF.A.1" in reasons
        assert _picker_recent(client, world)[0] == world.standard.pk
        # Unmarked: no longer taught, and the grid follows again.
        with django_capture_on_commit_callbacks(execute=True):
            services.plan_unmark_taught(acting_user=world.teacher, plan=lesson)
        assert world.classmate.pk not in _attention(client, world)
        caches["dashboard"].clear()
        caches["dashboard_versions"].clear()
