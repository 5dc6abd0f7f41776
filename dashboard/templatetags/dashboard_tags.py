"""Template helpers of the dashboard."""

from django import template
from django.utils.html import _json_script_escapes, format_html
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def json_bytes_script(serialized: bytes, element_id: str) -> SafeString:
    """json_script for JSON serialized once already (orjson bytes): the same escaping of <, >
    and &, the same <script type="application/json"> element, no second serialization."""
    text = serialized.decode() if isinstance(serialized, bytes) else str(serialized)
    return format_html(
        '<script id="{}" type="application/json">{}</script>',
        element_id,
        mark_safe(text.translate(_json_script_escapes)),  # noqa: S308 - escaped as json_script
    )
