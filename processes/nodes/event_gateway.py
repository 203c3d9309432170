"""An event-based gateway (deferred choice): the token waits here for whichever of its
targets' events comes first, then goes on through that target; the others are disarmed
and recorded as cancelled.

JSON ``{"type": "event_gateway", "next": ["wait_payment", "wait_7_days"]}``; YAML
``type: event_gateway`` with a list `next`. Every target must be a `timer`,
`message_catch` or `signal_catch` step — a kind with `event_prepare` and `event_arm`: the
gateway arms each target's Timer or Subscription on its own token, and the target's kind,
when its event comes, hands the token on (`catch_step_happened`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import GATEWAY_SIZE, BpmnElement
from processes.dsl.graph import Node
from processes.engine.expressions import ExpressionError
from processes.engine.plan import Activate
from processes.nodes.base import Names, NodeKind, YamlPlace

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Draft, Links
    from processes.dsl.problems import Problems
    from processes.engine.routing import Walk
    from processes.models import Token
    from processes.services.advance import Change


class EventGatewayKind(NodeKind):
    type = "event_gateway"
    json_type = "event_gateway"
    yaml_type = "event_gateway"
    fields = ("next",)
    bpmn = BpmnElement("eventBasedGateway", *GATEWAY_SIZE)

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        return {"next": _targets(step, "next", next_names, link)}

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        return {"next": _targets(state, "next", state.names("next"), place.link)}

    def check_links(self, draft: Draft, declared: dict[str, Draft], problems: Problems) -> None:
        """Each target must be a step that waits for an event."""
        from processes.nodes import KINDS, node_kind

        events = ", ".join(k.json_type for k in KINDS.values() if is_event_step(k))
        for ref in draft.refs:
            target = declared.get(ref.target)
            if target is None or target.node is None:
                continue  # reported already (unknown or broken step)
            kind = node_kind(target.node)
            if not is_event_step(kind):
                problems.add(
                    ref.path,
                    f"an event_gateway leads only to event steps ({events});"
                    f" '{ref.target}' is a {kind.json_type} step",
                    step=draft.id,
                )

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        walk.emit(Activate(node.id, arrived_from))

    def enter(self, change: Change, node: Node, arrived_from: str) -> None:
        """Work out every target's due time or key first (a bad template fails the gateway
        before anything is armed), then place the token and arm each target on it."""
        from django.utils import timezone

        from processes.nodes import node_kind
        from processes.services.advance import fail_on_expression, token_place
        from processes.services.subscriptions import subscriptions_take_buffered
        from processes.statuses import TokenHolder

        targets = [change.graph.node(target) for target in node.next]
        variables, now = change.instance.variables, timezone.now()
        try:
            prepared = [node_kind(t).event_prepare(t, variables, now=now) for t in targets]
        except ExpressionError as exc:
            fail_on_expression(change, node, arrived_from, exc)
            return
        token = token_place(change, node, arrived_from, holder=TokenHolder.SUBSCRIPTION)
        armed = [
            node_kind(target).event_arm(change, target, token_id=token.pk, prepared=ready)
            for target, ready in zip(targets, prepared, strict=True)
        ]
        subscriptions_take_buffered(change, [row for row in armed if row is not None])

    def cancel(self, change: Change, *, by_engine: bool = False) -> None:
        """Nothing of its own: the targets' kinds cancel the timers and subscriptions."""

    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        """Nothing of its own: the targets' kinds fire overdue timers and buffered messages."""

    def retry(self, change: Change, token: Token) -> None:
        """The gateway fails only on the way in (a target's template): arm again."""
        from processes.services.advance import token_walk_again

        token_walk_again(change, token)


def is_event_step(kind: NodeKind) -> bool:
    """A kind an event gateway can arm: it says how (`event_prepare`, `event_arm`)."""
    return hasattr(kind, "event_arm") and hasattr(kind, "event_prepare")


def _targets(section: Section, key: str, names: Names, link: Links) -> tuple[str, ...]:
    if len(names) < 2:
        section.problem(key, "an event_gateway needs at least two event steps to choose from")
    return tuple(link(target, path) for target, path in names)


def catch_step_happened(change: Change, *, token_id: int, node_id: str) -> None:
    """The event of catch step `node_id` came for `token_id`, resting at the step or at the
    event gateway that armed it. The token's other waits are disarmed (cancelled, by the
    engine): a catch step's timeout, or, at a gateway, the choice's other events, where this
    step wins the choice; then the token goes on through the step."""
    from processes.models import Token
    from processes.services.advance import token_move_on
    from processes.services.subscriptions import token_waits_cancel
    from processes.statuses import EventType

    # Whatever else the token waits for is over: the choice's other events, or the catch
    # step's own timeout.
    token_waits_cancel(change, token_id=token_id)
    resting_at = Token.objects.values_list("node_id", flat=True).get(pk=token_id)
    if resting_at != node_id:
        change.log.add_by_engine(EventType.GATEWAY_EVALUATED, resting_at, next=node_id)
    token_move_on(change, token_id=token_id, node_id=node_id)


KIND = EventGatewayKind()
