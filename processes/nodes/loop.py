"""Multi-instance steps: a service, user or subprocess step run once per item of a list.

JSON ``"config": {"for_each": {"items": "${approvers}", "as": "approver", "parallel": true,
"max_concurrency": 0, "complete_when": "${loop.completed >= 2}", "collect": "approvals"}}``;
YAML the `map` state (`processes.nodes.map`) with `itemsPath`, `itemName`,
`maxConcurrency`, `completeWhen`, `resultPath`.

`LoopHost` is what the kinds that take `for_each` share: a token entering such a step goes
to `processes.services.loops`, which runs the items through the kind's `enter_one`.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from typing import TYPE_CHECKING

from processes.dsl.fields import check_condition, check_template
from processes.dsl.graph import ForEach, Node
from processes.nodes.boundary import BoundaryHost

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.services.advance import Change
    from processes.services.loops import Item

LOOP_VARIABLE = "loop"  # what an item sees of its loop: `loop.index`, `loop.total`
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")


def read_for_each(config: Section) -> ForEach | None:
    """A JSON step's `for_each`, or None."""
    if not config.has("for_each"):
        return None
    section = config.section("for_each")
    parallel = section.flag("parallel") if section.has("parallel") else True
    concurrency = section.integer("max_concurrency", default=0, minimum=0)
    if not parallel and concurrency > 1:
        section.problem("max_concurrency", "'parallel': false runs one item at a time")
    return _for_each(
        section,
        items="items",
        as_name="as",
        max_concurrency=concurrency if parallel else 1,
        complete_when="complete_when",
        collect="collect",
    )


def read_map(state: Section) -> ForEach:
    """A YAML map state's `itemsPath`, `itemName`, `maxConcurrency` (0: all at once),
    `completeWhen` and `resultPath` (a variable name; "$.name" reads as "name")."""
    return _for_each(
        state,
        items="itemsPath",
        as_name="itemName",
        max_concurrency=state.integer("maxConcurrency", default=0, minimum=0),
        complete_when="completeWhen",
        collect="resultPath",
    )


def _for_each(
    section: Section,
    *,
    items: str,
    as_name: str,
    max_concurrency: int,
    complete_when: str,
    collect: str,
) -> ForEach:
    items_text = section.text(items, required=True)
    if items_text:
        check_template(items_text, section.at(items), section.problems, step=section.step)
    when = section.text(complete_when)
    if when:
        check_condition(when, section.at(complete_when), section.problems, step=section.step)
    result = section.text(collect)
    if result.startswith("$."):
        result = result[2:]
    return ForEach(
        items=items_text,
        as_name=_variable_name(section, as_name, section.text(as_name, default="item")),
        max_concurrency=max_concurrency,
        complete_when=when,
        collect=_variable_name(section, collect, result) if result else "",
    )


def _variable_name(section: Section, key: str, name: str) -> str:
    if not _NAME.fullmatch(name):
        section.problem(
            key,
            f"'{key}' must be a variable name (letters, digits and _, not starting with a"
            f" digit, at most 100), not {name!r}",
        )
    elif name == LOOP_VARIABLE:
        section.problem(key, f"'{key}' cannot be '{LOOP_VARIABLE}': items see their loop there")
    return name


class LoopHost(BoundaryHost, abstract=True):
    """A kind whose steps may run once per item (`Node.for_each`): a token entering such a
    step rests there for the whole loop (carrying its boundary events) while one token per
    item runs the kind's own step (`enter_one`)."""

    def enter(self, change: Change, node: Node, arrived_from: str) -> None:
        if node.for_each is None:
            self.enter_one(change, node, arrived_from, item=None)
            return
        from processes.services.loops import loop_enter

        loop_enter(change, node=node, arrived_from=arrived_from)

    @abstractmethod
    def enter_one(self, change: Change, node: Node, arrived_from: str, *, item: Item | None):
        """Run the step once: for the token arriving (`item` None), or for one item of its
        loop, whose variables the templates see (its token placed with `item.place`)."""

    def holder_cancel(self, change: Change, token_id: int) -> None:
        from processes.services.loops import loop_cancel

        if not (change.graph.has_loops and loop_cancel(change, token_id=token_id)):
            self.holder_cancel_one(change, token_id)

    @abstractmethod
    def holder_cancel_one(self, change: Change, token_id: int) -> None:
        """Cancel what holds `token_id`, a token of one run of the step."""


def item_payload(item: Item | None) -> dict[str, int]:
    """What an item adds to its run's events: its place in the list."""
    return {} if item is None else item_named(item.index)


def item_named(index: int | None) -> dict[str, int]:
    """An item's place in its list for an event's payload (nothing for a step run once)."""
    return {} if index is None else {"loop_index": index}


def item_token(change: Change, node: Node, arrived_from: str, item: Item | None) -> int | None:
    """For an item whose run fails on its way in, the token it fails with (a retry runs it
    as that item again); None for a step run once (the failure places its own)."""
    if item is None:
        return None
    from processes.services.advance import token_place
    from processes.statuses import TokenHolder

    return token_place(change, node, arrived_from, holder=TokenHolder.NOTHING, item=item).pk
