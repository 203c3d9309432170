"""The YAML format: ``kind: WorkflowDefinition`` with ``spec.states`` (states-language style)
and, at the top beside `spec`, the start `triggers` (as in JSON).

State types: those of the node kinds (`processes.nodes.YAML_KINDS`: task, user, choice,
parallel, succeed, fail), each read by its kind. A `user` state takes the user-task fields
(assignee, candidate_users, candidate_groups, form, due_date, priority) either on the state
itself or under its `config:`, not both.

A parallel state `p` compiles to a fork node `p` whose targets are the branches' first
states, and a join node `p.join` that goes on to `p`'s own next. A branch state that ends
(`end: true`, no next, or a `succeed`) flows into the join; when a branch can end in more
than one state, those flow through an exclusive merge node `p.merge<i>` first, because a
join waits for every predecessor and the alternatives of one branch never all arrive.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.nodes import Node as YamlNode

from processes.dsl.fields import MAX_VALUES, Section, check_plain_data, kind_of, sections_of
from processes.dsl.graph import Graph, Node
from processes.dsl.outline import Draft, Links, Outline, Ref
from processes.dsl.parts import link_all, read_start, read_variables
from processes.dsl.problems import Problems, child
from processes.dsl.triggers import read_triggers
from processes.dsl.validation import build_graph
from processes.nodes import YAML_KINDS
from processes.nodes.boundary import boundary_refuse
from processes.nodes.exclusive import merge_node
from processes.nodes.parallel import gateway_node


class _Loader(yaml.SafeLoader):
    """Leaves unquoted dates as strings: a definition holds JSON values only."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(source: str) -> tuple[Outline | None, Problems]:
    """Parse `source`; the Outline is None when the text is not a usable YAML document."""
    problems = Problems()
    try:
        root, data = load_yaml(source)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        what = ", ".join(part for part in (error.context, error.problem) if part)
        problems.add("", f"invalid YAML: {what}{where}", line=line)
        return None, problems
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:
        problems.add("", f"invalid YAML: {error}")  # a reader error, a 5000-digit integer...
        return None, problems
    except RecursionError:
        problems.add("", "invalid YAML: the document is nested too deeply")
        return None, problems
    lines = yaml_lines(root) if root is not None else {}
    if lines is None:
        problems.add("", f"the document holds more than {MAX_VALUES} values")
        return None, problems
    problems = Problems(lines)
    if not check_plain_data(data, problems):
        return None, problems
    if not isinstance(data, Mapping):
        problems.add("", f"a definition must be a YAML mapping, not {kind_of(data)}")
        return None, problems
    return _read_document(Section(data, "", problems)), problems


def load_yaml(source: str) -> tuple[YamlNode | None, Any]:
    """The node tree (for line numbers) and the data of a one-document stream."""
    loader = _Loader(source)  # reads ahead, so it may raise already
    try:
        root = loader.get_single_node()
        return root, loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


def yaml_lines(root: YamlNode) -> dict[str, int] | None:
    """Map each JSON pointer of the document to its 1-based line; None when too large.

    A mapping member's line is its key's. Aliases are walked where they are used, so the
    walk is capped: a few lines of anchors can stand for billions of values.
    """
    lines: dict[str, int] = {}
    pending: list[tuple[str, YamlNode]] = [("", root)]
    visits = 0
    while pending:
        path, node = pending.pop()
        visits += 1
        if visits > MAX_VALUES:
            return None
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, MappingNode):
            for key, value in node.value:
                name = key.value if isinstance(key, ScalarNode) else str(key.start_mark)
                lines[child(path, name)] = key.start_mark.line + 1
                pending.append((child(path, name), value))
        elif isinstance(node, SequenceNode):
            pending.extend((child(path, index), item) for index, item in enumerate(node.value))
    return lines


