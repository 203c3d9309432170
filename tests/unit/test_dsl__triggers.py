"""Start triggers as written: a top-level `triggers` list in JSON and YAML, each one of `cron`,
`every` or `message` with optional start `variables`; their problems with JSON pointers;
the stored graph keeps them, and one stored without them reads as none. Pure: no database."""

import json
from datetime import UTC, datetime

import pytest

from processes.dsl import DefinitionError, compile_definition
from processes.dsl.graph import Graph, StartTrigger
from processes.engine.schedules import cron_next, cron_problem, every_next

VARIABLES = {"report": {"type": "string", "required": True}, "pages": "integer"}


def document(triggers, **extra) -> dict:
    return {
        "name": "daily-report",
        "variables": VARIABLES,
        "triggers": triggers,
        "steps": [{"id": "done", "type": "end"}],
        **extra,
    }


def compile_json(triggers, **extra) -> Graph:
    return compile_definition(json.dumps(document(triggers, **extra)), "json")


def json_problems(triggers, **extra) -> list[tuple[str, str]]:
    with pytest.raises(DefinitionError) as caught:
        compile_json(triggers, **extra)
    return [(p.path, p.message) for p in caught.value.problems]


YAML = """\
kind: WorkflowDefinition
metadata: {name: daily-report}
triggers:
%s
spec:
  variables: {report: {type: string, required: true}, pages: integer}
  startAt: done
  states:
    - {name: done, type: succeed}
"""


def yaml_problems(triggers: str) -> list[tuple[str, str, int | None]]:
    with pytest.raises(DefinitionError) as caught:
        compile_definition(YAML % triggers, "yaml")
    return [(p.path, p.message, p.line) for p in caught.value.problems]


def test_json__reads_each_kind_with_its_variables():
    graph = compile_json(
        [
            {"cron": "0  9 * * MON-FRI", "variables": {"report": "daily"}},
            {"every": "1h", "variables": {"report": "hourly", "pages": 2}},
            {"every": "PT30S", "variables": {"report": "often"}},
            {"message": "order-placed"},
        ]
    )
    assert graph.triggers == (
        StartTrigger(kind="cron", spec="0 9 * * MON-FRI", variables={"report": "daily"}),
        StartTrigger(kind="every", spec="1h", variables={"report": "hourly", "pages": 2}),
        StartTrigger(kind="every", spec="PT30S", variables={"report": "often"}),
        StartTrigger(kind="message", spec="order-placed"),
    )
    assert str(graph.triggers[0]) == "cron 0 9 * * MON-FRI"


def test_yaml__reads_a_top_level_triggers_list_with_the_same_keys():
    graph = compile_definition(
        YAML % '  - {cron: "30 7 1 JAN-MAR *", variables: {report: quarterly}}\n'
        "  - {every: 90, variables: {report: soon}}\n"
        "  - {message: invoice-received}",
        "yaml",
    )
    assert graph.triggers == (
        StartTrigger(kind="cron", spec="30 7 1 JAN-MAR *", variables={"report": "quarterly"}),
        StartTrigger(kind="every", spec="90", variables={"report": "soon"}),
        StartTrigger(kind="message", spec="invoice-received"),
    )


def test_no_triggers__an_empty_tuple():
    graph = compile_definition(
        json.dumps({"name": "plain", "steps": [{"id": "a", "type": "end"}]}), "json"
    )
    assert graph.triggers == ()


def test_stored_graph__keeps_the_triggers_and_reads_an_older_one_without_them():
    graph = compile_json([{"every": "1h", "variables": {"report": "x"}}, {"message": "go"}])
    stored = json.loads(json.dumps(graph.to_dict()))
    assert stored["triggers"] == [
        {"kind": "every", "spec": "1h", "variables": {"report": "x"}},
        {"kind": "message", "spec": "go", "variables": {}},
    ]
    assert Graph.from_dict(stored) == graph
    del stored["triggers"]
    assert Graph.from_dict(stored).triggers == ()


@pytest.mark.parametrize(
    ("cron", "message"),
    [
        ("61 9 * * *", "field 1 (minute) '61' is not valid there"),
        ("0 9 * * FRY", "field 5 (day of week) 'FRY' is not valid there"),
        ("0 25 * * *", "field 2 (hour) '25' is not valid there"),
        (
            "0 9 * *",
            "a cron expression has 5 fields (minute, hour, day of month, month, day of"
            " week), this one has 4",
        ),
        ("0 0 30 2 *", "'0 0 30 2 *' matches no date (such as 30 February)"),
        (
            "@daily",
            "a cron expression has 5 fields (minute, hour, day of month, month, day of"
            " week), this one has 1",
        ),
    ],
)
def test_malformed_cron__says_what_is_wrong_at_its_pointer(cron, message):
    assert json_problems([{"cron": cron, "variables": {"report": "r"}}]) == [
        ("/triggers/0/cron", message)
    ]


