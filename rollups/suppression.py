"""Small-cell suppression: the one place that decides which rollup numbers may be shown.

Every page, CSV export and print of a rollup asks this module, so that the screen, the file and the
paper always hide the same cells and say the same words. It is pure: counts in, decisions out. It
imports nothing from the project and touches no database, so it is cheap to test exhaustively.

The rules (issue 19, "Small-cell suppression")
-----------------------------------------------
1. **Primary.** A cell that describes fewer than the district's minimum of students (`min_n`, the
   district setting, 10 by default) is hidden: it reads "fewer than 10", never a number, a
   percentage or a chart mark. A group of 9 is hidden; 10 and 11 are shown. Totals follow the same
   rule: a row, column or grand total below `min_n` is hidden too.

   The rule reads the cell's denominator `n` (the students it describes), as the issue words it.
   Numerators (say, students proficient) are not tested on their own: a shown cell of 12 students
   may well read "0 of 12 proficient". A dominance rule ("hide when n - proficient < min_n") would
   hide most of a strong school's cells, and the issue does not ask for it; a district that wants
   it can have it added here, in one place.

   A cell of 0 students describes nobody, so there is nobody to protect: it shows "0" (and "no
   data" for a percentage). It is never chosen to be hidden either, because hiding an empty cell
   next to a hidden one protects nothing (their sum is still the small group).

2. **Complementary.** A table declares which of its rows and columns add up to a shown total (a
   `Line`: total = sum of parts). In every line:
   - no hidden cell may be the only unknown term (it would be the total minus the shown parts, or,
     for a hidden total, the sum of its shown parts);
   - when the total is shown, the hidden parts together must not describe between 1 and
     `min_n - 1` students (two hidden groups of 3 and 4 students whose sum 7 can be read off the
     total still expose a group of 7, with its numerators).
   Wherever a line breaks a rule, one more cell is hidden: the smallest shown non-empty part of
   that line (ties go to the cell whose other lines already hold a hidden cell, so that fewer new
   lines are opened, then to the first in the line's order). When no part is left, the line's
   total is hidden. This repeats, over all lines of all the tables given together, until nothing
   changes (a fixpoint: a complementary cell can make its column break a rule, and so on).

   Single lines are not the only way in: rows and columns can be combined. A "bridge" cell joining
   two blocks of hidden cells is one column total minus two row totals plus another column total,
   though every line holds two hidden cells; a small column total is all the row totals minus the
   other column totals. So after the fixpoint the module solves the system of all the lines
   exactly (fractions, sparse elimination: about 40 ms for a 300 × 4 table with every margin) and,
   while some combination of lines still pins down a hidden cell, hides one more term of that
   combination (the smallest shown non-empty one that does not cancel out; it may be a total) and
   runs the fixpoint again. The choices are greedy, not the fewest cells possible.

   What remains out of reach is bounds: that a hidden cell lies between 1 and 9 is public anyway
   ("fewer than 10"), and the rules make no promise about narrower bounds that non-negativity
   might give. That is the usual standard of complementary suppression.

   A line counts wherever its total is shown in the family (below), even on another page: give
   the total the same `ref` there.

3. **Differences between views.** A page's filters show the same measure for nested groups: all
   students and the IEP students of grade 6, a school and one of its grades. If both numbers are
   shown and their difference describes 1 to `min_n - 1` students, the difference exposes that
   small group (its count and, by subtracting numerators, its results). Given the pairs a page
   family offers as (whole, part), `suppress_differences` hides the part (never the whole: one of
   the two must go, and the whole is the larger, more useful number). Pairs are closed under
   nesting first: if section ⊂ grade ⊂ school are pairs, section vs school is checked too, because
   hiding the grade must not leave school - section readable. A difference of 0 (the same
   students) or of `min_n` or more is fine.

One fate per cell: run everything a family of pages shows together
------------------------------------------------------------------
A cell that is hidden in one table but shown in another (or on another page, or under another
filter) is not hidden at all. So the page builders call `suppress_tables` (or `suppress`) once over
every table and pair of a *family*: everything reachable from one page by its filters and
drill-down for one choice of time and measure (below), with cells that are the same numbers given
the same `ref`. The decisions depend only on the counts, the lines and the pairs, in their order,
so every page of the family, its CSV and its print compute the same answer.

What a rollup page family offers (issue 19), and which pairs must be checked
-----------------------------------------------------------------------------
A cell is (place, subgroup, measure, time). The filters:

- **place**: district ⊃ school level (elementary, middle, high) ⊃ school ⊃ grade ⊃ section, and
  teacher ⊃ section (drill-down: school → grade → section → student);
- **subgroup**: all ⊃ each of IEP, 504, English learner, free or reduced lunch, race and
  ethnicity (one key per race; a student may have several), sex; "rest of the school" = all minus
  the subgroup;
- **measure**: subject, standard cluster, standard; proficiency, growth, chronic absence,
  falling trends;
- **time**: as-of month, term (start and end), last year for comparison.

Pairs (whole, part) to pass, for every value of the filters not named (same measure, same time):

1. **subgroup vs all**: (place, all) ⊃ (place, subgroup), for each subgroup and place;
2. **subgroup vs rest of the school**: (place, all) ⊃ (place, rest of subgroup); where the page
   shows both columns beside "all", declare the line all = subgroup + rest as well (a `Table` with
   the subgroup and the rest as columns and "all" as their total);
3. **grade vs school**: (school, subgroup) ⊃ (grade, subgroup), each subgroup including all;
4. **section vs its grade**: (grade, all) ⊃ (section, all) when every student of the section is in
   that grade, else (school, all) ⊃ (section, all); and **teacher vs section**: (teacher, all) ⊃
   (section, all) for each of the teacher's sections, (school, all) ⊃ (teacher, all);
5. **school vs district**: (district, subgroup) ⊃ (level, subgroup) ⊃ (school, subgroup).

Tables declare lines only where the parts really partition the total: grades of a school,
sections of a grade when each student is in one, a subgroup and its rest, sex when every student
has exactly one code. Race columns do not partition "all" (a student may have several races), nor
do the programmes; `Table` checks that each declared total is the sum of its parts and refuses
otherwise.

What is *not* a pair, and why:

- **month vs month** (and term vs term, as-of date, this year vs last year): each is a snapshot of
  a different time. Neither population contains the other (students join and leave a grade in
  between), and the difference of two counts is a net flow (joiners minus leavers, plus newly
  measured) with the numerators moving for students who stayed, so it names no group. Treating
  time as a pair would hide nearly every month-on-month change and so the growth the issue asks
  for. The residual risk, stated plainly: someone who knows that exactly one student joined and
  that nobody else's level changed learns that student's result from two months. Rollups by month
  accept that, as published school statistics do; noise or rounding would be the remedy.
- **subject vs subject, cluster vs standard, standard vs standard**: a different measure, not a
  smaller group. A cluster's numerators count (student, standard) pairs over all its standards, so
  subtracting one standard leaves the other standards' results over a larger population, not a
  small group's results.

Families nested in families: fates decided above
-------------------------------------------------
Running every page of a district as one family would cost each page the whole district. Instead the
families nest, each deciding its own level with the levels above fixed: the district's family
(every school's total with the level and district totals) decides each school's total; a school's
family decides its grades with the school's total fixed as the district decided it; the report's
tables decide the rest with both fixed. `suppress(..., decided=...)` takes those fates: a ref
decided hidden starts hidden (with its reason), and a ref decided shown is never chosen to be
hidden here (another term of the line is). So a number reads the same on every page that shows
it, and each page computes only its own level plus the levels above it, which are small.
A decided-shown cell can be left as the only way to a hidden cell only when that hidden cell is a
combination of decided-shown numbers alone, which the level above has already shown (its value is
public there) and protected (its small groups are hidden there).

The exemption
-------------
The issue's only exemption is a drill-down list of names, for a user who may see those students
anyway. A hidden cell keeps its `link` for that: the page may render it as a link to the list
(whose own access check decides) but must not put the count in the link's text, label or URL.

Rendering
---------
`shown`, `shown_percent`, `count_value`, `percent_value` and `explanation` give the words and
values; a hidden cell always answers with its hidden text (or None for a chart), so a template, a
CSV row and a chart cannot disagree. The students a cell hidden by the primary rule describes read
"fewer than 10"; a cell hidden only to protect another reads "not shown" (it describes 10 or more
students, so "fewer than 10" would be false on a board report). Every other number of a hidden
cell (a count among its students, a share, a gap) reads "not shown": "fewer than 10" in a
percentage's column would read like a value under 10%. `explanation` gives a footnote or label and
`rule_sentence` the page's sentence. Counts are plain digits (no thousands separator), so a CSV cell
reads as a number; percentages round half up, the same in text and chart.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any, TypeVar, cast

DEFAULT_MIN_N = 10
NOT_SHOWN = "not shown"
NO_DATA = "no data"

Ref = TypeVar("Ref", bound=Hashable)
# Any hashable row, column or ref. Any, not Hashable, because Mapping is invariant in its keys: a
# page's dict[str, Cell] would not pass as a Mapping[Hashable, Cell].
Key = Any


class Reason(enum.StrEnum):
    """Why a cell is hidden."""

    SMALL = "small"  # it describes 1 to min_n - 1 students
    COMPLEMENTARY = "complementary"  # it would let a small cell be worked out from totals
    DIFFERENCE = "difference"  # it minus a shown nested view would expose a small group


@dataclass(frozen=True, slots=True)
class Suppression:
    """The decision stamped on a hidden cell, with the minimum it was made under."""

    reason: Reason
    min_n: int


@dataclass(frozen=True)
class Cell:
    """One aggregate number of students.

    `n` is the denominator: how many students the cell describes. `numerators` holds the counts
    shown with it ("proficient": 7, or pair counts for a proficiency share). `link` is whatever the
    page needs for drill-down. `ref` names the cell across tables and views (the same numbers must
    carry the same ref); None means "only in this table". `suppression` is set by `suppress_tables`.
    """

    n: int
    numerators: Mapping[str, int] = field(default_factory=dict)
    link: object | None = None
    ref: Hashable | None = None
    suppression: Suppression | None = None

    def __post_init__(self) -> None:
        _check_count(self.n, "a cell's n")
        for name, value in self.numerators.items():
            _check_count(value, f"numerator {name!r}")

    @property
    def hidden(self) -> bool:
        return self.suppression is not None


def total_of(
    cells: Iterable[Cell], *, link: object | None = None, ref: Hashable | None = None
) -> Cell:
    """A total cell: the sum of `cells`' n and of each numerator."""
    parts = list(cells)
    numerators: dict[str, int] = {}
    for part in parts:
        for name, value in part.numerators.items():
            numerators[name] = numerators.get(name, 0) + value
    return Cell(n=sum(part.n for part in parts), numerators=numerators, link=link, ref=ref)


