"""Run an Ed-Fi import: order the files, read each in passes, load, and commit all or nothing.
A large load reads (parses and maps) in a forked second process while this one loads
(interop.edfi.relay); both give the loader the same events in the same order."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol, cast

from django.conf import settings
from lxml import etree

from accounts.services import derived_access_sync
from assessments.services import mastery_recompute_enqueue
from interop.edfi import v1, v52
from interop.edfi.loader import SOURCE_SYSTEM, Loader
from interop.edfi.records import decode_event, encode_event
from interop.edfi.refs import IdMap, Problem
from interop.edfi.relay import Event, relay_available, relayed
from interop.edfi.xml import (
    NAMESPACES,
    NS_V1,
    NS_V52,
    ReadContext,
    RecordError,
    iter_top_elements,
    read_head,
)
from interop.progress import Progress
from interop.registry import ImportContext
from interop.report import ImportReport
from interop.signals import records_imported_on_commit
from interop.sources import CountingReader, ImportSource, RecordTooLarge, max_record_bytes
from students.models import District

if TYPE_CHECKING:
    from interop.edfi.records import Rec
    from interop.edfi.xml import Node

FORMAT = "edfi"
CONTROL_FORMAT = "a control line reads edfi-xml,<Interchange>,<file>"
# A control line names one file: no longer than a path may be (PATH_MAX). A control file lists
# the interchange files (Daybreak's, 29 lines, is 1,920 bytes): 1 MiB is thousands of lines.
CONTROL_LINE_CHARS = 4096
CONTROL_FILE_BYTES = 1024 * 1024


@dataclass
class PlannedFile:
    name: str
    root: str
    namespace: str
    size: int
    passes: list[set[str]] = field(default_factory=list)


class _Version(Protocol):
    """What service reads of a version's module (interop.edfi.v1 or v52)."""

    READERS: dict[str, Callable[[Node], list[Rec]]]
    NOT_KEPT: dict[str, str]
    PASSES: dict[str, list[set[str]]]
    ORDER: list[str]
    DISTRICT_ROOTS: set[str]
    DISTRICT_ELEMENTS: set[str]

    def local_education_agency(self, node: Node) -> tuple[str, str, str] | None: ...


def _mapping(namespace: str) -> _Version:
    return v1 if namespace == NS_V1 else v52


def control_file_name(line: str) -> str | None:
    """The file a control line names (`edfi-xml,<Interchange>,<file>`, spaces allowed around
    each part), or None when the line is not of that form. Split at its first two commas, not
    matched with a pattern: linear in the line's length whatever the line holds."""
    parts = line.split(",", 2)
    if len(parts) != 3 or parts[0].strip() != "edfi-xml":
        return None
    interchange, name = parts[1].strip(), parts[2].strip()
    if not (interchange.isascii() and interchange.isalpha()) or not name:
        return None
    return Path(name).name


