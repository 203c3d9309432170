"""What every node kind says about itself, and the check that it said all of it.

A kind is one class, one instance of which is registered in `processes.nodes`. Its parts:

* its spec: `type` (stored in the graph), `fields` (the Node fields it reads);
* its readers: `json_type` / `read_json`, `yaml_type` / `read_yaml`;
* its pure part of the walk: `walk` (what happens when a token arrives), with
  `ends_path` and `forks` for validation and the pages;
* its BPMN element: `bpmn`;
* its database hooks: `enter` (a token arrives and rests here), `cancel` (the instance is
  terminated), `suspend` (it is suspended), `resume` (the instance runs again), `retry` (an
  operator retries a token that failed here), and, for a kind that sets timers or opens
  subscriptions, `timer_fire` and `subscription_deliver`.

The pure parts are plain methods. The hooks run inside a locked instance change
(`processes.services.advance.Change`) and import the ORM where they run, so the engine,
which imports the registry, stays free of it. A subclass that leaves a hook or an attribute
out raises TypeError when its module is imported, not when a token first reaches it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from processes.bpmn.elements import BpmnElement
from processes.dsl.graph import Node

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.graph import Graph
    from processes.dsl.outline import Draft, Links
    from processes.dsl.problems import Problems
    from processes.engine.routing import Walk
    from processes.models import Subscription, Timer, Token
    from processes.services.advance import Change

Names = list[tuple[str, str]]  # (step id, pointer where it is written)

# What every kind must set on its class.
REQUIRED_ATTRIBUTES = ("type", "json_type", "yaml_type", "fields", "bpmn")


class YamlPlace(Protocol):
    """Where a YAML state is read: what a kind's `read_yaml` needs of the YAML reader."""

    link: Links
    in_branch: bool  # inside a parallel branch, whose end flows into the join

    def successor(self, state: Section) -> tuple[str, ...]:
        """The state's `next`; with none, or `end: true`, the branch's exit (or nothing)."""

    def read_parallel(self, state: Section) -> dict[str, Any]:
        """Read a parallel state's branches; the fork node's fields."""

    def read_iterator(self, state: Section) -> Graph | None:
        """Read a map state's `iterator: {startAt, states}` as a graph of its own (None
        when it has problems, which are reported)."""


