"""A compensate step: undoes the instance's completed steps, latest first, then continues.

JSON ``{"type": "compensate", "next": [...]}``; YAML ``type: compensate`` with `next` or
`end`. It runs the `compensation` of every completed service step that has one, in reverse
order of completion, each once (a step that completed twice is undone twice, latest
first; one undone already is not undone again), each as a job with the compensation's own
retry rules, one after the other (`processes.services.compensations`); then the token
moves on. Typical use: a `catch` route leads here, then to a `fail` or an `end`.

In BPMN it is an intermediate throw event with a compensateEventDefinition; the steps it
undoes keep their task shape (no compensation boundary events or association are drawn).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import EVENT_SIZE, BpmnElement
from processes.dsl.graph import Node
from processes.engine.plan import Activate
from processes.nodes.base import Names, NodeKind, YamlPlace

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Links
    from processes.engine.routing import Walk
    from processes.models import Token
    from processes.services.advance import Change


class CompensateKind(NodeKind):
    type = "compensate"
    json_type = "compensate"
    yaml_type = "compensate"
    fields = ("next",)
    bpmn = BpmnElement(
        "intermediateThrowEvent", *EVENT_SIZE, event_definition="compensateEventDefinition"
    )

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        return {"next": tuple(link(target, path) for target, path in next_names)}

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        return {"next": place.successor(state)}

    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        walk.emit(Activate(node.id, arrived_from))

    def enter(self, change: Change, node: Node, arrived_from: str) -> None:
        """Place the token, held until the compensations ran, and start them."""
        from processes.services.advance import token_place
        from processes.services.compensations import compensation_start
        from processes.statuses import TokenHolder

        token_place(change, node, arrived_from, holder=TokenHolder.COMPENSATION)
        compensation_start(change, by=node.id)

    def cancel(self, change: Change, *, by_engine: bool = False) -> None:
        # The compensations' jobs are service jobs: the service kind cancels them.
        pass

    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        # A compensation's outcome that came meanwhile is a service job's (the service
        # kind applies it, which schedules the next compensation).
        pass

    def retry(self, change: Change, token: Token) -> None:
        # Its token does not fail here (a compensation fails at the step it undoes).
        from processes.services.advance import token_walk_again

        token_walk_again(change, token)


KIND = CompensateKind()
