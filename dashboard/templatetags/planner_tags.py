"""Template helpers of the lesson plan pages: a material's kind in words and the upload limit."""

from django import template
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from assessments.models import Standard, standard_short_code
from lessons.models import PlanMaterial
from lessons.services import ALLOWED_IN_WORDS, ALLOWED_MATERIAL_TYPES, PLAIN_TEXT

register = template.Library()

# What the file input suggests in the browser's chooser (the server checks the content anyway).
ACCEPTED_FILE_TYPES = ",".join(
    [".pdf", "image/*", ".docx", ".pptx", ".xlsx", ".txt", "text/plain", *ALLOWED_MATERIAL_TYPES]
)


@register.filter
def material_kind(material: PlanMaterial) -> str:
    """The kind its content was found to be, in words: "PDF", "PNG image", "Plain text"..."""
    if material.content_type == PLAIN_TEXT:
        return "Plain text"
    return ALLOWED_MATERIAL_TYPES.get(material.content_type, material.content_type or "File")


@register.simple_tag
def material_upload_limit() -> str:
    """The largest file a plan takes, in words ("10.0 MB")."""
    return str(filesizeformat(settings.TRELLIS_LESSON_UPLOAD_MAX_BYTES))


@register.simple_tag
def material_kinds_accepted() -> str:
    return ALLOWED_IN_WORDS


@register.simple_tag
def material_accept_attribute() -> str:
    return ACCEPTED_FILE_TYPES


@register.filter
def short_code(standard: Standard) -> str:
    """The code a teacher knows ("4.NF.A.1" for CCSS.MATH.CONTENT.4.NF.A.1), as the section
    page and the standard picker show it."""
    return standard_short_code(standard.code)
