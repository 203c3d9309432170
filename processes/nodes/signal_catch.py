"""A signal catch step: waits for a signal of a name, broadcast to every instance waiting
for it (`processes.services.messages.signal_broadcast`).

JSON ``{"type": "signal_catch", "config": {"signal": "quarter-closed", "timeout"?, "catch"?}}``;
YAML ``type: signal`` with `signal`, optional `timeoutSeconds` and `catch` (a Flowdesk
addition: the seed's format has no signals).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import EVENT_SIZE, BpmnElement
from processes.nodes.base import Names, YamlPlace
from processes.nodes.catching import CATCH_FIELDS, CatchKind, read_catch_parts

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links


class SignalCatchKind(CatchKind):
    type = "signal_catch"
    json_type = "signal_catch"
    yaml_type = "signal"
    fields = ("signal", *CATCH_FIELDS)
    bpmn = BpmnElement(
        "intermediateCatchEvent", *EVENT_SIZE, event_definition="signalEventDefinition"
    )
    subscription_kind = "signal"  # SubscriptionKind.SIGNAL (no ORM here)

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        return {
            "signal": read_signal(config, "signal"),
            **read_catch_parts(config, link, timeout_key="timeout"),
            "next": tuple(link(target, path) for target, path in next_names),
        }

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        return {
            "signal": read_signal(state, "signal"),
            **read_catch_parts(state, place.link, timeout_key="timeoutSeconds"),
            "next": place.successor(state),
        }


def read_signal(section: Section, key: str) -> str:
    name = section.text(key, required=True)
    if "${" in name:
        section.problem(key, f"'{key}' is a signal name, not a template")
    return name


KIND = SignalCatchKind()
