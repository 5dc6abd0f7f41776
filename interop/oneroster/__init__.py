"""OneRoster 1.1 and 1.2 (CSV binding 1.2.1): import, export and a generator of test exports."""

from interop.oneroster.importer import oneroster_import
from interop.registry import Importer, register_importer

register_importer(
    Importer(format="oneroster", label="OneRoster CSV (1.1, 1.2)", run=oneroster_import)
)