def _control_order(source: ImportSource, report: ImportReport) -> list[str] | None:
    """The files in the order the control file lists them, each once. A control file larger
    than CONTROL_FILE_BYTES is not read; any other is read as a stream, a line at a time: a line
    longer than CONTROL_LINE_CHARS is an error, and one longer than a record (max_record_bytes)
    stops the read there."""
    controls = [n for n in source.names() if n.lower().endswith(".ctl")]
    if not controls:
        return None
    control = controls[0]
    names: dict[str, None] = {}
    size = source.size(control)
    if size > CONTROL_FILE_BYTES:
        report.errors.add(
            file=control,
            line=None,
            column="",
            message=f"the control file is {size:,} bytes; a control file lists the interchange "
            f"files and is at most {CONTROL_FILE_BYTES:,} bytes: it is not read",
        )
        return []
    number = 0
    with source.open_binary(control) as handle:
        counter = CountingReader(handle, record_limit=max_record_bytes())
        text = io.TextIOWrapper(io.BufferedReader(counter), encoding="utf-8-sig")
        try:
            for number, raw in enumerate(text, start=1):
                counter.record_start = counter.bytes_read
                if not raw.strip() or raw.lstrip().startswith("#"):
                    continue
                if len(raw) > CONTROL_LINE_CHARS:
                    report.errors.add(
                        file=control,
                        line=number,
                        column="",
                        message=f"a control line longer than {CONTROL_LINE_CHARS:,} characters "
                        "(a line names one file)",
                    )
                    continue
                name = control_file_name(raw)
                if name is None:
                    report.errors.add(
                        file=control,
                        line=number,
                        column="",
                        message=CONTROL_FORMAT,
                        value=raw.rstrip("\r\n"),
                    )
                elif not source.has(name):
                    report.errors.add(
                        file=control, line=number, column="", message=f"{name} is not in the upload"
                    )
                else:
                    names.setdefault(name)
        except RecordTooLarge as exc:
            report.errors.add(
                file=control,
                line=number + 1,
                column="",
                message=f"a line {exc}: the rest of the control file is not read",
            )
        except UnicodeDecodeError as exc:
            report.errors.add(
                file=control,
                line=number + 1,
                column="",
                message=f"not UTF-8 text ({exc.reason}) at or after this line: "
                "the rest of the control file is not read",
            )
    return list(names)


def plan_files(source: ImportSource, report: ImportReport) -> list[PlannedFile]:
    """Every interchange file with its root, in control-file order, else by dependency; files
    the control file leaves out are read after those it lists (and say so in the report)."""
    planned: dict[str, PlannedFile] = {}
    for name in source.names():
        if not name.lower().endswith(".xml"):
            continue
        try:
            with source.open_binary(name) as handle:
                head = read_head(handle)
        except etree.XMLSyntaxError as exc:
            report.errors.add(
                file=name, line=exc.lineno, column="", message=f"not well-formed XML: {exc.msg}"
            )
            continue
        except RecordTooLarge as exc:
            report.errors.add(
                file=name, line=exc.line, column="", message=f"the root element's start tag {exc}"
            )
            continue
        if head.namespace not in NAMESPACES:
            report.errors.add(
                file=name,
                line=1,
                column=head.root,
                message=(
                    f"namespace {head.namespace or '(none)'!r} is not Ed-Fi 1.x ({NS_V1}) "
                    f"nor Ed-Fi 5.2 ({NS_V52})"
                ),
            )
            continue
        passes = _mapping(head.namespace).PASSES.get(head.root)
        if passes is None:
            report.notes.append(
                f"skipped {name}: {head.root} is not an interchange this import reads"
            )
            continue
        planned[name] = PlannedFile(name, head.root, head.namespace, source.size(name), passes)
    order = _control_order(source, report)
    listed = [planned[n] for n in (order or []) if n in planned]
    rest = [p for n, p in planned.items() if order is None or n not in order]

    def dependency(plan: PlannedFile) -> tuple[int, str]:
        return (_mapping(plan.namespace).ORDER.index(plan.root), plan.name)

    rest.sort(key=dependency)
    if order is not None and rest:
        report.notes.append(
            "Not listed in the control file, read after the listed files: "
            + ", ".join(p.name for p in rest)
        )
    return listed + rest


