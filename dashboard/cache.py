"""The section page's cached grid, the school and district reports, and the versions (per
district, per section) that retire them.

The grid (the levels grid, the bars' figure, distribution, roster table, the attention list with
its missing work) is the same for every user who may see the section. It is cached per worker
process under a key made of everything the page reads fresh on each request
(dashboard.selectors.SectionInputs: roster, alignments, standards, policy, filters, date) and two
versions, which writes replace after they commit (on the signal
assessments.signals.mastery_changed): the district's, replaced by bulk writes (imports), and the
section's own, replaced by a write of scores, estimates or overrides of its students or its
assessments. A busy district's other sections keep their grids. The versions are read before the
levels, so a grid read during a write is stored under a version that the write then retires.

Versions live in a cache every process shares (the `dashboard_versions` alias: Redis, or files on
one host); the grids in the `dashboard` alias (memory of each process). Permission checks and
the access log are not cached: the view runs them on every request.

The school and district reports (what they compute from the rollups, with their charts, rendered
as HTML without anything of the user's) are kept the same way under `report_versions`: the
district's rollup version, which rollups.signals.rollups_changed replaces after the rows change,
and its mastery version.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.cache import caches

from students.models import Section

logger = logging.getLogger(__name__)

FRAGMENTS = "dashboard"
VERSIONS = "dashboard_versions"
# A lost version change (a cache outage at the wrong moment) shows old levels at most this long.
FRAGMENT_TIMEOUT_S = 600
# Part of every key: a deploy that changes what is cached never reads an older layout.
LAYOUT = 6  # 6: the levels as an HTML grid, the figure the class's bars only

T = TypeVar("T")


def _version_key(district_id: int) -> str:
    return f"dashboard:mastery-version:{district_id}"


def _rollup_version_key(district_id: int) -> str:
    return f"dashboard:rollup-version:{district_id}"


def _section_version_key(section_id: int) -> str:
    return f"dashboard:section-version:{section_id}"


def _tokens(*keys: str) -> tuple[str, ...]:
    """The current token under each key, read in one round trip; a missing one is created."""
    versions = caches[VERSIONS]
    try:
        found = versions.get_many(keys)
        for key in keys:
            if key not in found:
                # A new random token, never a counter from zero: what was cached under a version
                # that was evicted stays unreachable. add(): a concurrent reader's wins.
                versions.add(key, uuid.uuid4().hex, timeout=None)
                found[key] = versions.get(key)
    except Exception:  # the page works without its cache
        logger.exception("dashboard: versions %s unreadable", keys)
        found = {}
    return tuple(found.get(key) or uuid.uuid4().hex for key in keys)


def mastery_version(district_id: int) -> str:
    """The district's current mastery version: a random token, replaced on every bulk change."""
    return _tokens(_version_key(district_id))[0]


def report_versions(district_id: int) -> tuple[str, ...]:
    """What the school and district reports are kept under: the district's rollup version
    (replaced whenever its rollup rows change, rollups.signals.rollups_changed) and its mastery
    version (imports and bulk writes, which change the records the reports name)."""
    return _tokens(_rollup_version_key(district_id), _version_key(district_id))


def rollup_versions_retire(district_ids: Iterable[int] = (), **_: object) -> None:
    """Retire the reports of these districts: the receiver of rollups.signals.rollups_changed,
    sent after the rows' write commits."""
    keys = [_rollup_version_key(pk) for pk in set(district_ids)]
    if not keys:
        return
    try:
        caches[VERSIONS].set_many({key: uuid.uuid4().hex for key in keys}, timeout=None)
    except Exception:  # a write must not fail for the cache; FRAGMENT_TIMEOUT_S bounds it
        logger.exception("dashboard: versions %s not replaced", keys[:10])


def section_versions(section: Section) -> tuple[str, ...]:
    """What a section's cached parts are keyed under: its district's version (replaced by bulk
    writes) and its own (replaced by writes that touch its students or assessments)."""
    return _tokens(
        _version_key(section.district_id),
        _section_version_key(section.pk),
    )


def versions_retire(
    district_ids: Iterable[int] = (), section_ids: Iterable[int] = (), **_: object
) -> None:
    """Retire every cached grid of these districts, and of these sections: the receiver of
    assessments.signals.mastery_changed, sent after the change commits."""
    keys = [_version_key(pk) for pk in set(district_ids)]
    keys += [_section_version_key(pk) for pk in set(section_ids)]
    if not keys:
        return
    try:
        # One round trip to Redis however many sections a recompute batch touched.
        caches[VERSIONS].set_many({key: uuid.uuid4().hex for key in keys}, timeout=None)
    except Exception:  # a write must not fail for the cache; FRAGMENT_TIMEOUT_S bounds it
        logger.exception("dashboard: versions %s not replaced", keys[:10])


def cached(parts: tuple, build: Callable[[], T]) -> T:
    """The value cached under `parts` (hashed), built and stored on a miss."""
    key = (
        "dashboard:grid:"
        + hashlib.blake2b(repr((LAYOUT, parts)).encode(), digest_size=20).hexdigest()
    )
    fragments = caches[FRAGMENTS]
    found = fragments.get(key)
    if found is None:
        found = build()
        fragments.set(key, found, FRAGMENT_TIMEOUT_S)
    return found
