"""The Daybreak sample is read from ../shared/data (never committed); tests skip without it."""

from pathlib import Path

import pytest

from interop.edfi.service import edfi_import
from interop.report import ImportReport

REPO = Path(__file__).resolve().parents[3]
DAYBREAK = REPO.parent / "shared" / "data" / "inbloom-daybreak"
FILES = Path(__file__).resolve().parent / "files"


@pytest.fixture
def daybreak_path() -> Path:
    if not (DAYBREAK / "MainControlFile.ctl").exists():
        pytest.skip(
            f"the inBloom Daybreak sample is not at {DAYBREAK} (the project never commits it)"
        )
    return DAYBREAK


@pytest.fixture
def daybreak(db: None, daybreak_path: Path) -> ImportReport:
    """Daybreak imported once into the test database."""
    report = edfi_import(path=daybreak_path)
    assert report.ok, report.errors.as_json()[:5]
    return report
