"""Definition formats compiled to the one internal Graph, with every problem reported at once.

    graph = compile_definition(text, "yaml", service_exists=registry.service_exists)

Bad input of any kind raises DefinitionError, whose `problems` say what is wrong and where
(JSON pointer, step id, line).

Two layers: the graph and the parts the formats share (`graph`, `fields`, `parts`, ...),
on which the node kinds (`processes.nodes`) build; and the readers (`json_format`,
`yaml_format`, `validation`, `compiler`), which dispatch to the kinds. So that importing a
module of the lower layer does not import the readers, `compile_definition` and
`format_of_file` are loaded from `compiler` when first asked for.
"""

from __future__ import annotations

from typing import Any

from processes.dsl.problems import DefinitionError, Problem

__all__ = ["DefinitionError", "Problem", "compile_definition", "format_of_file"]

_FROM_COMPILER = ("compile_definition", "format_of_file")


def __getattr__(name: str) -> Any:
    if name in _FROM_COMPILER:
        from processes.dsl import compiler

        return getattr(compiler, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
