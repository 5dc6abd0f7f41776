"""Signals of the assessments app.

`mastery_changed` is sent after a write of scores, estimates or overrides commits, with
`district_ids` and `section_ids`: pages that cache levels and missing work (dashboard.cache)
retire what they hold for those whole districts, and for those sections. A write that knows the
students it touched names their sections only (mastery_changed_for_students_on_commit), so that a
district's other sections keep what they cached; bulk writes name their districts.

`estimates_changed` is sent after a write that changed shown levels commits (the engine's
recompute, an override set or cleared), with `student_ids` and `since`: the earliest day whose
levels changed (a new history point's date, or today). Rollups recount those students' groups.
Like the retire, a transaction sends it once, however many writes in it registered it.
"""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Protocol, TypeVar

from django.db import DatabaseError, transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

mastery_changed = Signal()
estimates_changed = Signal()


def mastery_changed_on_commit(district_ids: Iterable[int]) -> None:
    """Send `mastery_changed` once the current transaction commits (at once outside one):
    readers that saw the old rows cached them under what the receivers then retire."""
    ids = set(district_ids)
    if ids:
        transaction.on_commit(
            lambda: mastery_changed.send(sender=None, district_ids=ids, section_ids=set())
        )


ENROLLMENT_READ_CHUNK = 5000


class _Notice(Protocol):
    sent: bool


_NoticeKind = TypeVar("_NoticeKind", bound=_Notice)


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
    return _pending(_Retire)


def _pending(kind: type[_NoticeKind]) -> _NoticeKind | None:
    """The unsent notice of this kind that the current transaction registered, if any."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        return None
    # Django keeps the transaction's commit callbacks as (savepoint ids, callback, robust).
    for _, callback, _ in connection.run_on_commit:
        notice = getattr(callback, "__self__", None)  # the bound method send
        if isinstance(notice, kind) and not notice.sent:
            return notice
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


@dataclass
class _EstimatesChanged:
    """The students whose shown levels a transaction's writes changed, and the earliest day
    changed; shared by the transaction's writes as _Retire is, so that it is sent once."""

    students: set[int] = field(default_factory=set)
    since: date | None = None
    sent: bool = False

    def send(self) -> None:
        if self.sent or self.since is None:
            return
        self.sent = True
        estimates_changed.send(sender=None, student_ids=frozenset(self.students), since=self.since)


def estimates_changed_on_commit(student_ids: Iterable[int], *, since: date) -> None:
    """Send `estimates_changed` for these students once the current transaction commits (at
    once outside one). `since`: the earliest day whose levels changed."""
    students = set(student_ids)
    if not students:
        return
    notice = _pending(_EstimatesChanged) or _EstimatesChanged()
    notice.students |= students
    notice.since = since if notice.since is None else min(notice.since, since)
    # Robust: the write has committed; a receiver's failure must not fail it (the rollups'
    # nightly rebuild catches up on anything a lost notice missed).
    transaction.on_commit(notice.send, robust=True)


def estimates_changed_forget() -> int:
    """Drop the notice the current transaction would send (for a caller that has already
    brought everything that reads it up to date in the same transaction, as the demo seed's
    rollup rebuild does). Returns how many students it named."""
    notice = _pending(_EstimatesChanged)
    if notice is None:
        return 0
    notice.sent = True
    return len(notice.students)
