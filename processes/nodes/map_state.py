"""A map state: a list of steps run once per item of a list, each item as a child instance.

YAML ``type: map`` with `itemsPath: "${items}"`, `itemName` (default "item"),
`maxConcurrency` (0: all at once), `completeWhen`, `resultPath`, and `iterator: {startAt,
states}` (states as in a parallel branch; they name only each other), with `retry`,
`catch`, `boundary`, `next` / `end` as on a task. JSON has no map: a `subprocess` (or any
`service_task` / `user_task`) with `for_each` does the same with a definition of its own.

Each item's steps run as a child instance of the same version, scoped to the map's
iterator (`ProcessInstance.scope`, `Graph.scope`): it starts with the variables the item
sees (the step's, the item under `itemName`, and `loop`), and gives back the variables its
steps set or changed. Everything a subprocess step does with its child (suspend, resume,
terminate, boundary events, retry, catch) a map does with its items.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from processes.bpmn.elements import TASK_SIZE, BpmnElement
from processes.dsl.graph import SCOPE_SEPARATOR, Node
from processes.dsl.parts import read_catch
from processes.nodes.base import Names, YamlPlace
from processes.nodes.boundary import read_boundary
from processes.nodes.loop import LOOP_VARIABLE, read_map
from processes.nodes.service import yaml_retry
from processes.nodes.subprocess import SubprocessKind

if TYPE_CHECKING:
    from processes.dsl.fields import Section
    from processes.dsl.outline import Draft, Links
    from processes.dsl.problems import Problems
    from processes.models import DefinitionVersion, ProcessInstance, Token
    from processes.services.advance import Change


class MapKind(SubprocessKind):
    type = "map"
    json_type = "map"
    yaml_type = "map"
    fields = ("next", "for_each", "iterator", "retry", "catch", "boundary")
    bpmn = BpmnElement("subProcess", *TASK_SIZE)

    def read_json(self, step: Section, config: Section, next_names: Names, link: Links):
        step.problem(
            "type",
            "a map is a YAML state; in JSON give a subprocess, service_task or user_task a"
            " 'for_each'",
        )
        return {"next": tuple(link(target, path) for target, path in next_names)}

    def read_yaml(self, state: Section, place: YamlPlace) -> dict[str, Any]:
        name = state.data.get("name")
        if isinstance(name, str) and SCOPE_SEPARATOR in name:
            # Its items' instances are found by the path of map names (`Graph.scope`).
            state.problem("name", f"a map state's name cannot hold '{SCOPE_SEPARATOR}'")
        return {
            "for_each": read_map(state),
            "iterator": place.read_iterator(state),
            "retry": yaml_retry(state),
            "catch": read_catch(state, "catch", place.link),
            "boundary": read_boundary(state, "boundary", place.link, in_branch=place.in_branch),
            "next": place.successor(state),
        }

    def check(self, draft: Draft, problems: Problems, *, service_exists) -> None:
        """The iterator's steps: their services must exist too."""
        from processes.nodes import node_kind

        for inner in draft.inner:
            if inner.node is not None:
                node_kind(inner.node).check(inner, problems, service_exists=service_exists)

    def child_start_with(
        self, change: Change, node: Node, variables: dict[str, Any]
    ) -> tuple[DefinitionVersion | None, str, dict[str, Any]]:
        """The instance's own version, scoped to this map's iterator; the item's
        variables as they are."""
        from processes.models import DefinitionVersion

        instance = change.instance
        version = DefinitionVersion.objects.select_related("definition").get(
            pk=instance.definition_version_id
        )
        scope = SCOPE_SEPARATOR.join(filter(None, (instance.scope, node.id)))
        return version, scope, dict(variables)

    def child_result(
        self, change: Change, node: Node, token: Token, child: ProcessInstance
    ) -> dict[str, Any]:
        """The variables the item's steps set or changed (`loop` aside)."""
        from processes.services.loops import token_variables

        started = token_variables(change, token)
        return {
            name: value
            for name, value in child.variables.items()
            if name != LOOP_VARIABLE and (name not in started or started[name] != value)
        }


KIND = MapKind()
