"""What every importer does for guardians once they are linked to their children.

A guardian's language is the language the family reads. Sources that name none (Ed-Fi 1.x
parents, OneRoster users, contacts with no Language) leave it to this default: the home language
of the guardian's first linked child (the lowest student id among the children with a home
language), set only where the guardian has no language yet. A language a source names later
replaces it (the importers write it); a source naming none never blanks it (they leave it out).
"""

from __future__ import annotations

from collections.abc import Collection

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from students.models import Guardian, GuardianRelationship

# Guardian ids per UPDATE when the caller names them (well under any database's parameter limit).
CHUNK = 5000


def guardian_language_default(
    *,
    district_id: int,
    guardian_ids: Collection[int] | None = None,
    source_system: str | None = None,
) -> int:
    """Give the district's guardians with no language the home language of their first linked
    child: one UPDATE with a subquery (per CHUNK of `guardian_ids` when given), never a query
    per guardian. Scoped to `guardian_ids` (those an import just linked) and/or to guardians
    with an active relationship from `source_system` (all of an import's links, in one
    statement). Returns how many guardians were given a language."""
    linked = GuardianRelationship.objects.filter(
        guardian_id=OuterRef("pk"), is_active=True
    ).exclude(student__home_language="")
    scope = linked.filter(source_system=source_system) if source_system is not None else linked
    first_language = Subquery(linked.order_by("student_id").values("student__home_language")[:1])
    blank = Guardian.objects.filter(district_id=district_id, language="").filter(Exists(scope))
    now = timezone.now()
    if guardian_ids is None:
        return blank.update(language=first_language, updated_at=now)
    ids = sorted(guardian_ids)
    return sum(
        blank.filter(pk__in=ids[start : start + CHUNK]).update(
            language=first_language, updated_at=now
        )
        for start in range(0, len(ids), CHUNK)
    )
