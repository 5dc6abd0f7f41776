"""Small-cell suppression (issue 19), tested on crafted data and on random tables.

The crafted cases are the issue's list: groups of 9, 10 and 11; one hidden cell in a row with a
total; a column; a complementary hide that triggers another; totals below the minimum; each
filter pair the module's docstring lists. The properties check what suppression promises, with
checkers written here independently of the module: no shown cell is small, no hidden cell is the
only unknown of a row or column equation, and no hidden cell is fixed by all equations together.
"""

from collections.abc import Hashable, Sequence
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rollups.suppression import (
    NO_DATA,
    NOT_SHOWN,
    Cell,
    Reason,
    Suppression,
    Table,
    count_value,
    explanation,
    percent_value,
    rule_sentence,
    shown,
    shown_percent,
    suppress,
    suppress_differences,
    suppress_tables,
    total_of,
)

# --- Helpers -------------------------------------------------------------------------------------


def grid(
    values: Sequence[Sequence[int]],
    *,
    row_totals: bool = True,
    column_totals: bool = True,
    grand_total: bool = True,
) -> Table:
    """A table r0.. × c0.. of plain counts with the margins asked for."""
    rows = tuple(f"r{i}" for i in range(len(values)))
    columns = tuple(f"c{j}" for j in range(len(values[0])))
    cells = {
        (row, column): Cell(n=values[i][j])
        for i, row in enumerate(rows)
        for j, column in enumerate(columns)
    }
    by_row = {row: total_of(cells[row, c] for c in columns) for row in rows}
    by_column = {column: total_of(cells[r, column] for r in rows) for column in columns}
    grand = total_of(by_row.values()) if grand_total and (row_totals or column_totals) else None
    return Table(
        rows=rows,
        columns=columns,
        cells=cells,
        row_totals=by_row if row_totals else None,
        column_totals=by_column if column_totals else None,
        grand_total=grand,
    )


def hidden_positions(table: Table) -> dict[tuple[str, str], Reason]:
    """(row, column) → reason for every hidden cell; "total" stands for a margin."""
    found: dict[tuple[str, str], Reason] = {}
    for (row, column), cell in table.cells.items():
        if cell.suppression:
            found[str(row), str(column)] = cell.suppression.reason
    for row, cell in (table.row_totals or {}).items():
        if cell.suppression:
            found[str(row), "total"] = cell.suppression.reason
    for column, cell in (table.column_totals or {}).items():
        if cell.suppression:
            found["total", str(column)] = cell.suppression.reason
    if table.grand_total is not None and table.grand_total.suppression:
        found["total", "total"] = table.grand_total.suppression.reason
    return found


def equations(table: Table) -> list[tuple[Cell, list[Cell]]]:
    """Every (total, parts) a reader can write from the table, built from its structure alone."""
    found = []
    if table.row_totals is not None:
        for row in table.rows:
            found.append((table.row_totals[row], [table.cells[row, c] for c in table.columns]))
    if table.column_totals is not None:
        for column in table.columns:
            parts = [table.cells[r, column] for r in table.rows]
            found.append((table.column_totals[column], parts))
    if table.grand_total is not None and table.row_totals is not None:
        found.append((table.grand_total, [table.row_totals[r] for r in table.rows]))
    if table.grand_total is not None and table.column_totals is not None:
        found.append((table.grand_total, [table.column_totals[c] for c in table.columns]))
    return found


def all_cells(table: Table) -> list[Cell]:
    cells = list(table.cells.values())
    cells += list((table.row_totals or {}).values()) + list((table.column_totals or {}).values())
    return cells + ([table.grand_total] if table.grand_total is not None else [])


def derivable_by_one_equation(table: Table) -> list[tuple[Cell, Cell]]:
    """Brute force: (hidden cell, total) where the cell is the equation's only unknown."""
    found = []
    for total, parts in equations(table):
        terms = [total, *parts]
        unknown = [cell for cell in terms if cell.hidden]
        if len(unknown) == 1:
            found.append((unknown[0], total))
    return found


