"""Signals of the assessments app.

`mastery_changed` is sent after a write of scores, estimates or overrides commits, with
`district_ids` and `section_ids`: pages that cache levels and missing work (dashboard.cache)
retire what they hold for those whole districts, and for those sections. A write that knows the
students it touched names their sections only (mastery_changed_for_students_on_commit), so that a
district's other sections keep what they cached; bulk writes name their districts.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

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


ENROLLMENT_READ_CHUNK = 5000


@dataclass
class _Retire:
    """What a transaction's writes asked to retire. Each write registers a commit callback of its
    own, but they share one _Retire: the first callback to run sends it all, the rest find it
    sent. So a bulk load that recomputes in many batches retires each section once, not once per
    batch. (A write in a savepoint that rolls back may still be in it: retiring too much only
    costs cache misses.)"""

    students: set[int] = field(default_factory=set)
    sections: set[int] = field(default_factory=set)
    sent: bool = False

    def send(self) -> None:
        from students.models import Enrollment

        if self.sent:
            return
        self.sent = True
        found = set(self.sections)
        ordered = sorted(self.students)
        try:
            for start in range(0, len(ordered), ENROLLMENT_READ_CHUNK):
                found.update(
                    Enrollment.objects.current()
                    .filter(student_id__in=ordered[start : start + ENROLLMENT_READ_CHUNK])
                    .values_list("section_id", flat=True)
                    .distinct()
                )
        except DatabaseError:
            # The write has committed: it must not fail now. The assessments' own sections are
            # still retired; the rest show their cached levels until they expire (minutes).
            logger.exception("mastery_changed: sections of %s students unreadable", len(ordered))
        if found:
            mastery_changed.send(sender=None, district_ids=set(), section_ids=found)


def _pending_retire() -> _Retire | None:
    """The unsent retire of the current transaction, if a write registered one."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    # Django keeps the transaction's commit callbacks as (savepoint ids, callback, robust).
    for _, callback, _ in connection.run_on_commit:
        retire = getattr(callback, "__self__", None)  # the bound method _Retire.send
        if isinstance(retire, _Retire) and not retire.sent:
            return retire
    return None


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
    retire = _pending_retire() or _Retire()
    retire.students |= students
    retire.sections |= sections
    transaction.on_commit(retire.send)