def test_malformed_every__says_what_is_wrong_at_its_pointer():
    assert json_problems(
        [
            {"every": "soon", "variables": {"report": "r"}},
            {"every": "0.5s", "variables": {"report": "r"}},
            {"every": 0, "variables": {"report": "r"}},
        ]
    ) == [
        (
            "/triggers/0/every",
            '\'every\': \'soon\' is not a duration (write e.g. 30, "30s", "5m", "1h30m",'
            ' "2d" or "PT30S")',
        ),
        ("/triggers/1/every", "'every' must be at least 1 second"),
        ("/triggers/2/every", "'every' must be longer than zero"),
    ]


def test_two_kinds_unknown_keys_none_and_not_an_object__each_named():
    assert json_problems(
        [
            {"cron": "0 9 * * *", "every": "1h"},
            {"message": "go", "when": "now"},
            {"variables": {"report": "r"}},
            "hourly",
        ]
    ) == [
        ("/triggers/3", "must be an object, not a string"),
        (
            "/triggers/0/every",
            "give one of 'cron', 'every' or 'message', not both 'cron' and 'every'",
        ),
        (
            "/triggers/1/when",
            "unknown key 'when' in a trigger (expected: cron, every, message, variables)",
        ),
        ("/triggers/2", "a trigger needs one of 'cron', 'every' or 'message'"),
    ]


def test_duplicate_message_names__the_second_is_refused():
    assert json_problems([{"message": "go"}, {"message": "stop"}, {"message": "go"}]) == [
        ("/triggers/2/message", "message 'go' already has a trigger at /triggers/0/message")
    ]


def test_variables__checked_as_a_start_checks_them():
    assert json_problems(
        [
            {"every": "1h"},  # a scheduled start has nothing else: `report` is required
            {"every": "1h", "variables": {"report": "r", "pages": "many"}},
            {"message": "go", "variables": {"pages": 3}},  # the message may bring `report`
            {"message": "stop", "variables": {"pages": "x"}},
            {"every": "1h", "variables": ["report"]},
        ]
    ) == [
        ("/triggers/0/variables/report", "variable 'report' is required"),
        ("/triggers/1/variables/pages", "variable 'pages' must be of type integer, not a string"),
        ("/triggers/3/variables/pages", "variable 'pages' must be of type integer, not a string"),
        ("/triggers/4/variables", "'variables' must be an object, not a list"),
    ]


def test_strict_variables__an_undeclared_trigger_variable_is_refused():
    assert json_problems(
        [{"every": "1h", "variables": {"report": "r", "colour": "red"}}], strict_variables=True
    ) == [
        (
            "/triggers/0/variables/colour",
            "variable 'colour' is not a variable this process declares",
        )
    ]


def test_triggers_not_a_list_or_too_many__a_problem():
    assert json_problems({"cron": "0 9 * * *"}) == [("/triggers", "must be a list, not an object")]
    many = [{"message": f"m{n}"} for n in range(101)]
    assert json_problems(many) == [("/triggers", "a definition may have at most 100 triggers")]


def test_yaml__problems_carry_pointer_and_line():
    assert yaml_problems(
        '  - {cron: "0 9 * * SUNDAY", variables: {report: r}}\n  - {every: 1h}'
    ) == [
        ("/triggers/0/cron", "field 5 (day of week) 'SUNDAY' is not valid there", 4),
        ("/triggers/1/variables/report", "variable 'report' is required", 5),
    ]


def test_cron_next__the_next_match_after_a_time_in_its_zone():
    monday_9 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert cron_next("0 9 * * MON-FRI", after=datetime(2026, 11, 28, 12, tzinfo=UTC)) == monday_9
    assert cron_next("0 9 * * MON-FRI", after=monday_9) == datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert cron_problem("*/15 8-18 * * 1-5") is None


def test_every_next__keeps_the_cadence_and_skips_missed_slots():
    slot = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    hour = 3600.0
    assert every_next(hour, slot=slot, after=datetime(2026, 1, 1, 11, tzinfo=UTC)) == slot
    assert every_next(hour, slot=slot, after=slot) == datetime(2026, 1, 1, 13, tzinfo=UTC)
    # Down from 12:00 to 15:30: one start for all of it, then 16:00.
    later = datetime(2026, 1, 1, 15, 30, tzinfo=UTC)
    assert every_next(hour, slot=slot, after=later) == datetime(2026, 1, 1, 16, tzinfo=UTC)