@dataclass(frozen=True, slots=True)
class Line:
    """An equation a reader can use: counts[total] == sum(counts[part] for part in parts)."""

    total: Hashable
    parts: tuple[Hashable, ...]


@dataclass(frozen=True)
class Table:
    """A grid of cells with optional margins; each declared margin must add up exactly.

    `cells` maps every (row, column) to its cell. `row_totals` (one per row, the sum across the
    row), `column_totals` (one per column) and `grand_total` (the sum of either margin) are given
    only when the parts partition the total; `total_of` builds them.
    """

    rows: tuple[Hashable, ...]
    columns: tuple[Hashable, ...]
    cells: Mapping[tuple[Key, Key], Cell]
    row_totals: Mapping[Key, Cell] | None = None
    column_totals: Mapping[Key, Cell] | None = None
    grand_total: Cell | None = None

    def __post_init__(self) -> None:
        if len(set(self.rows)) != len(self.rows) or len(set(self.columns)) != len(self.columns):
            raise ValueError("a table's row keys and column keys must each be unique")
        expected = {(row, column) for row in self.rows for column in self.columns}
        if set(self.cells) != expected:
            missing = expected - set(self.cells)
            extra = set(self.cells) - expected
            raise ValueError(f"table cells do not match its grid: missing {missing}, extra {extra}")
        if self.row_totals is not None:
            if set(self.row_totals) != set(self.rows):
                raise ValueError("row_totals needs exactly one total per row")
            for row in self.rows:
                parts = [self.cells[row, column] for column in self.columns]
                _check_sum(self.row_totals[row], parts, f"row {row!r}")
        if self.column_totals is not None:
            if set(self.column_totals) != set(self.columns):
                raise ValueError("column_totals needs exactly one total per column")
            for column in self.columns:
                parts = [self.cells[row, column] for row in self.rows]
                _check_sum(self.column_totals[column], parts, f"column {column!r}")
        if self.grand_total is not None:
            if self.row_totals is None and self.column_totals is None:
                raise ValueError("a grand total needs row totals or column totals to add up")
            if self.row_totals is not None:
                row_margin = [self.row_totals[row] for row in self.rows]
                _check_sum(self.grand_total, row_margin, "the row totals")
            if self.column_totals is not None:
                column_margin = [self.column_totals[column] for column in self.columns]
                _check_sum(self.grand_total, column_margin, "the column totals")

    def cell(self, row: Hashable, column: Hashable) -> Cell:
        return self.cells[row, column]


