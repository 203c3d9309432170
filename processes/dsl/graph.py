"""The one internal graph every definition format compiles to.

The graph is plain, immutable data: the engine walks it without a database, and a
published version stores it as JSON (``Graph.to_dict`` / ``Graph.from_dict``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from typing import Any

ALL_ERRORS = "States.ALL"
SCOPE_SEPARATOR = "/"  # between the map steps of a scope path (`Graph.scope`)
TIMEOUT_ERROR = "States.Timeout"


@dataclass(frozen=True)
class RetryRule:
    """Retry an attempt that failed with one of `error_equals`.

    `max_attempts` counts every attempt, the first included: 3 means at most two retries.
    The n-th retry waits `interval_seconds * backoff_rate ** (n - 1)`.
    """

    error_equals: tuple[str, ...]
    interval_seconds: float = 1.0
    max_attempts: int = 3
    backoff_rate: float = 1.0


@dataclass(frozen=True)
class Compensation:
    """A service step's undo: `service` run with `input` (templates rendered against the
    variables when the compensation is scheduled), retried by `retry` as a step is."""

    service: str
    input: Any = None
    retry: tuple[RetryRule, ...] = ()


@dataclass(frozen=True)
class ForEach:
    """A step run once per item of a list (multi-instance): `items` is a template giving the
    list; each item sees it as `as_name` and `loop.index` (from 0). At most
    `max_concurrency` items run at once (0: all). The step ends when every item did, or when
    `complete_when` holds after one; `collect` names the variable that gets the results, in
    item order."""

    items: str
    as_name: str = "item"
    max_concurrency: int = 0
    complete_when: str = ""
    collect: str = ""


@dataclass(frozen=True)
class CatchRule:
    """Route to `next` when the step fails for good with one of `error_equals`."""

    error_equals: tuple[str, ...]
    next: str


@dataclass(frozen=True)
class BoundaryEvent:
    """An event on a step that waits (service, user): when it happens, the path goes on at
    `next`. `type` names what it waits for ("timer", "message", "signal"); an interrupting
    one cancels the step, another starts a new path beside it (a timer up to `repeat`
    times, None: forever; a message or signal each time one comes)."""

    type: str
    next: str
    interrupting: bool = True
    wait_seconds: float | None = None  # timer: how long after the step is entered
    wait_until: str = ""  # timer: or until when (a `${...}` template may give it)
    repeat: int | None = 1
    message: str = ""  # message: its name
    correlation_key: str = ""  # message: a `${...}` template evaluated when the step starts
    signal: str = ""  # signal: its name


@dataclass(frozen=True)
class Condition:
    """An exclusive-gateway branch: `expression` is a `${...}` template or a bare expression."""

    expression: str
    next: str


@dataclass(frozen=True)
class FormField:
    """A field of a user step's form: string, text, number, integer, money, boolean, date or
    choice. A money field carries its ISO 4217 `currency`."""

    type: str
    required: bool = False
    label: str = ""
    help: str = ""
    choices: tuple[Any, ...] = ()
    min: float | None = None
    max: float | None = None
    default: Any = None
    currency: str = ""


@dataclass(frozen=True)
class VariableSpec:
    """A variable the definition declares: its type and, for the start form, how to ask."""

    type: str
    required: bool = False
    label: str = ""
    help: str = ""
    default: Any = None
    currency: str = ""

    def as_field(self) -> dict[str, Any]:
        """The form schema entry of this variable (see `tasks.forms.schema_field`): what is
        declared, without the defaults."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name == "type" or getattr(self, f.name) != f.default
        }

    def stored(self) -> str | dict[str, Any]:
        """As a version stores it: the bare type when nothing else is declared."""
        field = self.as_field()
        return self.type if field == {"type": self.type} else field


@dataclass(frozen=True)
class StartTrigger:
    """Starts an instance of the definition's latest version: on a `cron` schedule, `every`
    interval, or when a `message` of that name finds no waiting instance. `spec` is the cron
    expression, the duration or the message name as written; `variables` the start's."""

    kind: str  # "cron", "every" or "message"
    spec: str
    variables: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.kind} {self.spec}"


