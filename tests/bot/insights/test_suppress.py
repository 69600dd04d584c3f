"""Cells of fewer than 5 people are hidden, and so is what would give them away."""

from __future__ import annotations

import pytest

from bot.insights.suppress import apply, hidden_cells, shown


def test_cells_of_fewer_than_five_people_are_hidden() -> None:
    assert apply([40, 3, 2, 0], [20, 3, 1, 0]) == [40, None, None, 0]


def test_a_lone_hidden_cell_takes_the_next_smallest_with_it_when_a_total_is_shown() -> None:
    # total 60 shown: with only "3" hidden it would be 60 - 40 - 10 - 7 = 3.
    assert apply([40, 10, 7, 3], [30, 9, 6, 3]) == [40, 10, None, None]
    assert hidden_cells([30, 9, 6, 3]) == {2, 3}
    # Without a total, the lone small cell alone is hidden.
    assert apply([40, 10, 7, 3], [30, 9, 6, 3], total_shown=False) == [40, 10, 7, None]


def test_nothing_to_hide_and_empty_cells() -> None:
    assert apply([], []) == []
    assert apply([0, 0], [0, 0]) == [0, 0]
    assert apply([12, 5], [6, 5]) == [12, 5]


def test_the_people_not_the_count_decide() -> None:
    # One person asked 30 times: still one person.
    assert apply([30, 100], [1, 50]) == [None, None]


def test_shown_and_errors() -> None:
    assert (shown(None), shown(7)) == ("<5", "7")
    with pytest.raises(ValueError):
        apply([1], [1, 2])


def test_the_smallest_count_goes_with_a_lone_hidden_cell() -> None:
    # People are known exactly only below 5 (the sketches stop there): among
    # cells of "5 or more" people, the smallest count is hidden, not the first.
    assert apply([70, 6, 2], [5, 5, 2]) == [70, None, None]