# --- The engine ----------------------------------------------------------------------------------


def suppress(
    counts: Mapping[Key, int],
    *,
    min_n: int = DEFAULT_MIN_N,
    lines: Iterable[Line] = (),
    pairs: Iterable[tuple[Hashable, Hashable]] = (),
    decided: Mapping[Key, Reason | None] | None = None,
) -> dict[Hashable, Reason]:
    """Which refs to hide, and why, for one family of views.

    `counts` gives n for every ref that any line or pair names (and may hold more: every ref with
    1 to min_n - 1 students is hidden). `lines` are the tables' equations, `pairs` the nested views
    (whole, part). `decided` fixes refs a family above has decided (a reason: hidden; None: shown,
    so never chosen here). Deterministic: the same arguments in the same order give the same answer.
    """
    _check_min_n(min_n)
    for ref, n in counts.items():
        _check_count(n, f"the count of {ref!r}")
    line_list = list(lines)
    for line in line_list:
        _check_line(line, counts)
    nested = _closed_pairs(pairs, counts)

    fixed: dict[Hashable, Reason | None] = dict(decided or {})
    hidden: dict[Hashable, Reason] = {
        ref: Reason.SMALL for ref, n in counts.items() if 0 < n < min_n
    }
    for ref, reason in fixed.items():
        if reason is not None:
            hidden[ref] = reason
        elif ref in hidden:
            raise ValueError(f"{ref!r} was decided shown above, but it describes a small group")
    for part in _difference_parts(nested, counts, min_n, hidden):
        if part not in fixed:
            hidden[part] = Reason.DIFFERENCE

    lines_of: dict[Hashable, list[Line]] = {}
    for line in line_list:
        for term in (line.total, *line.parts):
            lines_of.setdefault(term, []).append(line)

    while True:
        _close_lines(line_list, counts, hidden, min_n, lines_of, fixed)
        extra = _protect_determined(line_list, counts, hidden, lines_of, fixed)
        if extra is None:
            return hidden
        hidden[extra] = Reason.COMPLEMENTARY


