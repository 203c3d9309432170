"""What the catch steps share (message_catch, signal_catch): a token waits at the step, held
by a Subscription, until its message or signal comes; an event gateway arms the same
subscription for a token resting at the gateway (a deferred choice).

A catch step may carry a `timeout` (YAML `timeoutSeconds`): when it passes first, the step
fails with `States.Timeout`, which its `catch` rules can route like a service step's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from processes.dsl.graph import TIMEOUT_ERROR, Node
from processes.dsl.parts import read_catch
from processes.engine.expressions import ExpressionError
from processes.engine.plan import Activate
from processes.nodes.base import NodeKind

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk
    from processes.models import Subscription, Timer, Token
    from processes.services.advance import Change

CATCH_FIELDS = ("next", "timeout_seconds", "catch")


class CatchKind(NodeKind, abstract=True):
    subscription_kind: ClassVar[str]  # SubscriptionKind: what the step waits for

    def subscription_of(self, node: Node, variables: dict[str, Any]) -> tuple[str, str]:
        """(name, correlation key) of the subscription a token arriving now opens;
        ExpressionError when the key's template cannot be evaluated."""
        return node.signal, ""

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        walk.emit(Activate(node.id, arrived_from))

    def enter(self, change: Change, node: Node, arrived_from: str) -> None:
        """Place the token and its subscription (and its timeout), then offer it the
        messages buffered for it."""
        from django.utils import timezone

        from processes.services.advance import fail_on_expression, token_place
        from processes.services.subscriptions import subscriptions_take_buffered
        from processes.services.timers import timer_schedule
        from processes.statuses import TokenHolder

        try:
            prepared = self.event_prepare(node, change.instance.variables, now=timezone.now())
        except ExpressionError as exc:
            fail_on_expression(change, node, arrived_from, exc)
            return
        token = token_place(change, node, arrived_from, holder=TokenHolder.SUBSCRIPTION)
        subscription = self.event_arm(change, node, token_id=token.pk, prepared=prepared)
        if node.timeout_seconds is not None:
            due_at = timezone.now() + timedelta(seconds=node.timeout_seconds)
            timer_schedule(change, token_id=token.pk, step_id=node.id, due_at=due_at)
        subscriptions_take_buffered(change, [subscription])

    # An event step: what an event gateway arms (see processes.nodes.event_gateway).

    def event_prepare(self, node: Node, variables: dict[str, Any], *, now) -> tuple[str, str]:
        return self.subscription_of(node, variables)

    def event_arm(
        self, change: Change, node: Node, *, token_id: int, prepared: tuple[str, str]
    ) -> Subscription:
        """Open the step's subscription for `token_id` (resting here, or at the event
        gateway that arms this step)."""
        from processes.services.subscriptions import subscription_open

        name, key = prepared
        return subscription_open(
            change,
            token_id=token_id,
            step_id=node.id,
            kind=self.subscription_kind,
            name=name,
            correlation_key=key,
        )

    def subscription_deliver(self, change: Change, subscription: Subscription) -> None:
        """The event came: the token moves on (or, armed by an event gateway, this step
        wins the choice)."""
        from processes.nodes.event_gateway import catch_step_happened

        subscription.deliver()
        subscription.save()
        catch_step_happened(change, token_id=subscription.token_id, node_id=subscription.step_id)

    def timer_fire(self, change: Change, timer: Timer, *, reason: str = "") -> None:
        """The step's timeout passed first: it fails with States.Timeout (its `catch` may
        route that) and stops waiting."""
        from processes.services.advance import token_fail_or_catch
        from processes.services.subscriptions import token_waits_cancel
        from processes.services.timers import timer_mark_fired

        timer_mark_fired(change, timer, reason=reason, timeout=True)
        token_waits_cancel(change, token_id=timer.token_id)
        node = change.graph.node(timer.step_id)
        seconds = f"{node.timeout_seconds:g}"
        token_fail_or_catch(
            change,
            node=node,
            token_id=timer.token_id,
            error=TIMEOUT_ERROR,
            message=f"no {self.subscription_kind} '{timer.step_id}' waited for came within"
            f" {seconds} s",
        )

    def cancel(self, change: Change, *, by_engine: bool = False) -> None:
        """Cancel the instance's waiting subscriptions of this kind (a terminate), those of
        catch steps and of boundary events alike."""
        from processes.models import Subscription
        from processes.services.subscriptions import subscriptions_cancel
        from processes.statuses import SubscriptionStatus

        waiting = Subscription.objects.filter(
            instance=change.instance,
            kind=self.subscription_kind,
            status=SubscriptionStatus.WAITING,
        )
        subscriptions_cancel(change, waiting.select_for_update(of=("self",)), by_engine=by_engine)

    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        """Nothing arrives while the instance does not run: a message waits in the buffer
        (if sent with a ttl) and is offered again on resume; a signal is gone."""

    def retry(self, change: Change, token: Token) -> None:
        """A catch step fails on the way in (its key) or by its timeout: wait again."""
        from processes.services.advance import token_walk_again

        token_walk_again(change, token)


def read_catch_parts(section: Section, link: Links, *, timeout_key: str) -> dict[str, Any]:
    """The timeout and catch rules every catch step may carry."""
    return {
        "timeout_seconds": section.duration(timeout_key),
        "catch": read_catch(section, "catch", link),
    }
