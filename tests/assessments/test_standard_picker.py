"""The standard picker (assessments/widgets.py): its groups (subject, grade and cluster, the
section's recently taught standards first), the section's recently taught standards, and the
new-assessment form that uses it."""

import datetime as dt
import random

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import (
    Assessment,
    AssessmentItem,
    MasteryPolicy,
    Standard,
    StandardKind,
)
from assessments.selectors import (
    RECENT_LEGEND,
    recently_taught_standard_ids,
    standard_picker_groups,
    standards_for_section,
)
from students.models import District
from tests import factories
from tests.conftest import World

pytestmark = pytest.mark.django_db

MATH = "Mathematics"
FRACTIONS_A = "Extend understanding of fraction equivalence and ordering."


def _standard(district: District, code: str, description: str = "", **fields) -> Standard:
    fields.setdefault("subject", MATH)
    return Standard.objects.create(
        district=district, code=code, description=description or f"About {code}.", **fields
    )


@pytest.fixture
def catalogue() -> dict[str, Standard]:
    """A district's standards, made out of order: two grades of mathematics with their domains
    and clusters, a sub-standard, one standard in no cluster, science across grades 6 to 8 and
    one of English Language Arts."""
    district = factories.DistrictFactory.create()
    made: dict[str, Standard] = {}

    def add(key: str, code: str, description: str = "", **fields) -> None:
        made[key] = _standard(district, code, description, **fields)

    add("nf", "CCSS.MATH.CONTENT.4.NF", "Number and Operations—Fractions", kind="domain")
    add("nf_b", "CCSS.MATH.CONTENT.4.NF.B", "Build fractions from unit fractions.", kind="cluster")
    add("nf_a", "CCSS.MATH.CONTENT.4.NF.A", FRACTIONS_A, kind="cluster", parent=made["nf"])
    add("oa", "CCSS.MATH.CONTENT.3.OA.A", "Represent and solve problems.", kind="cluster")
    grade4, grade3 = {"grade_levels": ["04"]}, {"grade_levels": ["03"]}
    add("a10", "CCSS.MATH.CONTENT.4.NF.A.10", "A made-up tenth.", parent=made["nf_a"], **grade4)
    add("a2", "CCSS.MATH.CONTENT.4.NF.A.2", "Compare two fractions.", parent=made["nf_a"], **grade4)
    add("a1", "CCSS.MATH.CONTENT.4.NF.A.1", "Explain why fractions are equivalent.", **grade4)
    Standard.objects.filter(pk=made["a1"].pk).update(parent=made["nf_a"])
    add("a1a", "CCSS.MATH.CONTENT.4.NF.A.1a", "A sub-standard.", kind="substandard", **grade4)
    Standard.objects.filter(pk=made["a1a"].pk).update(parent=made["a1"])
    add("b3", "CCSS.MATH.CONTENT.4.NF.B.3", "Add and subtract fractions.", **grade4)
    Standard.objects.filter(pk=made["b3"].pk).update(parent=made["nf_b"])
    add("oa1", "CCSS.MATH.CONTENT.3.OA.A.1", "Interpret products.", parent=made["oa"], **grade3)
    add("loose", "LOCAL.MATH.4.1", "A district's own standard.", **grade4)
    add(
        "ms",
        "MS-PS1-1",
        "Develop models of atomic composition.",
        subject="Science",
        grade_levels=["08", "06", "07"],
    )
    add("ela", "CCSS.ELA-LITERACY.RL.4.1", "Refer to details in a text.", subject="ELA")
    return made


def _offered(catalogue: dict[str, Standard]) -> list[Standard]:
    """Read back as a page would, grouping kinds left out, in no particular order."""
    grouping = {"domain", "cluster"}
    keys = [key for key, s in catalogue.items() if s.kind not in grouping]
    standards = list(Standard.objects.filter(pk__in=[catalogue[k].pk for k in keys]))
    random.Random(7).shuffle(standards)
    return standards


def _codes(group) -> list[str]:
    return [option.short_code for option in group.options]


def test_groups_by_subject_grade_and_cluster_in_natural_order(catalogue) -> None:
    groups = standard_picker_groups(_offered(catalogue))
    assert [g.legend for g in groups] == [
        "ELA · Any grade · Not in a cluster",
        "Mathematics · Grade 3 · 3.OA.A Represent and solve problems.",
        f"Mathematics · Grade 4 · 4.NF.A {FRACTIONS_A}",
        "Mathematics · Grade 4 · 4.NF.B Build fractions from unit fractions.",
        "Mathematics · Grade 4 · Not in a cluster",
        "Science · Grades 6–8 · Not in a cluster",
    ]
    # Numbers compare as numbers; a sub-standard sits in its standard's cluster, after it.
    assert _codes(groups[2]) == ["4.NF.A.1", "4.NF.A.1a", "4.NF.A.2", "4.NF.A.10"]
    assert _codes(groups[4]) == ["LOCAL.MATH.4.1"]
    assert not any(g.recent for g in groups)


