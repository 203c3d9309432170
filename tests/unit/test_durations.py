"""Durations as authors write them, in seconds."""

import pytest

from processes.dsl.durations import parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (1.5, 1.5),
        (0, 0.0),
        ("30", 30.0),
        ("30s", 30.0),
        ("500ms", 0.5),
        ("5m", 300.0),
        ("2h", 7200.0),
        ("3d", 259200.0),
        ("1w", 604800.0),
        ("1h30m", 5400.0),
        ("1h 30m", 5400.0),
        ("1.5h", 5400.0),
        (" 10S ", 10.0),
        ("PT30S", 30.0),
        ("PT1M30S", 90.0),
        ("P1DT2H", 93600.0),
        ("P2W", 1209600.0),
        ("pt5m", 300.0),
    ],
)
def test_accepted_spellings(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize(
    "value",
    ["", "abc", "5 parsecs", "1h-30m", "h", "P", "PT", "P1DT", "P1M", "-5s", "1e3s", "30s junk"],
)
def test_junk_text_is_a_value_error(value):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf"), 10**400, True, None, [30], {}])
def test_non_durations_are_value_errors(value):
    with pytest.raises(ValueError, match="is not a duration"):
        parse_duration(value)
