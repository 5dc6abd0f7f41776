from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "interop"

    def ready(self) -> None:
        # Importers register themselves on import (interop.registry.IMPORTERS), in this order:
        # the first is the upload page's default format.
        from interop import oneroster  # noqa: F401, I001
        from interop import edfi  # noqa: F401
        from students.inventory import register_records

        register_records(
            "interop.ImportRun",
            category="imports",
            personal=False,
            note=(
                "One import's run: counts by kind and the first errors found; an error may "
                "quote a line of the file, but no row belongs to one student."
            ),
        )
        register_records(
            "interop.DroppedFile",
            category="imports",
            personal=False,
            note=(
                "One version of a file in a district's drop folder (name, size, time, hash) and "
                "the import run it was handed to; the file's content is not kept."
            ),
        )