def determined_by_all_equations(table: Table) -> list[int]:
    """Indexes (into all_cells) of hidden cells that the equations together fix exactly.

    A hidden cell is fixed when its unit vector lies in the row space of the equations'
    coefficients over the hidden cells: adding it does not raise the rank.
    """
    cells = all_cells(table)
    hidden = [index for index, cell in enumerate(cells) if cell.hidden]
    column_of = {id(cells[index]): k for k, index in enumerate(hidden)}
    rows = []
    for total, parts in equations(table):
        row = [0.0] * len(hidden)
        for cell, sign in [(total, 1.0)] + [(part, -1.0) for part in parts]:
            if cell.hidden:
                row[column_of[id(cell)]] = sign
        if any(row):
            rows.append(row)
    if not rows:
        return []
    matrix = np.array(rows)
    rank = np.linalg.matrix_rank(matrix)
    fixed = []
    for k, index in enumerate(hidden):
        unit = np.zeros((1, len(hidden)))
        unit[0, k] = 1.0
        if np.linalg.matrix_rank(np.vstack([matrix, unit])) == rank:
            fixed.append(index)
    return fixed


# --- The primary rule: groups of 9, 10 and 11 ----------------------------------------------------


@pytest.mark.parametrize(("students", "hidden"), [(9, True), (10, False), (11, False)])
def test_a_group_of_fewer_than_ten_is_hidden_and_ten_or_more_shown(
    students: int, hidden: bool
) -> None:
    cell = Cell(n=students, numerators={"proficient": 4}, link="/schools/1/grades/6/")
    [table] = suppress_tables([Table(rows=("6",), columns=("math",), cells={("6", "math"): cell})])
    result = table.cell("6", "math")

    assert result.hidden is hidden
    assert result.link == "/schools/1/grades/6/"  # kept for the names-list exemption
    if hidden:
        assert shown(result) == "fewer than 10"
        # Its other numbers read "not shown": "fewer than 10" would read as their value.
        assert shown(result, "proficient") == NOT_SHOWN
        assert shown_percent(result, "proficient") == NOT_SHOWN
        assert count_value(result) is None and count_value(result, "proficient") is None
        assert percent_value(result, "proficient") is None  # no chart mark
        assert "Fewer than 10 students" in explanation(result)
    else:
        assert shown(result) == str(students)
        assert shown(result, "proficient") == "4"
        assert shown_percent(result, "proficient") == f"{round(400 / students)}%"
        assert count_value(result) == students
        assert explanation(result) == ""


def test_the_districts_minimum_is_the_threshold() -> None:
    cells = {("6", "a"): Cell(n=4), ("6", "b"): Cell(n=5)}
    [table] = suppress_tables([Table(rows=("6",), columns=("a", "b"), cells=cells)], min_n=5)

    assert shown(table.cell("6", "a")) == "fewer than 5"
    assert shown(table.cell("6", "b")) == "5"
    assert "5 students" in rule_sentence(5)


def test_an_empty_cell_describes_nobody_and_is_shown_as_zero() -> None:
    cells = {("6", "a"): Cell(n=0, numerators={"proficient": 0})}
    [table] = suppress_tables([Table(rows=("6",), columns=("a",), cells=cells)])

    assert shown(table.cell("6", "a")) == "0"
    assert shown_percent(table.cell("6", "a"), "proficient") == NO_DATA


def test_percentages_round_half_up_alike_in_text_and_chart() -> None:
    cell = Cell(n=16, numerators={"proficient": 2, "pairs": 40, "pairs_proficient": 25})

    assert shown_percent(cell, "proficient") == "13%"  # 12.5 rounds up, not to even
    assert percent_value(cell, "proficient", digits=1) == Decimal("12.5")
    assert shown_percent(cell, "pairs_proficient", denominator="pairs") == "63%"
    with pytest.raises(KeyError, match="no numerator 'growth'"):
        shown(cell, "growth")


# --- Complementary suppression -------------------------------------------------------------------


def test_one_hidden_cell_in_a_row_with_a_total_hides_the_smallest_other() -> None:
    [table] = suppress_tables([grid([[9, 30, 12, 25]], column_totals=False, grand_total=False)])

    assert hidden_positions(table) == {
        ("r0", "c0"): Reason.SMALL,
        ("r0", "c2"): Reason.COMPLEMENTARY,
    }
    assert shown(table.cell("r0", "c2")) == NOT_SHOWN  # 12 students: "fewer than 10" is false
    assert "worked out from the totals" in explanation(table.cell("r0", "c2"))
    assert shown(table.row_totals["r0"]) == "76"  # type: ignore[index]  # given above


