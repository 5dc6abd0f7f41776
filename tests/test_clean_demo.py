"""`make clean-demo` removes exactly what `make demo` made, and nothing else."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_clean_demo_removes_the_demo_and_keeps_everything_else(tmp_path: Path) -> None:
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    made_by_demo = [
        "var/trellis.sqlite3",
        "var/trellis.sqlite3-journal",
        "var/field-keys.json",
        "var/staticfiles/css/trellis.abc123.css",
        "var/media/imports/upload.zip",
        "var/cache/default/0a.djcache",
        "var/cache/dashboard-versions/1b.djcache",
    ]
    kept = [".venv/bin/python", "README.md", "test-artifacts/screenshots/a.png", "var/notes.txt"]
    for name in made_by_demo + kept:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    subprocess.run(["make", "clean-demo"], cwd=tmp_path, check=True, capture_output=True)
    assert [name for name in made_by_demo if (tmp_path / name).exists()] == []
    assert [name for name in kept if not (tmp_path / name).exists()] == []
    # With nothing else in it, var/ itself goes, as in a fresh clone.
    (tmp_path / "var/notes.txt").unlink()
    subprocess.run(["make", "clean-demo"], cwd=tmp_path, check=True, capture_output=True)
    assert not (tmp_path / "var").exists()
