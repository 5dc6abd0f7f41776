"""Signals of the assessments app.

`mastery_changed` is sent after a write of scores, estimates or overrides commits, with
`district_ids` and `section_ids`: pages that cache levels and missing work (dashboard.cache)
retire what they hold for those whole districts, and for those sections. A write that knows the
students it touched names their sections only (mastery_changed_for_students_on_commit), so that a
district's other sections keep what they cached; bulk writes name their districts.
"""

import logging
from collections.abc import Iterable

from django.db import DatabaseError, transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

mastery_changed = Signal()


def mastery_changed_on_commit(district_ids: Iterable[int]) -> None:
    """Send `mastery_changed` once the current transaction commits (at once outside one):
    readers that saw the old rows cached them under what the receivers then retire."""
    ids = set(district_ids)
    if ids:
        transaction.on_commit(
            lambda: mastery_changed.send(sender=None, district_ids=ids, section_ids=set())
        )


def mastery_changed_for_students_on_commit(
    student_ids: Iterable[int], section_ids: Iterable[int | None] = ()
) -> None:
    """Send `mastery_changed` once the current transaction commits, for the sections any of
    these students is enrolled in then, and `section_ids` (the sections of the assessments
    written). The enrollments are read after commit, so that the write makes no extra query."""
    students = set(student_ids)
    sections = {pk for pk in section_ids if pk is not None}
    if not students and not sections:
        return

    def send() -> None:
        from students.models import Enrollment

        try:
            found = sections | set(
                Enrollment.objects.current()
                .filter(student_id__in=students)
                .values_list("section_id", flat=True)
                .distinct()
            )
        except DatabaseError:
            # The write has committed: it must not fail now. The assessments' own sections are
            # still retired; the rest show their cached levels until they expire (minutes).
            logger.exception("mastery_changed: sections of %s students unreadable", len(students))
            found = sections
        if found:
            mastery_changed.send(sender=None, district_ids=set(), section_ids=found)

    transaction.on_commit(send)