def suppress_differences(
    pairs: Iterable[tuple[Ref, Ref]],
    counts: Mapping[Ref, int],
    min_n: int = DEFAULT_MIN_N,
    *,
    hidden: Iterable[Ref] = (),
) -> set[Ref]:
    """The parts to hide so that no two shown nested views differ by 1 to min_n - 1 students.

    `pairs` are (whole, part): the part's students are among the whole's, for the same measure at
    the same time. They are closed under nesting first. Refs in `hidden`, and refs with 1 to
    min_n - 1 students (hidden by the primary rule wherever they appear), expose no difference.
    """
    _check_min_n(min_n)
    # Mapping is invariant in its keys; the internals take any hashable ref and give back the
    # caller's own refs, so they are still Refs.
    counts_by_ref = cast("Mapping[Hashable, int]", counts)
    already: dict[Hashable, Reason] = {ref: Reason.DIFFERENCE for ref in hidden}
    already.update({ref: Reason.SMALL for ref, n in counts_by_ref.items() if 0 < n < min_n})
    nested = _closed_pairs(pairs, counts_by_ref)
    return cast("set[Ref]", set(_difference_parts(nested, counts_by_ref, min_n, already)))


def suppress_tables(
    tables: Sequence[Table],
    *,
    min_n: int = DEFAULT_MIN_N,
    pairs: Iterable[tuple[Hashable, Hashable]] = (),
    other_counts: Mapping[Key, int] | None = None,
    decided: Iterable[Cell] = (),
) -> list[Table]:
    """The tables of one family with every hidden cell stamped; cells keep everything else.

    A cell with a `ref` is the same number wherever it appears (it must have the same n). `pairs`
    may name these refs and refs of views that are not tables here, whose n go in `other_counts`.
    `decided` are stamped cells of the families above (see "Families nested in families"): their
    refs keep those fates here.
    """
    counts: dict[Hashable, int] = dict(other_counts or {})
    lines: list[Line] = []
    positions: list[dict[tuple[Hashable, Hashable], Hashable]] = []
    for index, table in enumerate(tables):
        refs: dict[tuple[Hashable, Hashable], Hashable] = {}
        for position, cell in _positioned_cells(table):
            ref = cell.ref if cell.ref is not None else _Position(index, *position)
            if ref in counts and counts[ref] != cell.n:
                raise ValueError(
                    f"{ref!r} describes {counts[ref]} students in one place and {cell.n} in another"
                )
            counts[ref] = cell.n
            refs[position] = ref
        lines.extend(_table_lines(table, refs))
        positions.append(refs)

    fates: dict[Hashable, Reason | None] = {}
    for cell in decided:
        if cell.ref is None:
            raise ValueError("a decided cell needs the ref it is known by")
        if cell.ref in counts and counts[cell.ref] != cell.n:
            raise ValueError(
                f"{cell.ref!r} describes {counts[cell.ref]} students here and {cell.n} above"
            )
        counts.setdefault(cell.ref, cell.n)
        fates[cell.ref] = None if cell.suppression is None else cell.suppression.reason
    hidden = suppress(counts, min_n=min_n, lines=lines, pairs=pairs, decided=fates)

    def stamp(cell: Cell, ref: Hashable) -> Cell:
        reason = hidden.get(ref)
        suppression = None if reason is None else Suppression(reason=reason, min_n=min_n)
        return dataclasses.replace(cell, suppression=suppression)

    stamped = []
    for table, refs in zip(tables, positions, strict=True):
        cells = {key: stamp(cell, refs[key]) for key, cell in table.cells.items()}
        row_totals = column_totals = None
        if table.row_totals is not None:
            row_totals = {
                row: stamp(cell, refs[row, MARGIN]) for row, cell in table.row_totals.items()
            }
        if table.column_totals is not None:
            column_totals = {
                column: stamp(cell, refs[MARGIN, column])
                for column, cell in table.column_totals.items()
            }
        grand_total = None
        if table.grand_total is not None:
            grand_total = stamp(table.grand_total, refs[MARGIN, MARGIN])
        stamped.append(
            dataclasses.replace(
                table,
                cells=cells,
                row_totals=row_totals,
                column_totals=column_totals,
                grand_total=grand_total,
            )
        )
    return stamped


