"""The bodies `POST /api/v1/process-definitions` takes, turned into a source and its format.

* the seed's envelope `{"name", "description", "version", "config": {variables, steps...}}`;
* `{"format": "json" | "yaml", "source": "<text>"}`;
* a whole JSON-format document, kept as the text that was sent;
* a body sent as `application/yaml`: the YAML format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from processes.dsl import DefinitionError, Problem
from processes.statuses import DefinitionFormat

ENVELOPE_FIELDS = ("name", "description", "version")


class YamlTextParser(BaseParser):
    """`application/yaml` bodies arrive as text: the YAML reader reports problems by line."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None) -> str:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise ParseError(f"the YAML body is not {encoding} text: {error}") from None
        if "\x00" in text:
            raise ParseError("text may not contain NUL (\\u0000) characters")
        return text


@dataclass(frozen=True)
class PublishBody:
    source: str
    format: str
    # The envelope's variables and steps sit under /config: problems found in the document
    # built from it are reported where the caller wrote them.
    enveloped: bool = False

    def problems_as_sent(self, error: DefinitionError) -> DefinitionError:
        if not self.enveloped:
            return error
        return DefinitionError([_as_sent(problem) for problem in error.problems])


def publish_body(*, data: Any, raw: bytes) -> PublishBody:
    """Raises DefinitionError when the body's outer shape is wrong."""
    if isinstance(data, str):
        return PublishBody(source=data, format=DefinitionFormat.YAML)
    if isinstance(data, dict) and "config" in data:
        return _envelope(data)
    if isinstance(data, dict) and "source" in data:
        return _source_and_format(data)
    return PublishBody(source=raw.decode(), format=DefinitionFormat.JSON)


def _envelope(data: dict[str, Any]) -> PublishBody:
    if not isinstance(data["config"], dict):
        raise DefinitionError(
            [Problem("/config", "must be an object holding the definition's variables and steps")]
        )
    outer = {name: data[name] for name in ENVELOPE_FIELDS if name in data}
    document = {**data["config"], **outer}
    source = json.dumps(document, ensure_ascii=False, indent=2)
    return PublishBody(source=source, format=DefinitionFormat.JSON, enveloped=True)


def _source_and_format(data: dict[str, Any]) -> PublishBody:
    problems = []
    if data.get("format") not in DefinitionFormat.values:
        problems.append(Problem("/format", f"must be one of {DefinitionFormat.values}"))
    if not isinstance(data["source"], str):
        problems.append(Problem("/source", "must be the definition's text"))
    if problems:
        raise DefinitionError(problems)
    return PublishBody(source=data["source"], format=data["format"])


def _as_sent(problem: Problem) -> Problem:
    # Lines count in the document built from the envelope, which the caller never saw.
    top = problem.path.split("/")[1] if problem.path else ""
    path = problem.path if not top or top in ENVELOPE_FIELDS else f"/config{problem.path}"
    return replace(problem, path=path, line=None)
