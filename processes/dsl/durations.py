"""Durations as authors write them: ``30`` (seconds), ``"30s"``, ``"1h30m"``, ``"PT30S"``."""

from __future__ import annotations

import math
import re

_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_NUMBER = r"\d+(?:\.\d+)?"
_SIMPLE_PART = re.compile(rf"\s*({_NUMBER})\s*(ms|s|m|h|d|w)", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(_NUMBER)
# ISO 8601 durations without years and months: their length in seconds depends on the calendar.
_ISO = re.compile(
    rf"P(?:({_NUMBER})W)?(?:({_NUMBER})D)?"
    rf"(?:T(?:({_NUMBER})H)?(?:({_NUMBER})M)?(?:({_NUMBER})S)?)?",
    re.IGNORECASE,
)
_ISO_SECONDS = (604800.0, 86400.0, 3600.0, 60.0, 1.0)


def parse_duration(value: object) -> float:
    """Return `value` in seconds; raise ValueError when it is not a duration.

    Accepts a non-negative number of seconds, a number in a string, unit sums such as
    ``"1h30m"`` or ``"1h 30m"`` (units ms, s, m, h, d, w) and ISO 8601 ``"P1DT2H"``.
    """
    if isinstance(value, str):
        seconds = _parse_text(value.strip())
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
    else:
        # A list where a duration belongs is bad document input like "5 parsecs": one error type.
        raise ValueError(f"{value!r:.40} is not a duration")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{value!r:.40} is not a duration: it must be finite and non-negative")
    return seconds


def _parse_text(text: str) -> float:
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    iso = _ISO.fullmatch(text)
    # "P" and "PT" alone match the pattern but say nothing.
    if iso and any(iso.groups()) and not text.upper().endswith("T"):
        return sum(float(n) * unit for n, unit in zip(iso.groups(), _ISO_SECONDS, strict=True) if n)
    parts = list(_SIMPLE_PART.finditer(text))
    if parts and "".join(p.group(0) for p in parts) == text:
        return sum(float(p.group(1)) * _UNIT_SECONDS[p.group(2).lower()] for p in parts)
    raise ValueError(
        f'{text!r:.40} is not a duration (write e.g. 30, "30s", "5m", "1h30m", "2d" or "PT30S")'
    )