# --- Words and values: the same for templates, CSV and print -------------------------------------


def hidden_text(cell: Cell) -> str:
    """What a hidden cell reads instead of its numbers ("" for a shown cell)."""
    if cell.suppression is None:
        return ""
    if cell.suppression.reason is Reason.SMALL:
        return f"fewer than {cell.suppression.min_n}"
    return NOT_SHOWN


def explanation(cell: Cell) -> str:
    """A sentence for a footnote, a title or an accessible label ("" for a shown cell)."""
    if cell.suppression is None:
        return ""
    min_n = cell.suppression.min_n
    if cell.suppression.reason is Reason.SMALL:
        return f"Fewer than {min_n} students: hidden to protect their privacy."
    if cell.suppression.reason is Reason.COMPLEMENTARY:
        return (
            f"Hidden so that a group of fewer than {min_n} students cannot be worked out "
            "from the totals."
        )
    return (
        f"Hidden so that a group of fewer than {min_n} students cannot be worked out "
        "by comparing this number with another view."
    )


def rule_sentence(min_n: int = DEFAULT_MIN_N) -> str:
    """The rule in one sentence, for the page and the printed report."""
    _check_min_n(min_n)
    return (
        f"A number that describes fewer than {min_n} students reads “fewer than {min_n}”, and a "
        "few other numbers are not shown, so that no group that small can be worked out from "
        "totals or by comparing views."
    )


def count_value(cell: Cell, numerator: str | None = None) -> int | None:
    """The count to draw (n, or a numerator), or None for a hidden cell: no chart mark."""
    if cell.hidden:
        return None
    return cell.n if numerator is None else _numerator(cell, numerator)


