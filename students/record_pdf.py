"""A student's records as a readable PDF, for an inspection package (34 CFR 99.10).

Pure Python: fpdf2 draws the pages, in DejaVu Sans, the font matplotlib ships (fpdf2 bundles no
Unicode font, and a font of the operating system would not be on every machine), so that names in
any Latin, Greek or Cyrillic script come out as written. Built for size: rows are written as
lines of "label: value" pairs, wrapped here (fpdf2's multi_cell costs about 0.6 ms a call; a
measured wrap and plain cells a twentieth of that), so a 50,000-row access log takes seconds.
"""

import datetime
import importlib.util
import json
import re
from collections.abc import Iterable, Mapping, Sized
from functools import cache
from pathlib import Path
from typing import Any

from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import TTFFont

from students.inventory import category_of

FONT = "DejaVu"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
BODY_SIZE = 9.0
LINE_HEIGHT = 4.4
PAGES_ALIAS = "{trellis-page-count}"
# A value longer than this is cut in the PDF (the JSON beside it holds it whole).
LONGEST_VALUE = 3000
# Keys every row has, shown in its first line rather than as pairs.
ROW_KEYS = ("record_type", "id")
# Words a field name spells in capitals.
ACRONYMS = {"gpa": "GPA", "id": "ID", "iep": "IEP", "nces": "NCES", "uuid": "UUID", "url": "URL"}
_ISO_DATETIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?$"
)


@cache
def font_path(style: str = "") -> Path:
    """DejaVu Sans as matplotlib ships it (found without importing matplotlib)."""
    spec = importlib.util.find_spec("matplotlib")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "mpl-data" / "fonts" / "ttf" / FONT_FILES[style]
        if path.is_file():
            return path
    raise RuntimeError(
        f"The records PDF needs {FONT_FILES[style]}, which the matplotlib package ships: "
        "install the project's dependencies (pip install -e .)."
    )


class _RecordsDocument(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="Letter")
        self.footer_text = footer_text
        # Replaced by the page count at the end; wide enough for it, and text no record holds.
        self.alias_nb_pages(PAGES_ALIAS)
        self.set_margins(18, 16, 18)
        self.set_auto_page_break(auto=True, margin=18)
        for style in FONT_FILES:
            self.add_font(FONT, style, str(font_path(style)))
        self.set_font(FONT, "", BODY_SIZE)

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, "", 8)
        page = _("Page %(page)s of %(pages)s") % {"page": self.page_no(), "pages": PAGES_ALIAS}
        self.cell(0, 5, f"{self.footer_text}  ·  {page}", align="C")


def records_pdf(
    student_name: str,
    records: Mapping[str, Iterable[Mapping[str, Any]]],
    *,
    generated_at: datetime.datetime,
    language: str = "en",
) -> bytes:
    """The records (students.inventory.records_of_student, or its streams) as a PDF: a title,
    the student, then each category under its heading with a sentence on what it holds, each
    row as its kind and number and its fields as "label: value" pairs; page numbers below.
    Strings of the document itself are in `language` (the portal's languages)."""
    with translation.override(language):
        title = _("Education records of %(name)s") % {"name": student_name}
        pdf = _RecordsDocument(footer_text=title)
        pdf.set_title(title)
        pdf.set_lang(language)
        pdf.set_creator("Trellis")
        pdf.add_page()
        _write_cover(pdf, title, student_name, records, generated_at)
        for category, rows in records.items():
            _write_category(pdf, category, rows, student_name)
        return bytes(pdf.output())


