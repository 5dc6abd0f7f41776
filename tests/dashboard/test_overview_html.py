"""The section page's parts built in Python (dashboard.tables) say what the template said, escaped
as Django escapes."""

import re

import pytest
from django.template import Context, Template
from django.urls import reverse

from dashboard import tables
from dashboard.selectors import AttentionFlag
from dashboard.templatetags.dashboard_tags import json_bytes_script
from dashboard.views.teacher.common import STUDENT_PLACEHOLDER
from students.models import Student
from tests.conftest import World
from tests.dashboard.test_pages import overview_url, record, score

pytestmark = pytest.mark.django_db

# What section_overview.html rendered before the list was built in Python.
TEMPLATE_ATTENTION_LIST = """
    <ol class="attention-list">
      {% for flag in attention %}
        <li><a href="{% url 'students:student_detail' flag.student.pk %}">
          <strong>{{ flag.student.sort_name }}</strong></a>
          <ul>{% for reason in flag.reasons %}<li>{{ reason }}</li>{% endfor %}</ul></li>
      {% endfor %}
    </ol>
"""


def markup(html: str) -> str:
    """The markup without the whitespace between tags (which no browser shows)."""
    return re.sub(r">\s+<", "><", html.strip())


def student_url_template() -> str:
    url = reverse("students:student_detail", kwargs={"pk": STUDENT_PLACEHOLDER})
    return url.replace(str(STUDENT_PLACEHOLDER), "{student}")


def test_attention_list_is_the_templates_markup_escaped_alike() -> None:
    flags = [
        AttentionFlag(
            Student(pk=7, first_name="<b>Zoë</b>", last_name='O\'Brien & "Sons"'),
            ["Below Mastery on 1 standard: 4.NF<A>.1", "Missing work (1 assessment): Quiz {1}"],
        ),
        AttentionFlag(Student(pk=12, first_name="Ana", last_name="Lee"), ["Falling trend"]),
    ]
    built = tables.attention_list_html(flags, student_url_template())
    rendered = Template(TEMPLATE_ATTENTION_LIST).render(Context({"attention": flags}))
    assert markup(built) == markup(rendered)
    assert "<b>" not in built and "&lt;b&gt;Zoë&lt;/b&gt;" in built
    assert "O&#x27;Brien &amp; &quot;Sons&quot;" in built


def test_the_page_shows_the_built_parts(client, world: World) -> None:
    record([score(world, world.student, "9", 3)])  # levels to draw (without, the next step shows)
    client.force_login(world.teacher)
    response = client.get(overview_url(world, "kind=quiz"))
    page = response.content.decode()
    assert json_bytes_script(response.context["figure_json"], "overview-figure") in page
    assert '<select name="kind" id="id_kind">' in page
    assert '<option value="quiz" selected>' in page
    assert '<ol class="attention-list">' in page or "Nobody is flagged" in page


def test_the_attention_list_shows_the_first_few_and_the_rest_behind_show_all() -> None:
    flags = [
        AttentionFlag(Student(pk=n, first_name=f"S{n}", last_name="Lee"), [f"Reason {n}"])
        for n in range(1, 8)
    ]
    built = tables.attention_list_html(flags, student_url_template(), shown=3)
    first, rest = built.split('<details class="attention-more">')
    assert first.count("<strong>") == 3 and "Reason 3" in first and "Reason 4" not in first
    assert "<summary>Show all 7 students (the other 4)</summary>" in rest
    assert '<ol class="attention-list" start="4">' in rest and rest.count("<strong>") == 4
    # Fewer than the shown count: no "show all".
    assert "<details" not in tables.attention_list_html(flags[:3], student_url_template(), shown=3)


def test_attention_is_ranked_by_how_much_it_matters() -> None:
    from dashboard.selectors import AttentionReasons, MissingWork, attention_flags

    far, near, missing_only = (
        Student(pk=1, first_name="Far", last_name="Below"),
        Student(pk=2, first_name="Near", last_name="Below"),
        Student(pk=3, first_name="Only", last_name="Missing"),
    )
    flags = attention_flags(
        [missing_only, near, far],
        {
            far.pk: AttentionReasons(0.9, ("Below Mastery on 2 standards",)),
            near.pk: AttentionReasons(0.2, ("Below Mastery on 1 standard",)),
        },
        [MissingWork(missing_only.pk, "Quiz 1", None), MissingWork(near.pk, "Quiz 1", None)],
    )
    assert [f.student.pk for f in flags] == [far.pk, near.pk, missing_only.pk]
    assert flags[1].reasons[-1].startswith("Missing work (1 assessment)")
    assert flags[1].severity > 0.2 > flags[2].severity > 0
