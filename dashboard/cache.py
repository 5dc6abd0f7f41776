"""The section page's cached grid, and the per-district mastery version that retires it.

The grid (chart, levels table, distribution, roster table, the attention list with its missing
work) is the same for every user who may see the section. It is cached per worker process under a
key made of everything the page reads fresh on each request (dashboard.selectors.SectionInputs:
roster, alignments, standards, policy, filters, date) and the district's mastery version, which
every write of scores, estimates or overrides replaces after it commits (on the signal
assessments.signals.mastery_changed). The version is read before the levels,
so a grid read during a write is stored under the version that the write then retires.

Versions live in a cache every process shares (the `dashboard_versions` alias: Redis, or files on
one host); the grids in the `dashboard` alias (memory of each process). Permission checks and
the access log are not cached: the view runs them on every request.
"""

import hashlib
import logging
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.cache import caches

logger = logging.getLogger(__name__)

FRAGMENTS = "dashboard"
VERSIONS = "dashboard_versions"
# A lost version change (a cache outage at the wrong moment) shows old levels at most this long.
FRAGMENT_TIMEOUT_S = 600
# Part of every key: a deploy that changes what is cached never reads an older layout.
LAYOUT = 3

T = TypeVar("T")


def _version_key(district_id: int) -> str:
    return f"dashboard:mastery-version:{district_id}"


def mastery_version(district_id: int) -> str:
    """The district's current mastery version: a random token, replaced on every change."""
    versions = caches[VERSIONS]
    key = _version_key(district_id)
    try:
        token = versions.get(key)
        if token is None:
            # A new random token, never a counter from zero: what was cached under a version
            # that was evicted stays unreachable.
            versions.add(key, uuid.uuid4().hex, timeout=None)
            token = versions.get(key)
    except Exception:  # the page works without its cache
        logger.exception("dashboard: mastery version unreadable")
        token = None
    return token or uuid.uuid4().hex


def versions_retire(district_ids: Iterable[int], **_: object) -> None:
    """Retire every cached section grid of these districts: the receiver of
    assessments.signals.mastery_changed, sent after the change commits."""
    versions = caches[VERSIONS]
    for district_id in set(district_ids):
        try:
            versions.set(_version_key(district_id), uuid.uuid4().hex, timeout=None)
        except Exception:  # a write must not fail for the cache; FRAGMENT_TIMEOUT_S bounds it
            logger.exception("dashboard: mastery version of district %s not replaced", district_id)


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
