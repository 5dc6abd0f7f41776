"""Districts' drop folders: exports a student information system leaves on the server (usually
by SFTP), imported without anyone uploading them.

A district's folder is `District.import_drop_folder`. Celery beat polls every folder
(interop.tasks.drop_folders_poll_task); `manage.py poll_drop_folders` polls now. What a poll
takes from the top of the folder:

- a `.zip`: a OneRoster export (it holds manifest.csv) or Ed-Fi XML interchange files;
- a sub-folder: the same, unzipped (OneRoster CSVs with manifest.csv, or Ed-Fi XML files);
- loose `.xml`, `.csv` and `.ctl` files at the top: one load together (name `.`), as Ed-Fi
  files that refer to each other must be.

Names starting with a dot and names ending .part, .tmp, .filepart, .partial or .crdownload are
files still being written (what SFTP clients and rsync write first, then rename): skipped, and a
folder holding one waits for it. Anything else at the top (a readme) is left alone.

Each version of an entry (its name, total size and latest modification time, then its content's
SHA-256) is imported once, by one run (interop.models.DroppedFile; a unique constraint and a
claim in one UPDATE hold it when two polls run at once). An entry is taken only once it is
complete: seen unchanged by an earlier poll, and not modified for
TRELLIS_DROP_FOLDER_SETTLE_SECONDS (60). It is then copied, hashed as it is read, into the
imports' own folder (MEDIA_ROOT/imports), so that the import reads a copy that cannot change under
it, and the run is queued like an upload's (origin "drop_folder", source_name the entry's name).
The dropped file itself stays where it is: the district's system owns its folder. The same name
with the same content as its last successful import is not imported again.

Paths stay inside the folder: symbolic links are refused (a link out of the folder, or to
anything), and every file is opened relative to the folder's own descriptor, component by
component, without following links, so that a link swapped in after the listing is refused too.
An entry larger than the upload limit (TRELLIS_MAX_IMPORT_UPLOAD_BYTES) is refused with a failed
run. A failed run is emailed to district IT (interop.notices).
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.celery_app import publish_on_commit
from interop.models import DroppedFile, DroppedFileStatus, ImportOrigin, ImportRun, ImportStatus
from interop.notices import import_failure_notices_resend, import_failure_notify
from interop.registry import IMPORTERS
from interop.services import UPLOAD_DIR, import_run_create, import_run_execute
from interop.sources import ImportSource, SourceError
from interop.uploads import max_upload_bytes, too_large_message
from students.models import District

logger = logging.getLogger(__name__)

PARTIAL_SUFFIXES = (".part", ".tmp", ".filepart", ".partial", ".crdownload")
LOOSE_SUFFIXES = (".xml", ".csv", ".ctl")
# The entry of the loose files at the top of the folder.
LOOSE_ENTRY = "."
DEFAULT_SETTLE_SECONDS = 60
# A claim older than this (its poll died while copying) may be taken again.
CLAIM_TIMEOUT = timedelta(hours=1)
CHUNK_BYTES = 1024 * 1024


def settle_seconds() -> int:
    """How long an entry must have gone unmodified before it is taken."""
    return int(getattr(settings, "TRELLIS_DROP_FOLDER_SETTLE_SECONDS", DEFAULT_SETTLE_SECONDS))


class PathRefused(Exception):
    """A path that would leave the drop folder (.., an absolute path, a symbolic link)."""


class EntryChanged(Exception):
    """The entry changed while it was being copied: it is taken at a later poll."""


@dataclass(frozen=True)
class Entry:
    """One importable thing at the top of a drop folder."""

    name: str
    kind: str  # "zip" or "folder" (a sub-folder, or the loose files)
    files: tuple[str, ...]  # paths relative to the drop folder, one level deep at most
    size: int
    mtime_ns: int


@dataclass
class EntryOutcome:
    """What a poll did with one entry: `action` is waiting, queued (a run was created),
    done (this version had its run already), duplicate, busy (another poll is copying it),
    refused or ignored."""

    name: str
    action: str
    detail: str = ""
    run_id: int | None = None
    format: str = ""
    status: str = ""  # the run's status, once known


@dataclass
class FolderOutcome:
    district_id: int
    district: str
    folder: str
    entries: list[EntryOutcome] = field(default_factory=list)
    error: str = ""

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def _is_partial(name: str) -> bool:
    return name.startswith(".") or name.lower().endswith(PARTIAL_SUFFIXES)


# --- Confinement: every path is opened relative to the folder, one component at a time.


def _components(relative: str) -> list[str]:
    parts = relative.split("/")
    if relative.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise PathRefused(f"{relative!r} is not a path inside the drop folder.")
    return parts


@contextmanager
def open_confined(root: Path, relative: str) -> Iterator[IO[bytes]]:
    """Open a regular file of the drop folder for reading, refusing any path that leaves it:
    `..`, absolute paths, and symbolic links at any step (O_NOFOLLOW), even one swapped in
    after the folder was listed. O_NONBLOCK: a FIFO put in place of a file cannot hang the
    poll (and is refused as not a regular file)."""
    parts = _components(relative)
    opened: list[int] = [os.open(root, os.O_RDONLY | os.O_DIRECTORY)]
    try:
        for part in parts[:-1]:
            try:
                opened.append(
                    os.open(
                        part,
                        os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW,
                        dir_fd=opened[-1],
                    )
                )
            except OSError as exc:
                raise PathRefused(
                    f"{relative}: {part} is not a folder inside the drop folder."
                ) from exc
        try:
            descriptor = os.open(
                parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=opened[-1]
            )
        except OSError as exc:
            raise PathRefused(
                f"{relative} cannot be opened as a file of the drop folder: {exc.strerror}."
            ) from exc
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise PathRefused(f"{relative} is not a regular file.")
        with os.fdopen(descriptor, "rb") as handle:
            yield handle
    finally:
        for descriptor in opened:
            os.close(descriptor)


# --- Listing.


def _folder_entry(root: Path, name: str) -> Entry | EntryOutcome | None:
    """A sub-folder's entry; an outcome when it must wait or is refused; None when empty."""
    files: list[str] = []
    size = 0
    mtime_ns = os.stat(root / name, follow_symlinks=False).st_mtime_ns
    with os.scandir(root / name) as listing:
        for item in sorted(listing, key=lambda item: item.name):
            if item.is_symlink():
                return EntryOutcome(
                    name, "refused", f"holds a symbolic link ({item.name}): links are not followed"
                )
            if _is_partial(item.name):
                return EntryOutcome(name, "waiting", f"{item.name} is still being written")
            if not item.is_file(follow_symlinks=False):
                continue
            info = item.stat(follow_symlinks=False)
            files.append(f"{name}/{item.name}")
            size += info.st_size
            mtime_ns = max(mtime_ns, info.st_mtime_ns)
    if not files:
        return None
    return Entry(name, "folder", tuple(files), size, mtime_ns)