def test_a_column_with_a_total_gets_its_complementary_cell_too() -> None:
    # Sections of a grade: 8 is hidden; without a second hidden cell, 73 - 15 - 20 - 30 = 8.
    [table] = suppress_tables([grid([[8], [15], [20], [30]], row_totals=False, grand_total=False)])

    assert hidden_positions(table) == {
        ("r0", "c0"): Reason.SMALL,
        ("r1", "c0"): Reason.COMPLEMENTARY,
    }


def test_a_complementary_hide_that_opens_a_column_triggers_another() -> None:
    #      c0  c1  c2
    # r0    4  15  30   the 4 is hidden; its row then hides 15, which leaves column c1 with
    # r1   25  12  40   one hidden cell, so 12 is hidden; column c0 likewise hides 25.
    # r2   35  50  60
    [table] = suppress_tables([grid([[4, 15, 30], [25, 12, 40], [35, 50, 60]])])

    assert hidden_positions(table) == {
        ("r0", "c0"): Reason.SMALL,
        ("r0", "c1"): Reason.COMPLEMENTARY,
        ("r1", "c0"): Reason.COMPLEMENTARY,
        ("r1", "c1"): Reason.COMPLEMENTARY,
    }
    assert derivable_by_one_equation(table) == []
    assert determined_by_all_equations(table) == []


def test_two_small_cells_whose_sum_is_small_get_a_third() -> None:
    # 3 + 4 = 7 could be read off the total 117, exposing a group of 7.
    [table] = suppress_tables([grid([[3, 4, 50, 60]], column_totals=False, grand_total=False)])

    assert hidden_positions(table) == {
        ("r0", "c0"): Reason.SMALL,
        ("r0", "c1"): Reason.SMALL,
        ("r0", "c2"): Reason.COMPLEMENTARY,
    }


def test_an_empty_cell_is_never_the_complementary_one() -> None:
    [table] = suppress_tables([grid([[5, 0, 20, 30]], column_totals=False, grand_total=False)])

    assert hidden_positions(table) == {
        ("r0", "c0"): Reason.SMALL,
        ("r0", "c2"): Reason.COMPLEMENTARY,
    }


def test_totals_below_the_minimum_are_hidden_and_protected_in_their_margin() -> None:
    #      c0  c1 | total
    # r0    3   5 |   8    the whole row is small, its total too
    # r1   20  30 |  50    columns c0, c1 each need a second hidden cell; the margin of row
    # r2   40  45 |  85    totals needs a second hidden total (50), whose row is hidden already
    [table] = suppress_tables([grid([[3, 5], [20, 30], [40, 45]])])

    assert hidden_positions(table) == {
        ("r0", "c0"): Reason.SMALL,
        ("r0", "c1"): Reason.SMALL,
        ("r0", "total"): Reason.SMALL,
        ("r1", "c0"): Reason.COMPLEMENTARY,
        ("r1", "c1"): Reason.COMPLEMENTARY,
        ("r1", "total"): Reason.COMPLEMENTARY,
    }
    assert shown(table.row_totals["r0"]) == "fewer than 10"  # type: ignore[index]  # given above
    assert shown(table.grand_total) == "143"  # type: ignore[arg-type]  # given above
    assert derivable_by_one_equation(table) == []
    assert determined_by_all_equations(table) == []


def test_a_total_that_equals_its_only_hidden_part_is_hidden_with_it() -> None:
    # One column: each row total is its one cell. The 9 is hidden, so its row total must be.
    [table] = suppress_tables([grid([[9], [40], [50]])])

    assert ("r0", "total") in hidden_positions(table)
    assert derivable_by_one_equation(table) == []