def percent_value(
    cell: Cell, numerator: str, *, denominator: str | None = None, digits: int = 0
) -> Decimal | None:
    """numerator / denominator (n unless named) in percent, rounded half up to `digits`.

    None for a hidden cell or an empty denominator. The page's text and the chart both use it, so
    a bar and its label round alike.
    """
    if cell.hidden:
        return None
    below = cell.n if denominator is None else _numerator(cell, denominator)
    if below == 0:
        return None
    exact = Decimal(_numerator(cell, numerator) * 100) / Decimal(below)
    return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def shown(cell: Cell, numerator: str | None = None) -> str:
    """The count as it reads on a page, in a CSV and in print: when hidden, "fewer than 10" (or
    "not shown") for the students it describes, and "not shown" for any count among them (which
    "fewer than 10" beside a share or a gap would make read like a value)."""
    if cell.hidden:
        return hidden_text(cell) if numerator is None else NOT_SHOWN
    return str(cell.n if numerator is None else _numerator(cell, numerator))


def shown_percent(
    cell: Cell, numerator: str, *, denominator: str | None = None, digits: int = 0
) -> str:
    """A share as it reads everywhere: "73%", "not shown" (hidden) or "no data"."""
    if cell.hidden:
        return NOT_SHOWN
    value = percent_value(cell, numerator, denominator=denominator, digits=digits)
    return NO_DATA if value is None else f"{value}%"


# --- Internals -----------------------------------------------------------------------------------


class _Margin:
    """The key of a table's total row or column (a sentinel no caller's key can equal)."""

    def __repr__(self) -> str:
        return "MARGIN"


MARGIN = _Margin()


@dataclass(frozen=True, slots=True)
class _Position:
    """The ref of a cell that has none of its own: which table, which row and column."""

    table: int
    row: Hashable
    column: Hashable


def _check_count(value: object, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what} must be a whole number of at least 0, not {value!r}")


def _check_min_n(min_n: object) -> None:
    if isinstance(min_n, bool) or not isinstance(min_n, int) or min_n < 1:
        raise ValueError(f"the minimum group size must be a whole number of at least 1: {min_n!r}")


def _numerator(cell: Cell, name: str) -> int:
    try:
        return cell.numerators[name]
    except KeyError:
        raise KeyError(
            f"this cell has no numerator {name!r}: it has {sorted(cell.numerators)}"
        ) from None


def _check_sum(total: Cell, parts: Sequence[Cell], what: str) -> None:
    summed = total_of(parts)
    names = set(total.numerators) | set(summed.numerators)
    if total.n != summed.n or any(
        total.numerators.get(name, 0) != summed.numerators.get(name, 0) for name in names
    ):
        raise ValueError(
            f"the total of {what} ({total.n}, {dict(total.numerators)}) is not the sum of its "
            f"cells ({summed.n}, {dict(summed.numerators)}): declare totals only for parts that "
            "partition it"
        )


def _check_line(line: Line, counts: Mapping[Hashable, int]) -> None:
    terms = (line.total, *line.parts)
    if len(set(terms)) != len(terms):
        raise ValueError(f"a line names a ref twice: {line!r}")
    missing = [term for term in terms if term not in counts]
    if missing:
        raise ValueError(f"no count for {missing!r}")
    if counts[line.total] != sum(counts[part] for part in line.parts):
        raise ValueError(f"the total of {line!r} is not the sum of its parts")


def _closed_pairs(
    pairs: Iterable[tuple[Hashable, Hashable]], counts: Mapping[Hashable, int]
) -> list[tuple[Hashable, Hashable]]:
    """Every (whole, part) implied by nesting, in a stable order (each whole, then its parts)."""
    children: dict[Hashable, dict[Hashable, None]] = {}
    for whole, part in pairs:
        for ref in (whole, part):
            if ref not in counts:
                raise ValueError(f"no count for {ref!r}")
        if counts[part] > counts[whole]:
            raise ValueError(
                f"{part!r} ({counts[part]} students) cannot be part of {whole!r} "
                f"({counts[whole]} students)"
            )
        if part != whole:
            children.setdefault(whole, {})[part] = None
    closed: list[tuple[Hashable, Hashable]] = []
    for whole, direct in children.items():
        below: dict[Hashable, None] = {}
        stack = list(reversed(direct))
        while stack:
            part = stack.pop()
            if part == whole or part in below:
                continue  # a cycle means equal groups; their difference is 0
            below[part] = None
            stack.extend(reversed(children.get(part, {})))
        closed.extend((whole, part) for part in below)
    return closed