def _write_cover(
    pdf: FPDF,
    title: str,
    student_name: str,
    records: Mapping[str, Iterable[Mapping[str, Any]]],
    generated_at: datetime.datetime,
) -> None:
    width = pdf.epw
    pdf.set_font(FONT, "B", 17)
    pdf.multi_cell(width, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.ln(2)
    pdf.set_font(FONT, "", 10)
    when = timezone.localtime(generated_at) if timezone.is_aware(generated_at) else generated_at
    prepared = _("Prepared on %(date)s, %(time)s") % {
        "date": formats.date_format(when, "DATE_FORMAT"),
        "time": formats.time_format(when, "TIME_FORMAT"),
    }
    pdf.multi_cell(width, 5, prepared, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.ln(2)
    intro = _(
        "This document holds every record the district keeps about %(name)s in Trellis, "
        "grouped by kind, as it stood when it was prepared. The same data comes with it as a "
        "JSON file. If you believe a record is inaccurate or misleading, you may ask the "
        "district to amend it."
    ) % {"name": student_name}
    pdf.multi_cell(width, 5, intro, new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.ln(3)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(width, 6, _("Contents"), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    pdf.set_font(FONT, "", 10)
    for category, rows in records.items():
        line = str(category_of(category).title)
        if isinstance(rows, Sized):
            line += f": {_count_text(len(rows))}"
        pdf.cell(width, 5.5, f"•  {line}", new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")


def _count_text(count: int) -> str:
    if count == 0:
        return _("no records")
    return ngettext("%(count)s record", "%(count)s records", count) % {"count": f"{count:,}"}


def _write_category(
    pdf: FPDF, category: str, rows: Iterable[Mapping[str, Any]], student_name: str
) -> None:
    described = category_of(category)
    # A heading keeps its description and first rows with it.
    if pdf.get_y() > pdf.h - pdf.b_margin - 40:
        pdf.add_page()
    else:
        pdf.ln(6)
    width = pdf.epw
    pdf.set_font(FONT, "B", 13)
    pdf.multi_cell(width, 7, str(described.title), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")
    if described.description:
        pdf.set_font(FONT, "", 9.5)
        pdf.multi_cell(
            width, 4.8, str(described.description), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L"
        )
    pdf.ln(1.5)
    measure = _Measure(pdf)
    yes, no = _("Yes"), _("No")
    written = 0
    for row in rows:
        written += 1
        kind = str(row.get("record_type") or category)
        number = row.get("id")
        pairs = [
            f"{_label(key)}: {text}"
            for key, value in row.items()
            if key not in ROW_KEYS
            and (text := _value_text(value, student_name, yes=yes, no=no)) is not None
        ]
        # A row's first line and its first pairs stay on one page.
        if pdf.get_y() + 2 * LINE_HEIGHT > pdf.page_break_trigger:
            pdf.add_page()
        pdf.set_font(FONT, "B", BODY_SIZE)
        _line(pdf, f"{kind} {number}" if number is not None else kind, indent=0)
        pdf.set_font(FONT, "", BODY_SIZE)
        for line in measure.lines(pairs, width - 4):
            _line(pdf, line, indent=4)
        pdf.set_y(pdf.get_y() + 1.2)
    if not written:
        pdf.set_font(FONT, "", BODY_SIZE)
        _line(pdf, _("No records of this kind."), indent=0)


def _line(pdf: FPDF, text: str, *, indent: float) -> None:
    """One line of body text, a new page first when it would not fit (fpdf2's text() is a
    third of the cost of a cell, which this layout does not need)."""
    if pdf.get_y() + LINE_HEIGHT > pdf.page_break_trigger:
        pdf.add_page()
    top = pdf.get_y()
    pdf.text(pdf.l_margin + indent + pdf.c_margin, top + LINE_HEIGHT * 0.78, text)
    pdf.set_y(top + LINE_HEIGHT)


def _label(key: str) -> str:
    words = [ACRONYMS.get(word, word) for word in key.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _value_text(value: Any, student_name: str, *, yes: str, no: str) -> str | None:
    """A value as a reader reads it; None for an empty one, or for the row's link to the
    student themselves (on every row, it says nothing)."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, bool):
        return yes if value else no
    if isinstance(value, dict) and set(value) == {"id", "label"}:
        return None if value["label"] == student_name else str(value["label"])
    if isinstance(value, list) and all(isinstance(item, str | int | float) for item in value):
        text = ", ".join(str(item) for item in value)
    elif isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    elif isinstance(value, str) and (match := _ISO_DATETIME.match(value)):
        text = f"{match.group(1)} {match.group(2)}"
    else:
        text = str(value)
    text = " ".join(text.split())
    if len(text) > LONGEST_VALUE:
        text = text[:LONGEST_VALUE] + "… " + _("(shortened here; the JSON file has it whole)")
    return text


class _Measure:
    """Widths of text in the body font, from its glyph widths (as fpdf2 measures unshaped
    text), and greedy wrapping of "label: value" pairs into lines."""

    SEPARATOR = "   ·   "

    def __init__(self, pdf: FPDF) -> None:
        pdf.set_font(FONT, "", BODY_SIZE)
        font = pdf.current_font
        if not isinstance(font, TTFFont):
            raise TypeError("The body font must be a TrueType font.")
        self._widths: Mapping[int, float] = font.cw
        self._scale = BODY_SIZE * 0.001 / pdf.k
        # Cell padding on both sides, and a little slack for rounding.
        self._padding = 2 * pdf.c_margin + 0.5

    def width(self, text: str) -> float:
        widths = self._widths
        return sum(widths[ord(char)] for char in text) * self._scale

    def lines(self, pairs: list[str], width: float) -> list[str]:
        room = width - self._padding
        separator = self.width(self.SEPARATOR)
        lines: list[str] = []
        current, current_width = "", 0.0
        for pair in pairs:
            pair_width = self.width(pair)
            if current and current_width + separator + pair_width <= room:
                current += self.SEPARATOR + pair
                current_width += separator + pair_width
                continue
            if current:
                lines.append(current)
            if pair_width <= room:
                current, current_width = pair, pair_width
            else:
                *whole, current = self._wrap(pair, room)
                lines.extend(whole)
                current_width = self.width(current)
        if current:
            lines.append(current)
        return lines

    def _wrap(self, text: str, room: float) -> list[str]:
        """Words into lines; a word wider than a line is cut."""
        lines: list[str] = []
        current = ""
        for word in text.split(" "):
            candidate = f"{current} {word}" if current else word
            if self.width(candidate) <= room:
                current = candidate
                continue
            if current:
                lines.append(current)
            while self.width(word) > room:
                cut = len(word)
                while cut > 1 and self.width(word[:cut]) > room:
                    cut = max(1, cut * 3 // 4)
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
        return lines