def test_a_bridge_cell_pinned_down_only_by_combining_lines_is_protected() -> None:
    # Row by row and column by column alone, the rules stop at two blocks of hidden cells,
    # {r0, r1} × {c1, c3} and {r2, r3} × {c0, c2}, joined by the bridge (r3, c1) = 5: each line
    # holds two or more hidden cells, yet column c1 - (row r0 + row r1 - column c3) = (r3, c1).
    single_line_pattern = {
        ("r0", "c1"),
        ("r0", "c3"),
        ("r1", "c1"),
        ("r1", "c3"),
        ("r2", "c0"),
        ("r2", "c2"),
        ("r3", "c0"),
        ("r3", "c1"),
        ("r3", "c2"),
    }
    values = [[56, 7, 39, 23], [50, 6, 52, 5], [23, 50, 13, 39], [9, 5, 17, 31]]
    [table] = suppress_tables([grid(values, grand_total=False)])

    assert set(hidden_positions(table)) == single_line_pattern | {("r3", "c3")}
    assert derivable_by_one_equation(table) == []
    assert determined_by_all_equations(table) == []


def test_a_small_total_readable_from_the_other_margins_is_protected() -> None:
    # Column c0 adds up to 7. Its cells are hidden and so is its total, but the row totals add up
    # to the same grand sum as the column totals: c0 = (all rows) - c1 - c2 - c3, unless one more
    # margin is hidden. The smallest that breaks that sum is row r0's total (18).
    values = [[3, 15, 0, 0], [4, 12, 20, 0], [0, 0, 5, 30], [0, 0, 6, 50]]
    [table] = suppress_tables([grid(values, grand_total=False)])

    hidden = hidden_positions(table)
    assert hidden["total", "c0"] is Reason.SMALL
    assert hidden["r0", "total"] is Reason.COMPLEMENTARY
    assert determined_by_all_equations(table) == []


# --- Differences between filter views: each pair the module lists --------------------------------

WHOLE_AND_PART = {
    "subgroup vs all": (("school", "all"), ("school", "iep")),
    "rest of school vs all": (("school", "all"), ("school", "not iep")),
    "grade vs school": (("school", "all"), ("grade 6", "all")),
    "grade vs school, within a subgroup": (("school", "el"), ("grade 6", "el")),
    "section vs its grade": (("grade 6", "all"), ("section 6A", "all")),
    "teacher vs section": (("teacher T", "all"), ("section 6A", "all")),
    "school vs district": (("district", "all"), ("school", "all")),
}


@pytest.mark.parametrize("pair", list(WHOLE_AND_PART))
@pytest.mark.parametrize(
    ("difference", "hidden"), [(0, False), (1, True), (9, True), (10, False), (25, False)]
)
def test_each_filter_pair_hides_the_part_when_the_difference_is_small(
    pair: str, difference: int, hidden: bool
) -> None:
    whole, part = WHOLE_AND_PART[pair]
    counts = {whole: 60, part: 60 - difference}

    assert suppress_differences([(whole, part)], counts) == ({part} if hidden else set())
    decided = suppress(counts, pairs=[(whole, part)])
    assert decided == ({part: Reason.DIFFERENCE} if hidden else {})


def test_a_small_or_hidden_side_exposes_no_difference() -> None:
    counts = {"all": 15, "iep": 8, "grade": 40, "section": 36}

    # 15 - 8 = 7, but the 8 is hidden anyway; 40 - 36 = 4, but the section is hidden already.
    pairs = [("all", "iep"), ("grade", "section")]
    assert suppress_differences(pairs, counts, hidden={"section"}) == set()


def test_nested_pairs_are_closed_so_hiding_the_middle_leaves_nothing_readable() -> None:
    # school 100 ⊃ grade 95 ⊃ section 92: the grade goes (5), and then school - section = 8
    # would expose the 8 students outside the section, so the section goes too.
    counts = {"school": 100, "grade": 95, "section": 92}
    pairs = [("school", "grade"), ("grade", "section")]

    assert suppress_differences(pairs, counts) == {"grade", "section"}


def test_a_difference_hide_in_a_table_gets_its_complementary_cell() -> None:
    # District page: schools A, B, C with the district total. The middle-school level holds B
    # (200) and a tiny school D (6): level - B = 6, so B is hidden, and then its row needs one more.
    schools = {
        (name, "students"): Cell(n=n, ref=("school", name))
        for name, n in (("A", 100), ("B", 200), ("C", 300))
    }
    table = Table(
        rows=("A", "B", "C"),
        columns=("students",),
        cells=schools,
        column_totals={"students": total_of(schools.values(), ref=("district", "all"))},
    )
    [result] = suppress_tables(
        [table],
        pairs=[(("level", "middle"), ("school", "B")), (("level", "middle"), ("school", "D"))],
        other_counts={("level", "middle"): 206, ("school", "D"): 6},
    )

    assert hidden_positions(result) == {
        ("B", "students"): Reason.DIFFERENCE,
        ("A", "students"): Reason.COMPLEMENTARY,
    }
    assert "comparing this number with another view" in explanation(result.cell("B", "students"))
    assert shown(result.column_totals["students"]) == "600"  # type: ignore[index]  # given above