def _difference_parts(
    nested: Sequence[tuple[Hashable, Hashable]],
    counts: Mapping[Hashable, int],
    min_n: int,
    hidden: Mapping[Hashable, Reason],
) -> list[Hashable]:
    """Parts to hide, in order; hiding only ever removes differences, so one pass is enough."""
    newly: dict[Hashable, None] = {}
    for whole, part in nested:
        if whole in hidden or part in hidden or whole in newly or part in newly:
            continue
        if 0 < counts[whole] - counts[part] < min_n:
            newly[part] = None
    return list(newly)


def _line_needs_more(
    line: Line, counts: Mapping[Hashable, int], hidden: Mapping[Hashable, Reason], min_n: int
) -> bool:
    unknown = [term for term in (line.total, *line.parts) if term in hidden]
    if len(unknown) == 1:
        return True  # the one unknown is the total minus (or the sum of) the shown terms
    if not unknown or line.total in hidden:
        return False
    return 0 < sum(counts[term] for term in unknown) < min_n


def _pick(
    candidates: Sequence[Hashable],
    counts: Mapping[Hashable, int],
    hidden: Mapping[Hashable, Reason],
    lines_of: Mapping[Hashable, Sequence[Line]],
    line: Line | None,
) -> Hashable:
    """The smallest candidate; ties: fewest lines newly opened by hiding it, then first given."""

    def opened(ref: Hashable) -> int:
        return sum(
            1
            for other in lines_of.get(ref, ())
            if other is not line and not any(t in hidden for t in (other.total, *other.parts))
        )

    order = {ref: index for index, ref in enumerate(candidates)}
    return min(candidates, key=lambda ref: (counts[ref], opened(ref), order[ref]))


def _close_lines(
    lines: Sequence[Line],
    counts: Mapping[Hashable, int],
    hidden: dict[Hashable, Reason],
    min_n: int,
    lines_of: Mapping[Hashable, Sequence[Line]],
    fixed: Mapping[Hashable, Reason | None],
) -> None:
    """Hide complementary cells until every line keeps its hidden cells underivable."""
    changed = True
    while changed:
        changed = False
        for line in lines:
            while _line_needs_more(line, counts, hidden, min_n):
                candidates = [
                    p for p in line.parts if p not in hidden and p not in fixed and counts[p] > 0
                ]
                if candidates:
                    choice = _pick(candidates, counts, hidden, lines_of, line)
                elif (
                    line.total not in hidden and line.total not in fixed and counts[line.total] > 0
                ):
                    choice = line.total
                else:
                    break  # nothing left to hide here: only numbers decided above remain
                hidden[choice] = Reason.COMPLEMENTARY
                changed = True


def _protect_determined(
    lines: Sequence[Line],
    counts: Mapping[Hashable, int],
    hidden: Mapping[Hashable, Reason],
    lines_of: Mapping[Hashable, Sequence[Line]],
    fixed: Mapping[Hashable, Reason | None],
) -> Hashable | None:
    """One more cell to hide when the lines together still pin down a hidden cell, else None.

    The cell is taken from the combination of lines that pins it down: a shown term that does not
    cancel out of it, so that hiding it breaks that combination (another may remain; the caller
    asks again). Such a term always exists: were there none, the hidden cell would be 0, and cells
    of 0 are never hidden. Terms decided above are not taken; a combination of those alone is a
    number the level above shows already.
    """
    for _ref, exposing in _determined(lines, hidden):
        candidates = [term for term in exposing if counts[term] > 0 and term not in fixed]
        if candidates:
            return _pick(candidates, counts, hidden, lines_of, None)
    return None