def _read_document(document: Section) -> Outline:
    document.text("apiVersion")
    kind = document.text("kind")
    if kind and kind != "WorkflowDefinition":
        document.problem("kind", f"'kind' must be WorkflowDefinition, not '{kind}'")
    metadata = document.section("metadata")
    name = metadata.text("name", required=True)
    key = metadata.text("key", required=True) if metadata.has("key") else name
    spec = document.section("spec")
    version_label = spec.label("version")
    description = spec.text("description")
    variables = read_variables(spec)
    strict_variables = spec.flag("strictVariables")
    retention = spec.duration("retention")
    triggers = read_triggers(document, declared=variables, strict=strict_variables)
    top = spec.sections("states", required=True)
    if spec.data.get("states") == []:
        spec.problem("states", "a definition needs at least one state")
    states = _States()
    states.read(top, scope="", exit=None)
    return Outline(
        key=key,
        name=name,
        start=read_start(spec, "startAt", top, id_key="name"),
        drafts=states.drafts,
        description=description,
        version_label=version_label,
        variables=variables,
        strict_variables=strict_variables,
        triggers=triggers,
        retention=retention,
    )


class _Place:
    """Where a state is read (`processes.nodes.base.YamlPlace`)."""

    def __init__(
        self, states: _States, *, name: str, scope: str, exit: tuple[str, str] | None, link: Links
    ) -> None:
        self._states, self._name, self._scope, self._exit = states, name, scope, exit
        self.link = link
        self.in_branch = exit is not None

    def successor(self, state: Section) -> tuple[str, ...]:
        return _successor(state, self._exit, self.link)

    def read_parallel(self, state: Section) -> dict[str, tuple[str, ...]]:
        return self._states.read_parallel(
            state, self._name, scope=self._scope, exit=self._exit, link=self.link
        )

    def read_iterator(self, state: Section) -> Graph | None:
        return self._states.read_iterator(state, self._name)