def drop_folder_list(root: Path) -> tuple[list[Entry], list[EntryOutcome]]:
    """The folder's importable entries, and what it holds that will not be imported now."""
    entries: list[Entry] = []
    others: list[EntryOutcome] = []
    loose: list[tuple[str, os.stat_result]] = []
    loose_partial = ""
    with os.scandir(root) as listing:
        items = sorted(listing, key=lambda item: item.name)
    for item in items:
        name = item.name
        if _is_partial(name):
            if name.lower().rsplit(".", 1)[0].endswith(LOOSE_SUFFIXES):
                loose_partial = name
            continue
        if item.is_symlink():
            others.append(
                EntryOutcome(name, "refused", "a symbolic link: only what is in the folder is read")
            )
        elif item.is_dir(follow_symlinks=False):
            found = _folder_entry(root, name)
            if isinstance(found, Entry):
                entries.append(found)
            elif found is not None:
                others.append(found)
        elif item.is_file(follow_symlinks=False):
            info = item.stat(follow_symlinks=False)
            if name.lower().endswith(".zip"):
                entries.append(Entry(name, "zip", (name,), info.st_size, info.st_mtime_ns))
            elif name.lower().endswith(LOOSE_SUFFIXES):
                loose.append((name, info))
            else:
                others.append(
                    EntryOutcome(name, "ignored", "not a .zip, a folder or an export file")
                )
    if loose_partial:
        others.append(
            EntryOutcome(LOOSE_ENTRY, "waiting", f"{loose_partial} is still being written")
        )
    elif loose:
        entries.append(
            Entry(
                LOOSE_ENTRY,
                "folder",
                tuple(name for name, _ in loose),
                sum(info.st_size for _, info in loose),
                max(info.st_mtime_ns for _, info in loose),
            )
        )
    return entries, others


def _entry_again(root: Path, entry: Entry) -> Entry | None:
    """The entry as it is now (None: gone or no longer importable)."""
    entries, _ = drop_folder_list(root)
    return next((found for found in entries if found.name == entry.name), None)


# --- Copying (and hashing) an entry for its import.