class NodeKind(ABC):
    type: ClassVar[str]
    json_type: ClassVar[str]
    yaml_type: ClassVar[str]
    fields: ClassVar[tuple[str, ...]]  # the Node fields this kind reads, beyond id/name/type
    bpmn: ClassVar[BpmnElement]
    ends_path: ClassVar[bool] = False  # a path ends here (validation: not a dead end)
    joins: ClassVar[bool] = False  # with several predecessors, it joins them
    # As a join, it waits only for the tokens that can still reach it (an OR-join), and
    # `release` fires it when the last of them went elsewhere; else it waits for them all.
    joins_reachable: ClassVar[bool] = False

    def __init_subclass__(cls, *, abstract: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if abstract:
            return
        # ABCMeta settles __abstractmethods__ only after this runs, and refuses an abstract
        # class only when it is instantiated: look for the parts left out here instead.
        missing = sorted(
            name
            for name in dir(cls)
            if getattr(getattr(cls, name, None), "__isabstractmethod__", False)
        )
        missing += [name for name in REQUIRED_ATTRIBUTES if not hasattr(cls, name)]
        if missing:
            raise TypeError(f"node kind {cls.__name__} does not define: {', '.join(missing)}")
        unknown = set(cls.fields) - set(Node.__dataclass_fields__)
        if unknown:
            raise TypeError(f"node kind {cls.__name__} reads no Node field {sorted(unknown)}")

    # The readers: the Node fields of a step written in each format.

    @abstractmethod
    def read_json(
        self, step: Section, config: Section, next_names: Names, link: Links
    ) -> dict[str, Any]: ...

    @abstractmethod
    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any] | None:
        """None: the state makes no node of its own (a `succeed` inside a branch)."""

    def yaml_branch_alias(self, state: Mapping[str, Any]) -> bool:
        """Inside a parallel branch, the YAML state (its raw data) is a name for the
        branch's exit, not a node (`read_yaml` returns None for it there)."""
        return False

    def check(self, draft: Draft, problems: Problems, *, service_exists) -> None:
        """Checks of a compiled step that need more than its own text (the services)."""
        return  # most kinds need none

    def check_links(self, draft: Draft, declared: dict[str, Draft], problems: Problems) -> None:
        """Checks of the steps this one leads to (an event gateway's must be event steps)."""
        return  # most kinds need none

    # The pure walk.

    @abstractmethod
    def walk(self, node: Node, arrived_from: str, walk: Walk) -> None:
        """A token arrives at `node`: emit what happens and hand it on (`walk.go`)."""

    def release(self, node: Node, walk: Walk) -> None:
        """A kind that `joins_reachable`: tokens wait at join `node` and another token of the
        instance moved; fire the join (`walk.emit`, `walk.go`) if none can reach it now."""
        raise TypeError(f"a {self.type} node is released by no other token ({node.id})")

    def forks(self, graph: Graph, node: Node) -> bool:
        """The node passes a token on to all its targets at once, leaving no trace."""
        return False

    def error_code(self, node: Node) -> str | None:
        """The error the instance ends with at this node, if it is an error end."""
        return None

    def bpmn_element(self, node: Node) -> BpmnElement:
        """The node's BPMN element: the kind's, unless the node's fields change it."""
        return self.bpmn

    def bpmn_expressions(self, node: Node) -> dict[str, str]:
        """The expressions inside the node's BPMN event definition, by tag (a timer's
        `timeDuration`)."""
        return {}

    # The database hooks, run under the instance's row lock.

    @abstractmethod
    def enter(self, change: Change, node: Node, arrived_from: str) -> None:
        """A token arrives and rests here: place it and what holds it (a job, a task)."""

    @abstractmethod
    def cancel(self, change: Change, *, by_engine: bool = False) -> None:
        """The instance is terminated: cancel what holds its tokens at nodes of this kind,
        each with its event: the change's actor's (a person terminated), or with
        `by_engine` the engine's (a terminate end was reached)."""

    def suspend(self, change: Change) -> None:
        """The instance is suspended: hold what runs on its behalf elsewhere (a child
        instance). Jobs and tasks need nothing: their outcomes wait for the resume."""
        return  # most kinds need none

    @abstractmethod
    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        """The instance runs again: apply outcomes that arrived while it did not."""

    @abstractmethod
    def retry(self, change: Change, token: Token) -> None:
        """An operator retries the instance: `token` failed at a node of this kind."""

    def timer_fire(self, change: Change, timer: Timer, *, reason: str = "") -> None:
        """A timer this kind set at its node is due (the sweeper or a resume found it), or a
        person fires it ahead of time for `reason` (pass it on to `timer_mark_fired`)."""
        raise TypeError(f"a {self.type} node sets no timers ({timer.step_id})")

    def subscription_deliver(self, change: Change, subscription: Subscription) -> None:
        """A message or signal this kind waited for at its node came (its variables are
        merged and its event recorded already)."""
        raise TypeError(f"a {self.type} node waits for no messages ({subscription.step_id})")


class PassingKind(NodeKind, abstract=True):
    """A node no token rests at (gateways, ends): nothing to enter, cancel or resume."""

    def enter(self, change: Change, node: Node, arrived_from: str) -> None:
        raise TypeError(f"a token does not rest at a {self.type} node ({node.id})")

    def cancel(self, change: Change, *, by_engine: bool = False) -> None:
        pass

    def resume(self, change: Change, *, rerun_failed: bool) -> None:
        pass

    def retry(self, change: Change, token: Token) -> None:
        from processes.services.advance import token_walk_again

        token_walk_again(change, token)