@dataclass(frozen=True)
class Node:
    """A step of the graph. `type` names its kind (`processes.nodes`), which says which of
    the fields below it reads and what a token does there."""

    id: str
    name: str
    type: str
    next: tuple[str, ...] = ()
    # service
    service: str = ""
    input: Any = None  # templates rendered against the variables when the job is scheduled
    timeout_seconds: float | None = None
    retry: tuple[RetryRule, ...] = ()
    catch: tuple[CatchRule, ...] = ()
    boundary: tuple[BoundaryEvent, ...] = ()  # service, user
    compensation: Compensation | None = None  # service: what a `compensate` step runs
    # user
    assignee: str = ""  # a username, a group name or a `${...}` template
    candidate_users: tuple[str, ...] = ()
    candidate_groups: tuple[str, ...] = ()
    form: dict[str, FormField] = field(default_factory=dict)
    due_in_seconds: float | None = None
    priority: int = 0
    # exclusive
    conditions: tuple[Condition, ...] = ()
    default: str = ""
    # timer: wait this long, or until this ISO date and time (a `${...}` template may give it)
    wait_seconds: float | None = None
    wait_until: str = ""
    # message_catch, signal_catch: what it waits for (the key is a `${...}` template)
    message: str = ""
    correlation_key: str = ""
    signal: str = ""
    # fail (and an end that fails with an error)
    error: str = ""
    cause: str = ""
    # end: a terminate end completes the whole instance at once
    terminate: bool = False
    # subprocess: the definition it starts (its `version` number; None: the latest when
    # the step is entered), and the templates rendered against the child's variables
    definition: str = ""
    version: int | None = None
    output: Any = None
    # service, user, subprocess, map: run once per item of a list
    for_each: ForEach | None = None
    # map: the steps each item runs, as a child instance of the same version
    iterator: Graph | None = None

    def targets(self) -> tuple[str, ...]:
        """Every node this one can hand a token to, in declared order, without repeats."""
        found = [*self.next, *(c.next for c in self.conditions)]
        if self.default:
            found.append(self.default)
        found.extend(c.next for c in self.catch)
        found.extend(b.next for b in self.boundary)
        return tuple(dict.fromkeys(found))


