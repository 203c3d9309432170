"""Graph-level checks shared by every format, and the final Graph.

The checks avoid cascades: a step whose only trouble is a target that does not exist is
reported once, at that target, and not again as a dead end or for the steps after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from processes.dsl.graph import Graph
from processes.dsl.outline import Draft, Outline
from processes.dsl.problems import Problems
from processes.nodes import node_kind

ServiceExists = Callable[[str], bool]


def build_graph(
    outline: Outline, problems: Problems, *, service_exists: ServiceExists | None = None
) -> Graph | None:
    """Check `outline`, adding what is wrong to `problems`; the Graph when nothing is."""
    declared = _declare(outline.drafts, problems)
    duplicated = {d.id for d in outline.drafts if declared[d.id] is not d}
    _check_refs(outline.drafts, declared, duplicated, problems)
    _check_links(outline.drafts, declared, problems)
    if service_exists is not None:
        _check_steps(outline.drafts, service_exists, problems)
    start = outline.start
    if start is not None and start.target not in declared:
        problems.add(start.path, f"unknown start step '{start.target}'")
    elif start is not None:
        reached = _reachable(declared, start.target)
        _check_reached(declared, reached, start.target, problems)
        _check_dead_ends(declared, reached, problems)
    if start is None and not problems.found:
        problems.add("", "the definition has no start step")
    if problems.found or start is None:
        return None
    return Graph(
        key=outline.key,
        name=outline.name,
        start=start.target,
        nodes={d.id: d.node for d in declared.values() if d.node is not None},
        description=outline.description,
        version_label=outline.version_label,
        variables=outline.variables,
        strict_variables=outline.strict_variables,
        triggers=outline.triggers,
        retention=outline.retention,
    )


def _declare(drafts: list[Draft], problems: Problems) -> dict[str, Draft]:
    declared: dict[str, Draft] = {}
    for draft in drafts:
        first = declared.setdefault(draft.id, draft)
        if first is not draft:
            problems.add(
                draft.path,
                f"duplicate step id '{draft.id}' (first declared at {first.path or '/'})",
                step=draft.id,
            )
    return declared


def _check_refs(
    drafts: list[Draft], declared: dict[str, Draft], duplicated: set[str], problems: Problems
) -> None:
    for draft in drafts:
        for ref in draft.refs:
            target = declared.get(ref.target)
            if target is None:
                problems.add(ref.path, f"unknown step '{ref.target}'", step=draft.id)
            # Which of several same-named steps is meant is unknowable: the duplicate is the news.
            elif target.scope != ref.scope and ref.target not in duplicated:
                problems.add(
                    ref.path,
                    f"step '{ref.target}' is in another parallel branch: a state can only"
                    " go to states of its own branch",
                    step=draft.id,
                )


def _check_links(drafts: list[Draft], declared: dict[str, Draft], problems: Problems) -> None:
    """What each step's kind requires of the steps it leads to."""
    for draft in drafts:
        if draft.node is not None:
            node_kind(draft.node).check_links(draft, declared, problems)


def _check_steps(drafts: list[Draft], exists: ServiceExists, problems: Problems) -> None:
    """What each step's kind checks beyond its text (that its service exists)."""
    for draft in drafts:
        if draft.node is not None:
            node_kind(draft.node).check(draft, problems, service_exists=exists)


def _successors(draft: Draft, declared: dict[str, Draft]) -> Iterable[str]:
    return (ref.target for ref in draft.refs if ref.target in declared)


def _reachable(declared: dict[str, Draft], start: str) -> set[str]:
    reached, pending = {start}, [start]
    while pending:
        for target in _successors(declared[pending.pop()], declared):
            if target not in reached:
                reached.add(target)
                pending.append(target)
    return reached


def _check_reached(
    declared: dict[str, Draft], reached: set[str], start: str, problems: Problems
) -> None:
    for draft in declared.values():
        if draft.id not in reached and not draft.alias:
            problems.add(
                draft.path,
                f"step '{draft.id}' cannot be reached from the start step '{start}'",
                step=draft.id,
            )


def _ends_a_path(draft: Draft, declared: dict[str, Draft]) -> bool:
    # A broken step or an unknown target is reported already: count it as an end here.
    return (
        draft.node is None
        or node_kind(draft.node).ends_path
        or not draft.refs
        or any(ref.target not in declared for ref in draft.refs)
    )


def _check_dead_ends(declared: dict[str, Draft], reached: set[str], problems: Problems) -> None:
    predecessors: dict[str, list[str]] = {step: [] for step in declared}
    for draft in declared.values():
        for target in _successors(draft, declared):
            predecessors[target].append(draft.id)
    finishing = {step for step, draft in declared.items() if _ends_a_path(draft, declared)}
    pending = list(finishing)
    while pending:
        for source in predecessors[pending.pop()]:
            if source not in finishing:
                finishing.add(source)
                pending.append(source)
    for step in declared:
        if step in reached and step not in finishing:
            problems.add(
                declared[step].path,
                f"step '{step}' has no path to an end: every way on from it loops forever",
                step=step,
            )