def test_a_cell_shared_by_two_tables_has_one_fate() -> None:
    # Grade 6 appears in the school's grade table and as the total of the grade's section table.
    # The grade table hides grade 6 to protect grade 7 (8 students); the section table must too.
    grades = {
        ("6", "n"): Cell(n=30, ref="grade 6"),
        ("7", "n"): Cell(n=8, ref="grade 7"),
        ("8", "n"): Cell(n=45, ref="grade 8"),
    }
    by_grade = Table(
        rows=("6", "7", "8"),
        columns=("n",),
        cells=grades,
        column_totals={"n": total_of(grades.values(), ref="school")},
    )
    sections = {("6A", "n"): Cell(n=14), ("6B", "n"): Cell(n=16)}
    by_section = Table(
        rows=("6A", "6B"),
        columns=("n",),
        cells=sections,
        column_totals={"n": total_of(sections.values(), ref="grade 6")},
    )
    grade_table, section_table = suppress_tables([by_grade, by_section])

    assert grade_table.cell("6", "n").hidden
    assert section_table.column_totals["n"].hidden  # type: ignore[index]  # given above
    # And the section table then protects its own hidden total: one section is hidden with it.
    assert sum(cell.hidden for cell in section_table.cells.values()) == 1


# --- Bad input says what is wrong ----------------------------------------------------------------


def test_bad_input_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="not the sum of its cells"):
        Table(
            rows=("6",),
            columns=("iep", "el"),
            cells={("6", "iep"): Cell(n=12), ("6", "el"): Cell(n=15)},
            row_totals={"6": Cell(n=20)},  # programmes overlap: no total to declare
        )
    with pytest.raises(ValueError, match="cannot be part of"):
        suppress_differences([("grade", "school")], {"grade": 40, "school": 400})
    with pytest.raises(ValueError, match="at least 1"):
        suppress({}, min_n=0)
    with pytest.raises(ValueError, match="at least 0"):
        Cell(n=-1)
    with pytest.raises(ValueError, match="in one place and"):
        suppress_tables(
            [
                Table(rows=("x",), columns=("y",), cells={("x", "y"): Cell(n=12, ref="g6")}),
                Table(rows=("x",), columns=("y",), cells={("x", "y"): Cell(n=13, ref="g6")}),
            ]
        )
    with pytest.raises(ValueError, match="no count for"):
        suppress({"a": 12}, pairs=[("a", "b")])


# --- Properties on random data -------------------------------------------------------------------

counts_strategy = st.one_of(st.integers(0, 12), st.integers(0, 60))


@st.composite
def random_tables(draw: st.DrawFn) -> tuple[Table, int]:
    height = draw(st.integers(1, 4))
    width = draw(st.integers(1, 4))
    values = [[draw(counts_strategy) for _ in range(width)] for _ in range(height)]
    row_totals = draw(st.booleans())
    column_totals = draw(st.booleans())
    table = grid(
        values,
        row_totals=row_totals,
        column_totals=column_totals,
        grand_total=draw(st.booleans()),
    )
    return table, draw(st.integers(1, 12))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(random_tables())
def test_after_suppression_nothing_small_is_shown_or_derivable(drawn: tuple[Table, int]) -> None:
    table, min_n = drawn
    [result] = suppress_tables([table], min_n=min_n)
    cells = all_cells(result)

    assert not [cell.n for cell in cells if not cell.hidden and 0 < cell.n < min_n]
    assert not [cell for cell in cells if cell.hidden and cell.n == 0]
    assert derivable_by_one_equation(result) == []
    for total, parts in equations(result):
        if not total.hidden:
            hidden_sum = sum(part.n for part in parts if part.hidden)
            assert not 0 < hidden_sum < min_n, "hidden parts add up to a small, readable group"
    assert determined_by_all_equations(result) == []
    assert suppress_tables([table], min_n=min_n) == [result]  # deterministic


