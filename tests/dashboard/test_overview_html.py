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
from tests.dashboard.test_pages import overview_url

pytestmark = pytest.mark.django_db

# What section_overview.html rendered before the list was built in Python.
TEMPLATE_ATTENTION_LIST = """
    <ul class="attention-list">
      {% for flag in attention %}
        <li><a href="{% url 'students:student_detail' flag.student.pk %}">
          <strong>{{ flag.student.sort_name }}</strong></a>
          <ul>{% for reason in flag.reasons %}<li>{{ reason }}</li>{% endfor %}</ul></li>
      {% endfor %}
    </ul>
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
    client.force_login(world.teacher)
    response = client.get(overview_url(world, "kind=quiz"))
    page = response.content.decode()
    assert json_bytes_script(response.context["figure_json"], "overview-figure") in page
    assert '<select name="kind" id="id_kind">' in page
    assert '<option value="quiz" selected>' in page
    assert '<ul class="attention-list">' in page or "Nobody is flagged" in page