def _district_for(
    source: ImportSource, plans: list[PlannedFile], report: ImportReport, district: District | None
) -> District | None:
    """The district the files describe (their one local education agency), created or updated;
    without one in the files, the given district or the only Ed-Fi district Trellis holds."""
    found: list[tuple[str, str, str, PlannedFile, int | None]] = []
    for plan in plans:
        reader = _mapping(plan.namespace)
        if plan.root not in reader.DISTRICT_ROOTS:
            continue
        with source.open_binary(plan.name) as handle:
            try:
                for node in iter_top_elements(handle, reader.DISTRICT_ELEMENTS):
                    lea = reader.local_education_agency(node)
                    if lea is not None:
                        found.append((*lea, plan, node.line))
            except (etree.XMLSyntaxError, RecordTooLarge):
                continue  # reported when the file is read
    if len({f[0] for f in found}) > 1:
        for org_id, _name, _state, plan, line in found[1:]:
            report.errors.add(
                file=plan.name,
                line=line,
                column="LocalEducationAgency",
                message=(
                    f"a second local education agency {org_id!r}: import one district at a time"
                ),
            )
        return None
    if found and district is not None:
        # An upload into a chosen district: the files' agency is that district.
        if district.source_id and district.source_id != found[0][0]:
            report.notes.append(
                f"the files' local education agency {found[0][0]!r} was imported into "
                f"{district.name}, the district chosen for the import"
            )
        return district
    if found:
        org_id, name, state, _plan, _line = found[0]
        existing = District.objects.filter(source_system=SOURCE_SYSTEM, source_id=org_id).first()
        if existing is None:
            report.count("districts", created=1)
            return District.objects.create(
                source_system=SOURCE_SYSTEM, source_id=org_id, name=name, state_code=state[:2]
            )
        if (existing.name, existing.state_code) != (name, state[:2]):
            existing.name, existing.state_code = name, state[:2]
            existing.save(update_fields=["name", "state_code", "updated_at"])
            report.count("districts", updated=1)
        else:
            report.count("districts", unchanged=1)
        return existing
    if district is not None:
        return district
    candidates = list(District.objects.filter(source_system=SOURCE_SYSTEM)[:2])
    if len(candidates) == 1:
        return candidates[0]
    report.errors.add(
        file=source.name,
        line=None,
        column="",
        message="no local education agency in the files and no single Ed-Fi district in Trellis",
    )
    return None


def _lea_ids(source: ImportSource, plans: list[PlannedFile]) -> set[str]:
    ids = set()
    for plan in plans:
        reader = _mapping(plan.namespace)
        if plan.root in reader.DISTRICT_ROOTS:
            with source.open_binary(plan.name) as handle:
                try:
                    for node in iter_top_elements(handle, reader.DISTRICT_ELEMENTS):
                        lea = reader.local_education_agency(node)
                        if lea is not None:
                            ids.add(lea[0])
                except (etree.XMLSyntaxError, RecordTooLarge):
                    continue  # reported when the file is read
    return ids


# How often (in elements) the reading tells its position, for the progress bar.
PROGRESS_EVERY = 256
# Loads from this many bytes of XML read in a second process (interop.edfi.relay): below it,
# the fork costs more than the overlap saves.
RELAY_MIN_BYTES = 1024 * 1024


def _read_events(
    source: ImportSource, plans: list[PlannedFile], ctx: ReadContext
) -> Iterator[Event]:
    """Read every planned file, pass by pass, as a stream of events for _load_events: the
    records each element maps to, and what the report and the progress bar need to hear.
    Reads files only (no database), so that it can run in a second process."""
    for number, plan in enumerate(plans):
        yield ("file", number)
        reader = _mapping(plan.namespace)
        ctx.file = plan.name
        read_anywhere = set().union(*plan.passes)
        for pass_number, elements in enumerate(plan.passes):
            yield ("pass",)
            with source.open_binary(plan.name) as raw:
                counter = CountingReader(raw)
                # The first pass sees every element, to report those this import does not read.
                wanted = None if pass_number == 0 else set(elements)
                read = 0
                try:
                    for node in iter_top_elements(cast(IO[bytes], counter), wanted, ctx=ctx):
                        read += 1
                        if read % PROGRESS_EVERY == 0:
                            yield ("at", counter.bytes_read)
                        if node.tag not in elements:
                            if pass_number == 0 and node.tag not in read_anywhere:
                                reason = reader.NOT_KEPT.get(node.tag, "not read by this importer")
                                yield ("not_read", f"{node.tag} ({reason})")
                            continue
                        if node.tag in reader.NOT_KEPT:
                            yield ("not_kept", f"{node.tag} ({reader.NOT_KEPT[node.tag]})")
                            continue
                        if ctx.ids is not None:
                            # References given by ref get the identity of the element they name.
                            problems = ctx.ids.expand(node, plan.name)
                            if problems:
                                for problem in problems:
                                    yield ("error", problem.line, problem.column, problem.message)
                                continue
                        try:
                            records = reader.READERS[node.tag](node)
                        except RecordError as exc:
                            column = f"{node.tag}/{exc.path}" if exc.path else node.tag
                            yield ("error", node.line, column, str(exc))
                            continue
                        for record in records:
                            yield ("rec", record)
                except etree.XMLSyntaxError as exc:
                    yield ("error", exc.lineno, "", f"not well-formed XML: {exc.msg}")
                    break  # the rest of this file is not read
                except RecordTooLarge as exc:
                    message = f"an element {exc}: the rest of the file is not read"
                    yield ("error", exc.line, "", message)
                    break
            yield ("pass_end",)
        else:
            yield ("file_end",)