def _determined(
    lines: Sequence[Line], hidden: Mapping[Hashable, Reason]
) -> list[tuple[Hashable, list[Hashable]]]:
    """Hidden refs the lines fix exactly, solved together in exact arithmetic, each with the shown
    terms of the combination of lines that fixes it.

    Each line is an equation, total - sum(parts) = 0, whose shown terms are known. A hidden ref is
    fixed when some combination of the equations leaves it as the only hidden term: a row of the
    reduced row echelon form (over the hidden terms) with that ref alone. The identity carried
    beside the matrix records which combination that row is. Solved per connected group of hidden
    refs, which keeps each system as small as the hidden pattern.
    """
    touching = [line for line in lines if any(t in hidden for t in (line.total, *line.parts))]

    group_of: dict[Hashable, Hashable] = {}  # union-find over hidden refs sharing a line

    def root(ref: Hashable) -> Hashable:
        while group_of.setdefault(ref, ref) != ref:
            group_of[ref] = group_of[group_of[ref]]
            ref = group_of[ref]
        return ref

    def unknowns_of(line: Line) -> list[Hashable]:
        return [t for t in (line.total, *line.parts) if t in hidden]

    for line in touching:
        first, *rest = unknowns_of(line)
        for other in rest:
            group_of[root(other)] = root(first)
    systems: dict[Hashable, list[Line]] = {}
    for line in touching:
        systems.setdefault(root(unknowns_of(line)[0]), []).append(line)

    determined: list[tuple[Hashable, list[Hashable]]] = []
    for system in systems.values():
        unknowns = list(dict.fromkeys(t for line in system for t in unknowns_of(line)))
        column_of = {ref: index for index, ref in enumerate(unknowns)}
        width = len(unknowns)
        matrix: list[dict[int, Fraction]] = []
        for index, line in enumerate(system):
            row = {
                column_of[term]: Fraction(sign)
                for term, sign in _signed_terms(line)
                if term in column_of
            }
            row[width + index] = Fraction(1)  # which line this row is made of
            matrix.append(row)
        for row in _reduced(matrix, width):
            fixed = [column for column in row if column < width]
            if len(fixed) != 1:
                continue
            exposing: dict[Hashable, Fraction] = {}
            for column, weight in row.items():
                if column >= width:
                    for term, sign in _signed_terms(system[column - width]):
                        if term not in hidden:
                            exposing[term] = exposing.get(term, Fraction(0)) + weight * sign
            shown_terms = [term for term, coefficient in exposing.items() if coefficient]
            determined.append((unknowns[fixed[0]], shown_terms))
    return determined


def _signed_terms(line: Line) -> list[tuple[Hashable, int]]:
    return [(line.total, 1), *((part, -1) for part in line.parts)]


def _reduced(matrix: list[dict[int, Fraction]], width: int) -> list[dict[int, Fraction]]:
    """Gauss-Jordan elimination on columns 0 to width - 1 (higher columns ride along): the rows
    with a pivot, in reduced row echelon form. Rows are sparse ({column: nonzero value}), since
    each line names few hidden cells."""
    rows = [dict(row) for row in matrix]
    done: list[dict[int, Fraction]] = []
    for column in range(width):
        pivot = next((row for row in rows if column in row), None)
        if pivot is None:
            continue
        rows.remove(pivot)
        lead = pivot[column]
        pivot = {key: value / lead for key, value in pivot.items()}
        for row in (*rows, *done):
            factor = row.get(column)
            if factor:
                for key, value in pivot.items():
                    updated = row.get(key, Fraction(0)) - factor * value
                    if updated:
                        row[key] = updated
                    else:
                        del row[key]
        done.append(pivot)
    return done


def _positioned_cells(table: Table) -> Iterable[tuple[tuple[Hashable, Hashable], Cell]]:
    for row in table.rows:
        for column in table.columns:
            yield (row, column), table.cells[row, column]
    if table.row_totals is not None:
        for row in table.rows:
            yield (row, MARGIN), table.row_totals[row]
    if table.column_totals is not None:
        for column in table.columns:
            yield (MARGIN, column), table.column_totals[column]
    if table.grand_total is not None:
        yield (MARGIN, MARGIN), table.grand_total


def _table_lines(table: Table, refs: Mapping[tuple[Hashable, Hashable], Hashable]) -> list[Line]:
    lines = []
    if table.row_totals is not None:
        for row in table.rows:
            parts = tuple(refs[row, column] for column in table.columns)
            lines.append(Line(total=refs[row, MARGIN], parts=parts))
    if table.column_totals is not None:
        for column in table.columns:
            parts = tuple(refs[row, column] for row in table.rows)
            lines.append(Line(total=refs[MARGIN, column], parts=parts))
    if table.grand_total is not None:
        if table.row_totals is not None:
            parts = tuple(refs[row, MARGIN] for row in table.rows)
            lines.append(Line(total=refs[MARGIN, MARGIN], parts=parts))
        if table.column_totals is not None:
            parts = tuple(refs[MARGIN, column] for column in table.columns)
            lines.append(Line(total=refs[MARGIN, MARGIN], parts=parts))
    return lines