@st.composite
def nested_groups(draw: st.DrawFn) -> tuple[dict[Hashable, int], list[tuple[str, str]], int]:
    """A random tree of groups (school, grades, sections...), each part no larger than its whole."""
    counts: dict[Hashable, int] = {"g0": draw(st.integers(0, 80))}
    pairs = []
    for index in range(1, draw(st.integers(1, 12))):
        parent = f"g{draw(st.integers(0, index - 1))}"
        child = f"g{index}"
        counts[child] = draw(st.integers(0, counts[parent]))
        pairs.append((parent, child))
    return counts, pairs, draw(st.integers(1, 12))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(nested_groups())
def test_no_two_shown_nested_groups_differ_by_a_small_group(
    drawn: tuple[dict[Hashable, int], list[tuple[str, str]], int],
) -> None:
    counts, pairs, min_n = drawn
    hidden = suppress(counts, min_n=min_n, pairs=pairs)
    parent = {child: whole for whole, child in pairs}

    def ancestors(ref: str) -> list[str]:
        found = []
        while ref in parent:
            ref = parent[ref]
            found.append(ref)
        return found

    for ref, n in counts.items():
        assert ref in hidden or not 0 < n < min_n
        for whole in ancestors(str(ref)):
            if ref not in hidden and whole not in hidden:
                difference = counts[whole] - n
                assert not 0 < difference < min_n, f"{whole} - {ref} = {difference} is readable"


# --- Families nested in families: fates decided above ---------------------------------------------


def test_a_total_decided_shown_above_is_never_the_cell_hidden_below() -> None:
    """Grades of 5, 12 and 30 under a school total of 47 that the district showed: the 5 is
    hidden, and the cell hidden to protect it is the grade of 12, never the total."""
    school = Cell(n=47, ref="school")
    (stamped,) = suppress_tables(
        [
            Table(
                rows=("03", "04", "05"),
                columns=("n",),
                cells={
                    ("03", "n"): Cell(n=5, ref="g3"),
                    ("04", "n"): Cell(n=12, ref="g4"),
                    ("05", "n"): Cell(n=30, ref="g5"),
                },
                column_totals={"n": school},
            )
        ],
        decided=[school],
    )
    assert [stamped.cells[g, "n"].hidden for g in ("03", "04", "05")] == [True, True, False]
    assert not stamped.column_totals["n"].hidden  # type: ignore[index]


def test_a_total_hidden_above_stays_hidden_and_its_parts_cannot_give_it_away() -> None:
    """The district hid a school of 50 (to protect a smaller school): its grades of 20 and 30
    would add up to it, so one of them is hidden too; with no line, nothing else is."""
    assert suppress(
        {"school": 50, "g3": 20, "g4": 30}, decided={"school": Reason.COMPLEMENTARY}
    ) == {"school": Reason.COMPLEMENTARY}
    hidden_above = Cell(
        n=50, ref="school", suppression=Suppression(reason=Reason.COMPLEMENTARY, min_n=10)
    )
    (stamped,) = suppress_tables(
        [
            Table(
                rows=("03", "04"),
                columns=("n",),
                cells={("03", "n"): Cell(n=20, ref="g3"), ("04", "n"): Cell(n=30, ref="g4")},
                column_totals={"n": Cell(n=50, ref="school")},
            )
        ],
        decided=[hidden_above],
    )
    assert stamped.column_totals["n"].hidden  # type: ignore[index]
    assert [stamped.cells[g, "n"].hidden for g in ("03", "04")] == [True, False]


def test_a_small_cell_cannot_have_been_decided_shown() -> None:
    with pytest.raises(ValueError, match="decided shown above"):
        suppress({"school": 5}, decided={"school": None})


def test_a_decided_cell_must_be_the_same_number() -> None:
    with pytest.raises(ValueError, match="describes 40 students here and 47 above"):
        suppress_tables(
            [
                Table(
                    rows=("a",),
                    columns=("n",),
                    cells={("a", "n"): Cell(n=40, ref="school")},
                )
            ],
            decided=[Cell(n=47, ref="school")],
        )