def _load_events(
    events: Iterable[Event],
    plans: list[PlannedFile],
    loader: Loader,
    progress: Progress,
    ctx: ReadContext,
) -> None:
    """Load what _read_events read: records into the loader (flushed as batches fill and at the
    end of each pass), the rest into the report and the progress bar."""
    plan = plans[0] if plans else None
    kinds_of_pass: list[str] = []
    rows_before = done_before = 0
    report = loader.report
    for event in events:
        tag = event[0]
        if tag == "rec":
            record = event[1]
            if record.kind not in kinds_of_pass:
                kinds_of_pass.append(record.kind)
            loader.add(record)
            loader.flush([record.kind])
        elif tag == "at":
            progress.advance(loader.rows - rows_before, done_before + event[1])
            if plan is not None and plan.size:
                loader.file_read(event[1] / plan.size)
        elif tag == "error":
            _, line, column, message = event
            file = plan.name if plan is not None else ""
            report.errors.add(file=file, line=line, column=column, message=message)
        elif tag == "not_read":
            loader.not_read(event[1])
        elif tag == "not_kept":
            loader.not_kept[event[1]] += 1
        elif tag == "file":
            plan = plans[event[1]]
            loader.file = plan.name
            progress.file_started(plan.name, plan.size * len(plan.passes))
            rows_before, done_before = loader.rows, 0
        elif tag == "pass":
            kinds_of_pass = []
            loader.pass_started()
        elif tag == "pass_end" and plan is not None:
            loader.flush(kinds_of_pass, force=True)
            done_before += plan.size
        elif tag == "file_end":
            loader.resolve_links(final=False)
            # The position is told every PROGRESS_EVERY elements: the file's last rows since.
            progress.advance(loader.rows - rows_before, done_before)
            progress.file_finished()
        elif tag == "mappings":
            ctx.mappings, ctx.mappings_not_kept = event[1], event[2]


def _read_and_load(
    source: ImportSource,
    plans: list[PlannedFile],
    loader: Loader,
    progress: Progress,
    ctx: ReadContext,
) -> None:
    """Read and load every planned file. A large load reads in a second process (parsing and
    mapping on one core while the loader writes on the other), a small one in this process;
    both give the loader the same events in the same order."""
    if not _relay_pays(plans):
        _load_events(_read_events(source, plans, ctx), plans, loader, progress, ctx)
        return

    def produce() -> Iterator[Event]:
        # The child opens the source again: a zip's file offset is not shared with this process.
        with ImportSource(source.path) as own:
            yield from _read_events(own, plans, ctx)
        yield ("mappings", ctx.mappings, ctx.mappings_not_kept)

    _load_events(relayed(produce, encode_event, decode_event), plans, loader, progress, ctx)


def _relay_pays(plans: list[PlannedFile]) -> bool:
    if not relay_available() or not getattr(settings, "TRELLIS_EDFI_READ_IN_CHILD", True):
        return False
    return sum(p.size * len(p.passes) for p in plans) >= RELAY_MIN_BYTES


