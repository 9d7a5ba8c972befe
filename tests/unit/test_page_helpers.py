"""Small text helpers the pages share."""

import pytest

from pages._shared import count


@pytest.mark.parametrize(
    ("number", "plural", "expected"),
    [
        (1, "entries", "1 entry"),
        (2, "entries", "2 entries"),
        (1, "organizations", "1 organization"),
        (0, "events", "0 events"),
    ],
)
def test_counts_use_the_singular_only_for_one(number, plural, expected):
    assert count(number, plural) == expected
