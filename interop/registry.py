"""Importers by format. An importer module registers itself when the interop app is ready:

    from interop.registry import Importer, register_importer
    register_importer(Importer(format="edfi", label="Ed-Fi", run=edfi_import))

`run(context)` reads `context.source`, writes through interop.upsert (or services of the apps),
adds errors to `context.report.errors` and counts to `context.report`, and reports progress on
`context.progress`. It never commits or rolls back: interop.services.import_execute wraps it in
one transaction and rolls it back on any error or in a dry run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from interop.progress import Progress
    from interop.report import ImportReport
    from interop.sources import ImportSource


@dataclass
class ImportContext:
    source: ImportSource
    report: ImportReport
    progress: Progress
    dry_run: bool = False
    # The district to import into; importers that read it from the data may leave it None.
    district_id: int | None = None
    acting_user_id: int | None = None
    # Work to do only if the import commits (set by the importer, run by import_execute).
    after_commit: list[Callable[[], object]] = field(default_factory=list)


@dataclass(frozen=True)
class Importer:
    format: str
    label: str
    run: Callable[[ImportContext], None]
    # What the upload page accepts, e.g. ".zip".
    accepts: str = ".zip"


IMPORTERS: dict[str, Importer] = {}


def register_importer(importer: Importer) -> None:
    if importer.format in IMPORTERS and IMPORTERS[importer.format] is not importer:
        raise ValueError(f"An importer for {importer.format!r} is already registered.")
    IMPORTERS[importer.format] = importer


def importer_for(format: str) -> Importer:
    try:
        return IMPORTERS[format]
    except KeyError:
        known = ", ".join(sorted(IMPORTERS)) or "none"
        raise ValueError(f"No importer for format {format!r} (known: {known}).") from None