def edfi_run(context: ImportContext) -> None:
    """The Ed-Fi importer (interop.registry): read every interchange file of the source into
    Trellis inside import_execute's transaction. Errors are collected, never raised; any error
    (or a dry run) makes import_execute roll everything back."""
    report, source, progress = context.report, context.source, context.progress
    plans = plan_files(source, report)
    if not plans and not report.errors:
        report.errors.add(
            file=source.name, line=None, column="", message="no Ed-Fi interchange files found"
        )
        return
    progress.overall(sum(p.size * len(p.passes) for p in plans))
    given = District.objects.filter(pk=context.district_id).first() if context.district_id else None
    target = _district_for(source, plans, report, given)
    if target is None or report.errors:
        return
    loader = Loader(report=report, district=target, lea_ids=_lea_ids(source, plans))
    id_problems: list[tuple[str, Problem]] = []
    ids = IdMap.collect(source, [(p.name, p.namespace) for p in plans], id_problems)
    for file, problem in id_problems:
        _report_problems(report, file, [problem])
    ctx = ReadContext(ids)
    if ids is not None:
        report.notes.append(
            f"references by ref: {len(ids.entries):,} ids read from {len(ids.files)} file(s)"
        )
    _read_and_load(source, plans, loader, progress, ctx)
    loader.flush_scores()
    loader.resolve_links(final=True)
    loader.keys_restore()
    _summarize(loader, report)
    _report_mappings(ctx, report)
    # Teachers' and guardians' access follows the new rosters once the import commits.
    if not context.dry_run:
        context.after_commit.append(lambda: derived_access_sync())
        # One recompute per affected (student, standard), enqueued on commit.
        estimate_ids = sorted(loader.estimate_ids)
        context.after_commit.append(lambda: mastery_recompute_enqueue(estimate_ids))
        context.after_commit.append(
            lambda: records_imported_on_commit(district_id=target.pk, report=report)
        )


def edfi_import(
    *,
    path: str | Path,
    dry_run: bool = False,
    progress: Progress | None = None,
    district_id: int | None = None,
) -> ImportReport:
    """Import a folder or zip of Ed-Fi interchange files, all or nothing (see edfi_run)."""
    from interop.services import import_execute

    return import_execute(
        format=FORMAT, path=path, dry_run=dry_run, progress=progress, district_id=district_id
    )


def _report_problems(report: ImportReport, file: str, problems: list[Problem]) -> None:
    for problem in problems:
        report.errors.add(
            file=file, line=problem.line, column=problem.column, message=problem.message
        )


def _report_mappings(ctx: ReadContext, report: ImportReport) -> None:
    """Descriptors read as Trellis's values: (file, element, as written, as read) with counts."""
    for (file, column, found, read_as), count in ctx.mappings.items():
        report.mapped(file, column, found, read_as, count)
    if ctx.mappings_not_kept:
        report.notes.append(
            f"descriptors: {ctx.mappings_not_kept:,} more values mapped, of kinds the report does "
            f"not list (it lists {len(ctx.mappings):,})"
        )


def _summarize(loader: Loader, report: ImportReport) -> None:
    for entity, count in sorted(loader.merged.items()):
        report.notes.append(
            f"{entity}: {count} repeat(s) of an earlier record, identical, merged into it"
        )
    for entity, count in sorted(loader.differing.items()):
        report.notes.append(
            f"{entity}: {count} repeat(s) of an earlier record's key with other values; "
            "the first one was kept"
        )
    for what, count in sorted(loader.not_kept.items()):
        report.notes.append(f"not kept as records: {count} {what}")
    if loader.other_not_kept:
        report.notes.append(
            f"not kept as records: {loader.other_not_kept} elements of kinds not listed here "
            f"(the report names {len(loader.not_kept)} kinds)"
        )
    if loader.languages_defaulted:
        report.notes.append(
            f"guardians: {loader.languages_defaulted} with no language of their own given "
            "their first child's home language"
        )
    for message, count in sorted(loader.warnings.items()):
        report.notes.append(f"warning: {message}" + (f" (x{count})" if count > 1 else ""))
    if loader.other_warnings:
        report.notes.append(
            f"warning: {loader.other_warnings} more warnings of kinds not listed here "
            f"(the report lists {len(loader.warnings)} kinds)"
        )
