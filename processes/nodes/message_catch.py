"""A message catch step: waits for a message of a name whose correlation key matches.

JSON ``{"type": "message_catch", "config": {"message": "payment-received",
"correlation_key": "${order_id}", "timeout"?: "7d", "catch"?: [...]}}``; YAML ``type: event``
with `event`, `correlationKey`, optional `timeoutSeconds` and `catch`. The key is evaluated
when a token arrives; the message's variables are merged into the instance
(`processes.services.messages.message_correlate`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import EVENT_SIZE, BpmnElement
from processes.dsl.fields import check_template
from processes.dsl.graph import Node
from processes.nodes.base import Names, YamlPlace
from processes.nodes.catching import CATCH_FIELDS, CatchKind, read_catch_parts

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.services.advance import Change


class MessageCatchKind(CatchKind):
    type = "message_catch"
    json_type = "message_catch"
    yaml_type = "event"
    fields = ("message", "correlation_key", *CATCH_FIELDS)
    bpmn = BpmnElement(
        "intermediateCatchEvent", *EVENT_SIZE, event_definition="messageEventDefinition"
    )
    subscription_kind = "message"  # SubscriptionKind.MESSAGE (no ORM here)

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        return {
            **read_message(config, name_key="message", key_key="correlation_key"),
            **read_catch_parts(config, link, timeout_key="timeout"),
            "next": tuple(link(target, path) for target, path in next_names),
        }

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        return {
            **read_message(state, name_key="event", key_key="correlationKey"),
            **read_catch_parts(state, place.link, timeout_key="timeoutSeconds"),
            "next": place.successor(state),
        }

    def subscription_of(self, node: Node, variables: dict[str, Any]) -> tuple[str, str]:
        from processes.services.subscriptions import correlation_key_render

        return node.message, correlation_key_render(node.correlation_key, variables)

    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        """Offer the instance's waiting message subscriptions the messages buffered for them
        meanwhile (a suspended instance takes none)."""
        from processes.models import Subscription
        from processes.services.subscriptions import subscriptions_take_buffered
        from processes.statuses import SubscriptionStatus

        waiting = Subscription.objects.filter(
            instance=change.instance, kind=self.subscription_kind
        ).filter(status=SubscriptionStatus.WAITING)
        for subscription in list(waiting):
            # An earlier delivery may have ended this one's token (a choice, an interrupt).
            if waiting.filter(pk=subscription.pk).exists():
                subscriptions_take_buffered(change, [subscription])


def read_message(section: Section, *, name_key: str, key_key: str) -> dict[str, str]:
    """A message name (required, plain text) and an optional correlation key template."""
    name = section.text(name_key, required=True)
    if "${" in name:
        section.problem(name_key, f"'{name_key}' is a message name, not a template")
    key = section.text(key_key)
    if key and "${" in key:
        check_template(key, section.at(key_key), section.problems, step=section.step)
    return {"message": name, "correlation_key": key}


KIND = MessageCatchKind()
