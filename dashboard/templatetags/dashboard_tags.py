"""Template helpers of the dashboard."""

import orjson
from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()
# What json_script escapes, so that the JSON cannot close its <script> element.
JSON_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}
# What plotly.js draws a figure at when its layout names no height.
PLOTLY_DEFAULT_HEIGHT = 450


@register.simple_tag
def json_bytes_script(serialized: bytes, element_id: str) -> SafeString:
    """json_script for JSON serialized once already (orjson bytes): the same escaping of <, >
    and &, the same <script type="application/json"> element, no second serialization."""
    text = serialized.decode() if isinstance(serialized, bytes) else str(serialized)
    return format_html(
        '<script id="{}" type="application/json">{}</script>',
        element_id,
        mark_safe(text.translate(JSON_SCRIPT_ESCAPES)),  # noqa: S308 - escaped as json_script
    )


@register.filter
def chart_height(serialized: bytes | str) -> int:
    """The height in pixels that a serialized figure is drawn at: its chart's box holds it from
    the start (style="min-height: ..."), so that drawing the chart, once plotly.js has arrived,
    moves nothing below it (no layout shift)."""
    layout = orjson.loads(serialized).get("layout") or {}
    return int(layout.get("height") or PLOTLY_DEFAULT_HEIGHT)