def _copy_entry(root: Path, entry: Entry) -> tuple[str, str]:
    """Copy the entry into MEDIA_ROOT/imports (a zip, as it was, or a zip of the folder's files,
    stored uncompressed) while hashing what is read: (path relative to MEDIA_ROOT, SHA-256).
    Raises EntryChanged when the entry changed meanwhile, PathRefused for a path that would leave
    the folder."""
    relative = f"{UPLOAD_DIR}/drop-{uuid.uuid4().hex}.zip"
    target = Path(settings.MEDIA_ROOT) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        if entry.kind == "zip":
            with open_confined(root, entry.name) as source, open(target, "wb") as copy:
                _stream(source, digest, copy.write)
        else:
            with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as archive:
                for name in entry.files:
                    digest.update(name.encode() + b"\0")
                    with (
                        open_confined(root, name) as source,
                        archive.open(Path(name).name, "w", force_zip64=True) as member,
                    ):
                        _stream(source, digest, member.write)
        now = _entry_again(root, entry)
        if now is None or (now.size, now.mtime_ns, now.files) != (
            entry.size,
            entry.mtime_ns,
            entry.files,
        ):
            raise EntryChanged(entry.name)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return relative, digest.hexdigest()


def _stream(source: IO[bytes], digest: hashlib._Hash, write: Callable[[bytes], object]) -> None:
    while chunk := source.read(CHUNK_BYTES):
        digest.update(chunk)
        write(chunk)


def detect_format(path: Path) -> str:
    """Which importer reads this export: OneRoster when it holds manifest.csv, Ed-Fi when it
    holds XML files; otherwise the first registered (the upload page's default), whose import
    then says what is wrong with it."""
    default = next(iter(IMPORTERS))
    try:
        with ImportSource(path) as source:
            names = [name.lower() for name in source.names()]
    except SourceError:
        return default
    if "manifest.csv" in names:
        return "oneroster"
    if any(name.endswith(".xml") for name in names) and "edfi" in IMPORTERS:
        return "edfi"
    return default


# --- Polling.


def _display_name(entry_name: str) -> str:
    return "the loose files of the drop folder" if entry_name == LOOSE_ENTRY else entry_name


def _sighting_record(district: District, entry: Entry) -> None:
    """Record the first sighting of this version; earlier unclaimed sightings of the same name
    (the file while it grew) go."""
    try:
        with transaction.atomic():
            DroppedFile.objects.create(
                district=district, name=entry.name, size=entry.size, mtime_ns=entry.mtime_ns
            )
    except IntegrityError:
        return  # another poll recorded it at the same moment
    DroppedFile.objects.filter(
        district=district, name=entry.name, sha256="", status=DroppedFileStatus.WAITING
    ).exclude(size=entry.size, mtime_ns=entry.mtime_ns).delete()


def _run_refused(district: District, row: DroppedFile, entry: Entry, message: str) -> ImportRun:
    """A failed run for an entry refused before it is read (too large), tied to its row."""
    with transaction.atomic():
        run = import_run_create(
            format=next(iter(IMPORTERS)),
            source_name=_display_name(entry.name),
            district_id=district.pk,
            origin=ImportOrigin.DROP_FOLDER,
        )
        run.status = ImportStatus.FAILED
        run.errors = [{"file": entry.name, "line": None, "column": "", "message": message}]
        run.error_total = 1
        run.report = {"ok": False, "errors": run.errors, "error_total": 1, "entities": {}}
        run.started_at = run.finished_at = timezone.now()
        run.save()
        # The hash field says why there is none: the entry was never read.
        DroppedFile.objects.filter(pk=row.pk).update(
            sha256="not-read-too-large", status=DroppedFileStatus.IMPORTED, run=run
        )
    import_failure_notify(run_id=run.pk)
    return run


