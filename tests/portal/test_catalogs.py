"""The translation catalogs (issue 20) are committed compiled, so that `make demo` needs only
Python; these tests keep them honest. The compiled .mo is what its .po says, and every string
marked in what families read (portal.management.commands.makemessages decides which files) has a
Spanish translation in it: a string marked but never translated, or translated but left fuzzy,
fails here, naming it. They need GNU gettext (xgettext, msgmerge, msgfmt): without it they are
skipped, except where TRELLIS_REQUIRE_GETTEXT is set (`make messages-check`, which .ci/run
runs)."""

import ast
import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "locale"
LANGUAGES = ("es",)
# What the copy that makemessages reads leaves out: not sources, or big and never marked.
NOT_SOURCES = (".*", "__pycache__", "var", "test-artifacts", "locale", "static", "*.egg-info")


@pytest.fixture(autouse=True)
def _gettext_tools() -> None:
    missing = [tool for tool in ("msgfmt", "msgmerge", "xgettext") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("TRELLIS_REQUIRE_GETTEXT"):
            pytest.fail(f"GNU gettext is needed here ({', '.join(missing)} not found)")
        pytest.skip(f"GNU gettext not installed ({', '.join(missing)})")


def _catalog(mo: Path) -> dict:
    """A compiled catalog's entries (the header left out)."""
    with mo.open("rb") as handle:
        entries = dict(gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]
    entries.pop("", None)
    return entries


def _compile(po: Path, mo: Path) -> None:
    subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)  # noqa: S603, S607


def _msgids(po: Path) -> set[str]:
    """The msgids of a .po file (obsolete entries and the header left out), each with its
    context as a catalog keys it (context, EOT, text)."""
    found = set()
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        current = ""
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            keyword, _, rest = line.partition(" ")
            if keyword in {"msgctxt", "msgid", "msgid_plural"} or keyword.startswith("msgstr"):
                current, line = keyword, rest
            fields[current] = fields.get(current, "") + ast.literal_eval(line.strip())
        if fields.get("msgid"):
            context = fields.get("msgctxt")
            found.add(f"{context}\x04{fields['msgid']}" if context is not None else fields["msgid"])
    return found


def _message(key: object) -> str:
    """A catalog key as a person reads it: "context | text" or the text alone."""
    text = key[0] if isinstance(key, tuple) else str(key)
    return " | ".join(text.split("\x04"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_committed_mo_is_compiled_from_the_committed_po(language: str, tmp_path: Path) -> None:
    folder = LOCALE / language / "LC_MESSAGES"
    pos = sorted(folder.glob("*.po"))
    assert pos, f"no catalog in {folder}"
    for po in pos:
        committed = po.with_suffix(".mo")
        assert committed.exists(), f"{committed.relative_to(ROOT)} is missing: run `make messages`"
        fresh = tmp_path / committed.name
        _compile(po, fresh)
        assert _catalog(committed) == _catalog(fresh), (
            f"{committed.relative_to(ROOT)} is older than its .po: run `make messages`"
        )


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_string_families_read_is_translated(language: str, tmp_path: Path) -> None:
    """makemessages on a copy of the sources (the tree and its catalogs untouched), then every
    msgid it finds must be translated in the committed .mo, and the .mo hold nothing else."""
    copy = tmp_path / "tree"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_SOURCES))
    (copy / "locale").mkdir()
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "makemessages", "-l", language, "--verbosity", "0"],
        cwd=copy,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        check=True,
    )
    marked = _msgids(copy / "locale" / language / "LC_MESSAGES" / "django.po")
    # A plural's entries are keyed (msgid, form); msgfmt keeps them only when every form is filled.
    translated = {
        key[0] if isinstance(key, tuple) else key
        for key in _catalog(LOCALE / language / "LC_MESSAGES" / "django.mo")
    }
    untranslated = sorted({_message(key) for key in marked - translated})
    assert not untranslated, (
        f"{len(untranslated)} marked strings have no {language} translation (run `make messages`, "
        f"translate them in locale/{language}/LC_MESSAGES/django.po, run it again): "
        + "; ".join(untranslated[:20])
    )
    stale = sorted({_message(key) for key in translated - marked})
    assert not stale, f"translated but marked nowhere any more: {'; '.join(stale[:20])}"