def test_every_option_carries_its_description_and_code(catalogue) -> None:
    groups = standard_picker_groups(_offered(catalogue))
    options = {o.short_code: o for g in groups for o in g.options}
    assert len(options) == len(_offered(catalogue))
    assert options["4.NF.A.1"].description == "Explain why fractions are equivalent."
    assert options["4.NF.A.1"].code == "CCSS.MATH.CONTENT.4.NF.A.1"
    assert options["4.NF.A.1"].context == "Mathematics · Grade 4 · 4.NF.A"
    # A search finds a standard by its cluster's words too.
    assert "fraction equivalence" in options["4.NF.A.2"].search_text
    assert "atomic composition" in options["MS-PS1-1"].search_text


def test_recently_taught_come_first_in_their_order_and_only_there(catalogue) -> None:
    stranger = 10**9  # an id that is not offered is left out
    recent = [catalogue["b3"].pk, stranger, catalogue["a2"].pk, catalogue["b3"].pk]
    groups = standard_picker_groups(_offered(catalogue), recent)
    assert groups[0].recent and groups[0].legend == RECENT_LEGEND
    assert _codes(groups[0]) == ["4.NF.B.3", "4.NF.A.2"]
    assert groups[0].options[0].context == "Mathematics · Grade 4 · 4.NF.B"
    everywhere = [o.standard_id for g in groups for o in g.options]
    assert len(everywhere) == len(set(everywhere)) == len(_offered(catalogue))
    # 4.NF.B held only 4.NF.B.3: its group is gone; 4.NF.A keeps the rest.
    assert not any(g.cluster_code == "4.NF.B" for g in groups[1:])
    fractions_a = next(g for g in groups if g.cluster_code == "4.NF.A")
    assert _codes(fractions_a) == ["4.NF.A.1", "4.NF.A.1a", "4.NF.A.10"]


def test_the_same_standards_always_give_the_same_groups(
    catalogue, django_assert_num_queries
) -> None:
    recent = [catalogue["a10"].pk]
    first = standard_picker_groups(_offered(catalogue), recent)
    reshuffled = list(reversed(_offered(catalogue)))
    assert standard_picker_groups(reshuffled, recent) == first
    # Parents already read cost nothing; those missing cost one query in all.
    loaded = list(
        Standard.objects.filter(pk__in=[s.pk for s in reshuffled]).select_related("parent__parent")
    )
    with django_assert_num_queries(0):
        assert standard_picker_groups(loaded, recent) == first
    bare = list(Standard.objects.filter(pk__in=[s.pk for s in reshuffled]))
    with django_assert_num_queries(1):
        assert standard_picker_groups(bare, recent) == first


def test_no_standards_no_groups() -> None:
    assert standard_picker_groups([], [1, 2]) == []


# The section's recently taught standards.


def _assessment(world: World, days_ago: int | None, *standards: Standard, **fields) -> Assessment:
    today = timezone.localdate()
    assessment = Assessment.objects.create(
        district=world.district,
        section=fields.pop("section", world.section),
        title=f"Quiz {days_ago}",
        max_points=10,
        due_on=None if days_ago is None else today - dt.timedelta(days=days_ago),
        **fields,
    )
    assessment.standards.add(*standards)
    return assessment


def test_recently_taught_follows_the_districts_window_newest_first(world: World) -> None:
    old, last_week, yesterday, by_item, undated, dropped, elsewhere = (
        _standard(world.district, f"CCSS.MATH.CONTENT.4.NF.B.{n}") for n in range(1, 8)
    )
    _assessment(world, 40, old)
    _assessment(world, 7, last_week, old)
    _assessment(world, 1, yesterday)
    item = AssessmentItem.objects.create(
        district=world.district, assessment=_assessment(world, 3), code="1", max_points=1
    )
    item.standards.add(by_item)
    _assessment(world, None, undated)
    _assessment(world, 2, dropped, is_active=False)
    _assessment(world, 1, elsewhere, section=world.other_section)
    # The world's own assessment is months old.
    assert recently_taught_standard_ids(world.section) == [
        yesterday.pk,
        by_item.pk,
        old.pk,  # measured again last week, by the same assessment: the first made first
        last_week.pk,
    ]
    MasteryPolicy.objects.update_or_create(
        district=world.district, defaults={"attention_recent_days": 5}
    )
    assert recently_taught_standard_ids(world.section) == [yesterday.pk, by_item.pk]


def test_a_section_is_offered_standards_not_their_domains_and_clusters(world: World) -> None:
    cluster = _standard(world.district, "CCSS.MATH.CONTENT.4.NF.A", kind=StandardKind.CLUSTER)
    domain = _standard(world.district, "CCSS.MATH.CONTENT.4.NF", kind=StandardKind.DOMAIN)
    objective = _standard(world.district, "OBJ.1", kind=StandardKind.OBJECTIVE)
    other_district = _standard(world.other_district, "CCSS.MATH.CONTENT.4.NF.A.2")
    offered = {s.pk for s in standards_for_section(world.section)}
    assert world.standard.pk in offered and objective.pk in offered
    assert not offered & {cluster.pk, domain.pk, other_district.pk}


# The new-assessment form.


def _url(world: World) -> str:
    return reverse("assessments:section_assessments", kwargs={"pk": world.section.pk})


