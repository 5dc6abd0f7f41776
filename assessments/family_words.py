"""Mastery as a family reads it, in the active language: the default scale's level names, the
common subjects' names and a standard's parent description. The portal's pages and the alerts'
emails both speak these words, so they are defined once, here."""

from django.utils.translation import get_language, pgettext_lazy

from assessments.methods import Level
from assessments.models import Standard

# The default scale's names (MasteryPolicy.DEFAULT_LEVELS and NO_EVIDENCE), in the page's
# language; a district's own names show as the district wrote them.
LEVEL_NAMES = {
    "Exceeds Mastery": pgettext_lazy("mastery level", "Exceeds Mastery"),
    "Mastery": pgettext_lazy("mastery level", "Mastery"),
    "Near Mastery": pgettext_lazy("mastery level", "Near Mastery"),
    "Below Mastery": pgettext_lazy("mastery level", "Below Mastery"),
    "No Evidence": pgettext_lazy("mastery level", "Not yet measured"),
}
# Subjects as districts commonly name them, in the page's language; any other as written.
SUBJECT_NAMES = {
    "Mathematics": pgettext_lazy("subject", "Mathematics"),
    "English Language Arts": pgettext_lazy("subject", "English Language Arts"),
    "Science": pgettext_lazy("subject", "Science"),
    "Social Studies": pgettext_lazy("subject", "Social Studies"),
}


def level_words(level: Level) -> str:
    """A level's name in the page's language (the default scale's), else the district's own."""
    translated = LEVEL_NAMES.get(level.name)
    return str(translated) if translated is not None else level.name


def subject_words(subject: str) -> str:
    """A subject's name in the page's language where it is a common one, else as written."""
    translated = SUBJECT_NAMES.get(subject)
    return str(translated) if translated is not None else subject


def parent_description(standard: Standard, language: str | None = None) -> str:
    """What the standard asks, in words a family understands, in the given or active language:
    that language's parent description, else the English one, else the standard's own
    description, else its code."""
    code = (language or get_language() or "en").split("-")[0].lower()
    localized = "" if code == "en" else getattr(standard, f"parent_description_{code}", "")
    return localized or standard.parent_description or standard.description or standard.code
