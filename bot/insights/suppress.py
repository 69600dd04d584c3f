"""Small cells hidden, so that no figure points at a person.

The rule statistics offices use for published tables: a cell counting fewer
than ``MIN_PEOPLE`` distinct people is not shown ("<5"), and where a table
also shows its total, one hidden cell would be given away by subtraction, so
the next smallest cell is hidden too (complementary suppression). A table's
total itself is shown only when it counts at least ``MIN_PEOPLE`` people.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_PEOPLE = 5
HIDDEN = "<5"


def hidden_cells(
    people: Sequence[int], values: Sequence[int] | None = None, *, total_shown: bool = True
) -> set[int]:
    """Indexes of the cells to hide, given how many people each cell counts.

    Cells with 0 people are empty, not hidden (nothing to protect). With
    ``total_shown``, a lone hidden cell takes the shown non-empty cell with the
    smallest value (``values``, else people) with it, so the total minus the
    shown cells cannot reveal it.
    """
    hidden = {i for i, n in enumerate(people) if 0 < n < MIN_PEOPLE}
    if total_shown and len(hidden) == 1:
        size = values if values is not None else people
        shown = [(size[i], i) for i, n in enumerate(people) if n > 0 and i not in hidden]
        if shown:
            hidden.add(min(shown)[1])
    return hidden


def apply(
    values: Sequence[int], people: Sequence[int], *, total_shown: bool = True
) -> list[int | None]:
    """``values`` with the hidden cells as ``None``."""
    if len(values) != len(people):
        raise ValueError("values and people differ in length")
    hidden = hidden_cells(people, values, total_shown=total_shown)
    return [None if i in hidden else v for i, v in enumerate(values)]


def shown(value: int | None) -> str:
    """A cell as the page and the CSV show it."""
    return HIDDEN if value is None else str(value)