class _States:
    """Reads lists of states, descending into parallel branches, into `drafts`."""

    def __init__(self) -> None:
        self.drafts: list[Draft] = []
        self.inner: dict[str, list[Draft]] = {}  # a map state's iterator steps, by its name

    def read(
        self, states: list[Section], *, scope: str, exit: tuple[str, str] | None
    ) -> dict[str, tuple[str, str]]:
        """Read one list of states; `exit` is (join, its scope) inside a parallel branch.

        Returns the aliases of the list: its `succeed` states, when inside a branch.
        """
        aliases: dict[str, tuple[str, str]] = {}
        if exit is not None:
            for state in states:
                name = state.data.get("name")
                kind = YAML_KINDS.get(state.data.get("type"))
                alias = kind is not None and kind.yaml_branch_alias(state.data)
                if alias and isinstance(name, str):
                    aliases[name] = exit
        for state in states:
            self._read_state(state, scope=scope, exit=exit, aliases=aliases)
        return aliases

    def _read_state(
        self,
        state: Section,
        *,
        scope: str,
        exit: tuple[str, str] | None,
        aliases: dict[str, tuple[str, str]],
    ) -> None:
        name = state.text("name", required=True)
        state.step = name or None
        type_name = state.text("type", required=True)
        place = _Place(self, name=name, scope=scope, exit=exit, link=Links(scope, aliases))
        position = len(self.drafts)  # a parallel state's branches come after it
        kind = YAML_KINDS.get(type_name)
        if kind is None:
            if type_name:
                expected = ", ".join(YAML_KINDS)
                state.problem(
                    "type", f"unknown state type '{type_name}' (expected one of: {expected})"
                )
            link_all(state.names("next", single=True), place.link)
            fields = None
        else:
            fields = kind.read_yaml(state, place)
            boundary_refuse(kind, state, kind.yaml_type)
        if not name:
            return
        refs = place.link.refs
        if fields is None:
            self.drafts.append(Draft(name, state.path, None, refs, scope, alias=name in aliases))
            return
        node = Node(id=name, name=name, type=kind.type, **fields)
        draft = Draft(name, state.path, node, refs, scope, state.at("resource"))
        draft.inner = self.inner.pop(name, [])
        self.drafts.insert(position, draft)

    def read_iterator(self, state: Section, name: str) -> Graph | None:
        """A map state's `iterator: {startAt, states}`: a graph of its own, checked as a
        definition is (its states name only each other)."""
        if not state.has("iterator"):
            state.missing("iterator")
            return None
        iterator = state.section("iterator")
        top = iterator.sections("states", required=True)
        if iterator.data.get("states") == []:
            iterator.problem("states", "an iterator needs at least one state")
        inner = _States()
        inner.read(top, scope="", exit=None)
        self.inner[name] = inner.drafts
        outline = Outline(
            key=name,
            name=name,
            start=read_start(iterator, "startAt", top, id_key="name"),
            drafts=inner.drafts,
        )
        return build_graph(outline, state.problems)

    def read_parallel(
        self, state: Section, name: str, *, scope: str, exit: tuple[str, str] | None, link: Links
    ) -> dict[str, tuple[str, ...]]:
        """Read the branches and add the join node; the fork node's fields."""
        join = f"{name}.join"
        branches = state.data.get("branches")
        if not isinstance(branches, list) or not branches:
            state.problem("branches", "a parallel state needs a non-empty list of 'branches'")
            branches = []
        firsts = []
        # Without a name there is no join to flow into, and no use in reporting that.
        branch_exit = (join, scope) if name else None
        for index, branch in enumerate(branches):
            first = self._read_branch(
                branch, state, index, name=name, scope=scope, exit=branch_exit
            )
            if first is not None:
                firsts.append(link.to(*first))
        join_link = Links(scope, link.aliases)
        join_next = _successor(state, exit, join_link)
        if name:
            join_node = gateway_node(join, join_next)
            self.drafts.append(Draft(join, state.path, join_node, join_link.refs, scope))
        return {"next": tuple(firsts)}

    def _read_branch(
        self,
        branch: Any,
        state: Section,
        index: int,
        *,
        name: str,
        scope: str,
        exit: tuple[str, str] | None,
    ) -> tuple[str, str, str] | None:
        """Read one branch; returns (first state, its scope, where it is named) to fork to."""
        path = child(state.at("branches"), index)
        branch_scope = f"{scope}/{name}[{index}]"
        if isinstance(branch, Mapping):
            spec = Section(branch, path, state.problems, state.step)
            start = spec.text("startAt")
            states = spec.sections("states", required=True)
            start_path = spec.at("startAt") if start else spec.at("states")
        else:
            start, start_path = "", path
            states = sections_of(branch, path, state.problems, step=state.step)
        position = len(self.drafts)
        aliases = self.read(states, scope=branch_scope, exit=exit)
        if exit is not None:
            merge = f"{name}.merge{index}"
            self._merge_ends(position, branch_scope, join=exit, merge=merge, path=path)
        if not start:
            first_name = states[0].data.get("name") if states else None
            if not isinstance(first_name, str) or not first_name:
                return None
            start, start_path = first_name, child(start_path, 0)
        target, target_scope = aliases.get(start, (start, branch_scope))
        return target, target_scope, start_path

    def _merge_ends(
        self, position: int, scope: str, *, join: tuple[str, str], merge: str, path: str
    ) -> None:
        """Send a branch's several end states through one exclusive merge node to the join."""
        join_id, join_scope = join
        ends = [
            draft
            for draft in self.drafts[position:]
            if draft.scope == scope and any(ref.target == join_id for ref in draft.refs)
        ]
        if len(ends) < 2:
            return
        for draft in ends:
            draft.refs = [
                Ref(merge, ref.path, scope) if ref.target == join_id else ref for ref in draft.refs
            ]
            if draft.node is not None:
                draft.node = _retarget(draft.node, join_id, merge)
        node = merge_node(merge, join_id)
        self.drafts.append(Draft(merge, path, node, [Ref(join_id, path, join_scope)], scope))


def _successor(state: Section, exit: tuple[str, str] | None, link: Links) -> tuple[str, ...]:
    """A state's `next`; with none, or `end: true`, the branch exit (or nothing at the top)."""
    names = state.names("next", single=True)
    if state.flag("end") and names:
        state.problem("end", "give either 'next' or 'end: true', not both")
    if names:
        return tuple(link(target, path) for target, path in names)
    if exit is not None:
        return (link.to(*exit, state.path),)
    return ()


def _retarget(node: Node, old: str, new: str) -> Node:
    def swap(target: str) -> str:
        return new if target == old else target

    return replace(
        node,
        next=tuple(swap(target) for target in node.next),
        conditions=tuple(replace(c, next=swap(c.next)) for c in node.conditions),
        default=swap(node.default),
        catch=tuple(replace(c, next=swap(c.next)) for c in node.catch),
        boundary=tuple(replace(b, next=swap(b.next)) for b in node.boundary),
    )