def _post(world: World, *standards: object) -> dict[str, object]:
    return {
        "title": "Fractions exit ticket",
        "kind": "quiz",
        "purpose": "formative",
        "due_on": timezone.localdate().isoformat(),
        "max_points": "4",
        "standards": [str(s) for s in standards],
    }


@pytest.fixture
def taught(world: World) -> dict[str, Standard]:
    """The world's section with a cluster of fractions standards, one taught last week."""
    cluster = _standard(world.district, "CCSS.MATH.CONTENT.4.NF.A", FRACTIONS_A, kind="cluster")
    Standard.objects.filter(pk=world.standard.pk).update(
        parent=cluster, description="Explain why fractions are equivalent.", grade_levels=["04"]
    )
    compare = _standard(
        world.district,
        "CCSS.MATH.CONTENT.4.NF.A.2",
        "Compare two fractions with different numerators.",
        parent=cluster,
        grade_levels=["04"],
    )
    _assessment(world, 6, compare)
    return {"cluster": cluster, "compare": compare}


def test_the_form_shows_the_groups_with_the_recently_taught_first(
    client, world: World, taught, django_assert_max_num_queries
) -> None:
    client.force_login(world.teacher)
    # The picker's part is six: the standards with their clusters, the district's policy and
    # the two kinds of alignment, and (lessons.selectors.recently_taught) the policy again and
    # the standards of lesson plans marked taught; however many standards there are.
    with django_assert_max_num_queries(13):
        response = client.get(_url(world))
    page = response.content.decode()
    assert response.status_code == 200
    form = response.context["form"]
    groups = form.fields["standards"].picker.groups
    assert [g.legend for g in groups] == [
        RECENT_LEGEND,
        f"Mathematics · Grade 4 · 4.NF.A {FRACTIONS_A}",
    ]
    assert _codes(groups[0]) == ["4.NF.A.2"]
    assert page.index(RECENT_LEGEND) < page.index(FRACTIONS_A)
    assert "Explain why fractions are equivalent." in page
    assert "Compare two fractions with different numerators." in page
    assert 'type="search"' in page and '<label for="id_standards_search">Search standards' in page
    assert 'aria-live="polite" data-picker-count>0 selected' in page
    assert "js/standard-picker" in page and "css/standard-picker" in page
    # Without the script there is nothing to search with: the search shows once it runs.
    assert 'class="picker-tools" data-picker-tools hidden' in page
    # The cluster is a heading, not a choice.
    assert f'value="{taught["cluster"].pk}"' not in page


def test_the_form_saves_the_chosen_standards(client, world: World, taught) -> None:
    client.force_login(world.teacher)
    response = client.post(_url(world), _post(world, world.standard.pk, taught["compare"].pk))
    assessment = Assessment.objects.get(title="Fractions exit ticket")
    assert response.status_code == 302
    assert set(assessment.standards.all()) == {world.standard, taught["compare"]}
    assert assessment.section == world.section


@pytest.mark.parametrize(
    ("forged", "named"),
    [
        ("other_district", "is not one of the standards offered here."),
        ("cluster", "is not one of the standards offered here."),
        ("abc", "“abc” is not the id of a standard."),
        ("huge", "“99999999999999999999…” is not the id of a standard."),
        ("none", "Choose at least one standard."),
    ],
)
def test_the_form_refuses_a_standard_it_did_not_offer(
    client, world: World, taught, forged: str, named: str
) -> None:
    forged_ids = {
        "other_district": [_standard(world.other_district, "CCSS.MATH.CONTENT.4.NF.A.3").pk],
        "cluster": [taught["cluster"].pk],
        "abc": ["abc"],
        "huge": ["9" * 200],  # more than the database's integers hold: no query is made
        "none": [],
    }[forged]
    chosen = [world.standard.pk] if forged_ids else []
    client.force_login(world.teacher)
    before = Assessment.objects.count()
    response = client.post(_url(world), _post(world, *chosen, *forged_ids))
    page = response.content.decode()
    assert response.status_code == 200
    assert named in page
    if forged in ("other_district", "cluster"):
        assert f"Standard {forged_ids[0]} {named}" in page
    assert 'aria-describedby="id_standards_helptext id_standards_errors"' in page
    assert 'id="id_standards_errors"' in page
    assert Assessment.objects.count() == before
    # What was chosen stays chosen.
    assert ('data-code="4.NF.A.1" checked' in page) is bool(chosen)


def test_only_the_sections_teachers_get_the_picker(client, world: World, taught) -> None:
    client.force_login(world.principal)
    response = client.get(_url(world))
    assert response.status_code == 200
    assert response.context["form"] is None
    assert "data-standard-picker" not in response.content.decode()
    assert client.post(_url(world), _post(world, world.standard.pk)).status_code == 403
    for user in (world.other_teacher, world.parent, world.outsider):
        client.force_login(user)
        assert client.get(_url(world)).status_code == 404, user
        assert client.post(_url(world), _post(world, world.standard.pk)).status_code == 404
    assert not Assessment.objects.filter(title="Fractions exit ticket").exists()
