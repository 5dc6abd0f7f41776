"""A chart's box holds the height its figure is drawn at before plotly.js has arrived, so that
drawing it moves nothing below it (tests/browser/test_teacher_pages_browser.py measures the
layout shift in Chromium)."""

import orjson

from dashboard.templatetags.dashboard_tags import PLOTLY_DEFAULT_HEIGHT, chart_height


def test_a_figure_is_drawn_at_its_layouts_height() -> None:
    assert chart_height(orjson.dumps({"data": [], "layout": {"height": 316}})) == 316
    assert chart_height('{"data": [], "layout": {"height": 320.0}}') == 320


def test_without_a_height_plotly_draws_its_default() -> None:
    assert chart_height(orjson.dumps({"data": [], "layout": {}})) == PLOTLY_DEFAULT_HEIGHT
    assert chart_height(orjson.dumps({"data": []})) == PLOTLY_DEFAULT_HEIGHT == 450
