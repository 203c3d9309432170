"""Retry and catch policies: which error is retried, after how long, and where a caught one goes.

The first rule whose `error_equals` names the error (or `States.ALL`) decides, as in the
YAML format's origin. Error names form dotted families: a rule naming `HttpError` matches
`HttpError.404` and `HttpError.503` too (every name that starts with `HttpError.`), while
`HttpError.404` matches only itself. This is the one place names are matched.
"""

from __future__ import annotations

from collections.abc import Iterable

from processes.dsl.graph import ALL_ERRORS, CatchRule, RetryRule


def error_matches(error_equals: Iterable[str], error: str) -> bool:
    """Whether a rule naming `error_equals` handles `error`: by name, by a family the name
    belongs to (`HttpError` for `HttpError.404`), or with `States.ALL`."""
    names = set(error_equals)
    if ALL_ERRORS in names or error in names:
        return True
    family, dot, _ = error.rpartition(".")
    while dot:
        if family in names:
            return True
        family, dot, _ = family.rpartition(".")
    return False


def retry_delay(rules: Iterable[RetryRule], *, error: str, attempt: int) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when the error is not retried."""
    for rule in rules:
        if error_matches(rule.error_equals, error):
            if attempt >= rule.max_attempts:
                return None
            return rule.interval_seconds * rule.backoff_rate ** (attempt - 1)
    return None


def catch_target(rules: Iterable[CatchRule], *, error: str) -> str | None:
    for rule in rules:
        if error_matches(rule.error_equals, error):
            return rule.next
    return None