@dataclass(frozen=True)
class Graph:
    key: str
    name: str
    start: str
    nodes: dict[str, Node]
    description: str = ""
    version_label: str = ""  # the author's own `version` field, informational
    variables: dict[str, VariableSpec] = field(default_factory=dict)
    strict_variables: bool = False  # refuse variables the definition does not declare
    triggers: tuple[StartTrigger, ...] = ()
    # How long a finished instance of this version is kept, in seconds (JSON `retention`,
    # YAML `spec.retention`); None: FLOWDESK_DEFAULT_RETENTION decides
    # (`processes.services.purge`).
    retention: float | None = None

    def node(self, node_id: str) -> Node:
        return self.nodes[node_id]

    def scope(self, path: str) -> Graph:
        """The graph a map's items run: `path` names the map steps from this graph down
        ("review" or "review/check"); "" is this graph."""
        graph = self
        for step_id in filter(None, path.split(SCOPE_SEPARATOR)):
            iterator = graph.nodes[step_id].iterator
            if iterator is None:
                raise KeyError(f"step {step_id!r} runs no steps of its own")
            graph = iterator
        return graph

    def predecessors(self, node_id: str) -> tuple[str, ...]:
        return self._predecessors.get(node_id, ())

    @cached_property
    def _predecessors(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {}
        for node in self.nodes.values():
            for target in node.targets():
                found.setdefault(target, []).append(node.id)
        return {node_id: tuple(ids) for node_id, ids in found.items()}

    def is_join(self, node_id: str) -> bool:
        # The kinds are built on this module, so their registry is imported when asked.
        from processes.nodes import node_kind

        node = self.nodes[node_id]
        return node_kind(node).joins and len(self.predecessors(node_id)) > 1

    @cached_property
    def has_loops(self) -> bool:
        """Whether a step runs for each item of a list (the rest need no loop lookups)."""
        return any(node.for_each is not None for node in self.nodes.values())

    @cached_property
    def has_joins(self) -> bool:
        return any(self.is_join(node_id) for node_id in self.nodes)

    @cached_property
    def reachable_joins(self) -> tuple[str, ...]:
        """The joins that wait only for the tokens that can still reach them (OR-joins):
        empty for most graphs, which spares their instances the check after each change."""
        from processes.nodes import node_kind

        return tuple(
            node_id
            for node_id, node in self.nodes.items()
            if node_kind(node).joins_reachable and self.is_join(node_id)
        )

    def upstream(self, node_id: str) -> frozenset[str]:
        """The nodes from which a token can reach `node_id` without passing through it."""
        if node_id not in self._upstream:
            found: set[str] = set()
            pending = [node_id]
            while pending:
                for source in self.predecessors(pending.pop()):
                    if source != node_id and source not in found:
                        found.add(source)
                        pending.append(source)
            self._upstream[node_id] = frozenset(found)
        return self._upstream[node_id]

    @cached_property
    def _upstream(self) -> dict[str, frozenset[str]]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data in the current `FORMAT`; variables and form fields as [name,
        value] pairs, because PostgreSQL's jsonb re-sorts object keys and their order is
        what people see."""
        data = {"format": FORMAT, **asdict(self)}
        data["variables"] = [[name, spec.stored()] for name, spec in self.variables.items()]
        for node_id, node in data["nodes"].items():
            node["form"] = list(node["form"].items())
            iterator = self.nodes[node_id].iterator
            node["iterator"] = iterator.to_dict() if iterator is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Graph:
        """A stored graph, of this format or upgraded from an older one: a version
        published years ago keeps running."""
        data = graph_upgrade(data)
        nodes = {node_id: _node_from_dict(raw) for node_id, raw in data["nodes"].items()}
        return cls(
            key=data["key"],
            name=data["name"],
            start=data["start"],
            nodes=nodes,
            description=data.get("description", ""),
            version_label=data.get("version_label", ""),
            variables={name: _variable_from_dict(spec) for name, spec in data["variables"]},
            strict_variables=data.get("strict_variables", False),
            # Graphs stored before triggers existed have none.
            triggers=tuple(StartTrigger(**t) for t in data.get("triggers", ())),
            # Graphs stored before retention existed say nothing: the default applies.
            retention=data.get("retention"),
        )


# The shape of a stored graph. 1 (stored without a number): variables and form fields as an
# object or as [name, value] pairs. 2: always as pairs, and the number written.
FORMAT = 2


def graph_upgrade(data: dict[str, Any]) -> dict[str, Any]:
    """A stored graph in the current format; ValueError for one newer than this code."""
    version = data.get("format", 1)
    if not isinstance(version, int) or version > FORMAT or version < 1:
        raise ValueError(f"a stored graph of format {version!r}; this Flowdesk reads 1 to {FORMAT}")
    while version < FORMAT:
        data = _UPGRADES[version](data)
        version = data["format"]
    return data


def _format_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
    return {
        **data,
        "format": 2,
        "variables": _pairs(data.get("variables", [])),
        "nodes": {
            node_id: {**raw, "form": _pairs(raw.get("form", []))}
            for node_id, raw in data["nodes"].items()
        },
    }


_UPGRADES = {1: _format_1_to_2}


def _pairs(value: dict | list) -> list[list[Any]]:
    """A mapping stored as an object (oldest versions) or as [name, value] pairs."""
    return [list(pair) for pair in (value.items() if isinstance(value, dict) else value)]


def _variable_from_dict(spec: str | dict[str, Any]) -> VariableSpec:
    # Versions published before declarations had options stored the bare type name.
    return VariableSpec(type=spec) if isinstance(spec, str) else VariableSpec(**spec)


def _node_from_dict(raw: dict[str, Any]) -> Node:
    return Node(
        **{
            **raw,
            "next": tuple(raw.get("next", ())),
            "retry": tuple(_retry_from_dict(r) for r in raw.get("retry", ())),
            "catch": tuple(
                CatchRule(**{**c, "error_equals": tuple(c["error_equals"])})
                for c in raw.get("catch", ())
            ),
            "boundary": tuple(BoundaryEvent(**b) for b in raw.get("boundary", ())),
            "candidate_users": tuple(raw.get("candidate_users", ())),
            "candidate_groups": tuple(raw.get("candidate_groups", ())),
            "form": {
                name: FormField(**{**f, "choices": tuple(f.get("choices", ()))})
                for name, f in raw["form"]
            },
            "conditions": tuple(Condition(**c) for c in raw.get("conditions", ())),
            "compensation": _compensation_from_dict(raw.get("compensation")),
            "for_each": ForEach(**raw["for_each"]) if raw.get("for_each") else None,
            "iterator": Graph.from_dict(raw["iterator"]) if raw.get("iterator") else None,
        }
    )


def _retry_from_dict(raw: dict[str, Any]) -> RetryRule:
    return RetryRule(**{**raw, "error_equals": tuple(raw["error_equals"])})


def _compensation_from_dict(raw: dict[str, Any] | None) -> Compensation | None:
    if raw is None:
        return None
    return Compensation(**{**raw, "retry": tuple(_retry_from_dict(r) for r in raw["retry"])})
