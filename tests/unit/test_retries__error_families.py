"""Dotted error names form families: a rule naming `HttpError` handles `HttpError.404`; a
rule naming `HttpError.404` handles only that one; a name is no family of a longer word."""

import pytest

from processes.dsl.graph import ALL_ERRORS, CatchRule, RetryRule
from processes.engine.retries import catch_target, error_matches, retry_delay


@pytest.mark.parametrize(
    ("names", "error", "matches"),
    [
        (("HttpError",), "HttpError.404", True),
        (("HttpError",), "HttpError", True),
        (("HttpError.404",), "HttpError.404", True),
        (("HttpError.404",), "HttpError.500", False),
        (("HttpError.404",), "HttpError", False),
        (("Http",), "HttpError.404", False),
        (("HttpErr",), "HttpError.404", False),
        (("Acme",), "Acme.Mail.Bounced", True),
        (("Acme.Mail",), "Acme.Mail.Bounced", True),
        (("Acme.Sms",), "Acme.Mail.Bounced", False),
        ((ALL_ERRORS,), "HttpError.503", True),
        (("States.Timeout",), "States.Timeout", True),
        (("States.Timeout",), "HttpError.504", False),
    ],
)
def test_error_families__match(names, error, matches):
    assert error_matches(names, error) is matches


def test_error_families__first_matching_rule_decides():
    catch = (
        CatchRule(error_equals=("HttpError.404",), next="missing"),
        CatchRule(error_equals=("HttpError",), next="broken"),
    )
    assert catch_target(catch, error="HttpError.404") == "missing"
    assert catch_target(catch, error="HttpError.502") == "broken"
    assert catch_target(catch, error="PublishFailed") is None
    retry = (RetryRule(error_equals=("HttpError",), interval_seconds=2, max_attempts=3),)
    assert retry_delay(retry, error="HttpError.503", attempt=1) == 2
    assert retry_delay(retry, error="HttpError.503", attempt=3) is None