def _entry_poll(
    district: District, root: Path, entry: Entry, *, run_now: bool, now_ns: int
) -> EntryOutcome:
    outcome = EntryOutcome(entry.name, "waiting")
    versions = DroppedFile.objects.filter(
        district=district, name=entry.name, size=entry.size, mtime_ns=entry.mtime_ns
    )
    taken = versions.exclude(sha256="").first()
    if taken is not None:
        outcome.action = "done" if taken.status == DroppedFileStatus.IMPORTED else taken.status
        outcome.run_id = taken.run_id
        outcome.detail = "this version was taken by an earlier poll"
        return outcome
    sighting = versions.first()
    if sighting is None:
        _sighting_record(district, entry)
        outcome.detail = "new: taken once a later poll finds it unchanged"
        return outcome
    settle_ns = settle_seconds() * 1_000_000_000
    if now_ns - entry.mtime_ns < settle_ns:
        outcome.detail = f"modified less than {settle_seconds()} s ago"
        return outcome
    now = timezone.now()
    claimed = (
        DroppedFile.objects.filter(pk=sighting.pk, sha256="")
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .update(status=DroppedFileStatus.CLAIMED, claimed_at=now)
    )
    if not claimed:
        outcome.action = "busy"
        outcome.detail = "another poll is taking it"
        return outcome
    limit = max_upload_bytes()
    if entry.size > limit:
        run = _run_refused(district, sighting, entry, too_large_message(limit, entry.size))
        outcome.action, outcome.run_id, outcome.status = "queued", run.pk, run.status
        outcome.detail = "refused: too large"
        return outcome
    try:
        copy, sha256 = _copy_entry(root, entry)
    except EntryChanged:
        DroppedFile.objects.filter(pk=sighting.pk).delete()
        outcome.detail = "changed while it was read: taken once it stops changing"
        return outcome
    except (PathRefused, OSError) as exc:
        DroppedFile.objects.filter(pk=sighting.pk).update(
            status=DroppedFileStatus.WAITING, claimed_at=None
        )
        logger.warning("drop folder district=%s entry=%s refused: %s", district.pk, entry.name, exc)
        outcome.action, outcome.detail = "refused", str(exc)
        return outcome
    last = (
        DroppedFile.objects.filter(
            district=district, name=entry.name, status=DroppedFileStatus.IMPORTED
        )
        .select_related("run")
        .order_by("-claimed_at")
        .first()
    )
    if (
        last is not None
        and last.sha256 == sha256
        and last.run is not None
        and last.run.status == ImportStatus.SUCCEEDED
    ):
        (Path(settings.MEDIA_ROOT) / copy).unlink(missing_ok=True)
        DroppedFile.objects.filter(pk=sighting.pk).update(
            sha256=sha256, status=DroppedFileStatus.DUPLICATE
        )
        outcome.action, outcome.run_id = "duplicate", last.run_id
        outcome.detail = f"the same content as its last import (run {last.run_id})"
        return outcome
    format = detect_format(Path(settings.MEDIA_ROOT) / copy)
    try:
        with transaction.atomic():
            run = import_run_create(
                format=format,
                source_name=_display_name(entry.name),
                upload_path=copy,
                district_id=district.pk,
                origin=ImportOrigin.DROP_FOLDER,
            )
            DroppedFile.objects.filter(pk=sighting.pk).update(
                sha256=sha256, status=DroppedFileStatus.IMPORTED, run=run
            )
            if not run_now:
                # A lost message is sent again by interop.tasks.import_sweep.
                from interop.tasks import import_run_task

                publish_on_commit(import_run_task, run.pk)
    except BaseException:
        (Path(settings.MEDIA_ROOT) / copy).unlink(missing_ok=True)
        raise
    logger.info(
        "drop folder district=%s entry=%s format=%s run=%s", district.pk, entry.name, format, run.pk
    )
    outcome.action, outcome.run_id, outcome.format = "queued", run.pk, format
    outcome.status = run.status
    return outcome


def drop_folder_poll(
    *,
    district: District,
    run_now: bool = False,
    say: Callable[[str], object] | None = None,
) -> FolderOutcome:
    """Poll one district's drop folder once (see the module's docstring). With `run_now`, the
    runs it creates are imported here and now (the command), else queued for the workers."""
    say = say or (lambda text: None)
    result = FolderOutcome(district.pk, district.name, district.import_drop_folder)
    if not district.import_drop_folder:
        result.error = "The district has no drop folder."
        return result
    root = Path(district.import_drop_folder)
    if not root.is_absolute() or not root.is_dir():
        result.error = f"{root} is not a folder on this server."
        logger.warning("drop folder district=%s: %s", district.pk, result.error)
        return result
    say(f"{district.name}: polling {root}")
    entries, others = drop_folder_list(root)
    result.entries.extend(others)
    now_ns = time.time_ns()
    for entry in entries:
        outcome = _entry_poll(district, root, entry, run_now=run_now, now_ns=now_ns)
        result.entries.append(outcome)
        if outcome.action == "queued" and run_now and outcome.run_id is not None:
            say(f"  {entry.name}: importing as {outcome.format} (run {outcome.run_id})...")
            run = import_run_execute(run_id=outcome.run_id)
            outcome.status = run.status
            errors = f", {run.error_total:,} errors" if run.error_total else ""
            say(f"  {entry.name}: run {run.pk} {run.status}{errors}")
        else:
            detail = f" ({outcome.detail})" if outcome.detail else ""
            say(f"  {entry.name}: {outcome.action}{detail}")
    for outcome in others:
        say(f"  {outcome.name}: {outcome.action} ({outcome.detail})")
    return result


def drop_folders_poll(
    *,
    district_id: int | None = None,
    run_now: bool = False,
    say: Callable[[str], object] | None = None,
) -> list[FolderOutcome]:
    """Poll every active district's drop folder (or one district's), then send the failure
    notices a mail server's outage held back."""
    districts = District.objects.filter(is_active=True).exclude(import_drop_folder="")
    if district_id is not None:
        districts = District.objects.filter(pk=district_id)
    outcomes = [
        drop_folder_poll(district=district, run_now=run_now, say=say)
        for district in districts.order_by("pk")
    ]
    import_failure_notices_resend()
    return outcomes
