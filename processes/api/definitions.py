"""`/api/v1/process-definitions`: list, publish, read a version and list the versions.

A definition a user may not start is one they cannot see (404); managers see them all.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_publish
from processes.api.definition_body import YamlTextParser, publish_body
from processes.bpmn.versions import version_bpmn, version_bpmn_filename
from processes.dsl import DefinitionError
from processes.errors import NotAllowed
from processes.models import (
    DefinitionVersion,
    ProcessDefinition,
    Rollout,
    Trigger,
    graph_of_version,
)
from processes.selectors import (
    definition_get_startable,
    definition_start_shares,
    definition_version_get,
    definition_versions,
    definitions_list,
)
from processes.services import definition_publish
from restapi.errors import error_responses
from restapi.json_body import StrictJsonParser
from restapi.lists import PageSizePagination, paginated_response, validated_query
from restapi.users import UsernameField

DEFINITION_ID = OpenApiParameter(
    "definition_id", int, OpenApiParameter.PATH, description="The definition's `id`."
)
VERSION_NUMBER = OpenApiParameter(
    "number", int, OpenApiParameter.PATH, description="The version's number (1, 2, ...)."
)


class DefinitionSerializer(serializers.ModelSerializer):
    latest_version = serializers.IntegerField()

    class Meta:
        model = ProcessDefinition
        fields = ("id", "key", "name", "description", "latest_version", "created_at", "updated_at")


class DefinitionVersionSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="number")
    version_label = serializers.CharField(
        allow_null=True, help_text="The `version` the document itself gives, if any."
    )
    published_by = UsernameField()
    published_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = DefinitionVersion
        fields = ("version", "version_label", "format", "checksum", "published_by", "published_at")


class VersionRowSerializer(DefinitionVersionSerializer):
    """A version in the list: its share of new starts and its instances."""

    share_percent = serializers.SerializerMethodField(
        help_text="Its share of new starts by key, in percent: 100 for the default version, "
        "a rollout's split while one is under way, 0 for the others."
    )
    instances_running = serializers.IntegerField(help_text="Pending, running or suspended.")
    instances_total = serializers.IntegerField()

    class Meta(DefinitionVersionSerializer.Meta):
        fields = (
            *DefinitionVersionSerializer.Meta.fields,
            "share_percent",
            "instances_running",
            "instances_total",
        )

    def get_share_percent(self, version: DefinitionVersion) -> int:
        return self.context["shares"].get(version.pk, 0)


class TriggerSerializer(serializers.ModelSerializer):
    spec = serializers.CharField(help_text="The cron expression, the interval or the message name.")
    active = serializers.BooleanField(
        help_text="Only the latest version's triggers start instances."
    )
    next_due_at = serializers.DateTimeField(
        allow_null=True, help_text="When it next starts one; null for a message trigger."
    )

    class Meta:
        model = Trigger
        fields = ("kind", "spec", "active", "next_due_at", "last_fired_at")


class RolloutSerializer(serializers.ModelSerializer):
    version = serializers.IntegerField(source="version.number", help_text="Rolled out.")
    previous_version = serializers.IntegerField(
        source="previous.number", help_text="Where the other new starts go."
    )
    created_by = UsernameField()

    class Meta:
        model = Rollout
        fields = (
            "id",
            "version",
            "previous_version",
            "percent",
            "status",
            "strategy",
            "changes",
            "created_by",
            "created_at",
            "ended_at",
        )


class DefinitionDetailSerializer(DefinitionVersionSerializer):
    """A definition with one version: its source as written and the graph it compiled to."""

    id = serializers.IntegerField(source="definition_id")
    key = serializers.CharField(source="definition.key")
    name = serializers.CharField(source="definition.name")
    description = serializers.CharField(source="definition.description")
    version_label = serializers.CharField(source="graph.version_label")
    graph = serializers.SerializerMethodField(
        help_text="The compiled graph. `variables` is a list of [name, declaration] pairs in "
        "the author's order; each declaration an object with at least `type`."
    )
    triggers = TriggerSerializer(
        many=True, read_only=True, help_text="This version's start triggers (`triggers`)."
    )
    rollout = serializers.SerializerMethodField(
        help_text="The definition's rollout under way, or null: `version` gets `percent`% "
        "of new starts, `previous_version` the rest."
    )

    class Meta(DefinitionVersionSerializer.Meta):
        fields = (
            "id",
            "key",
            "name",
            "description",
            *DefinitionVersionSerializer.Meta.fields,
            "source",
            "graph",
            "triggers",
            "rollout",
        )

    @extend_schema_field(RolloutSerializer(allow_null=True))
    def get_rollout(self, version: DefinitionVersion) -> dict[str, Any] | None:
        rollout = version.definition.rollout
        return RolloutSerializer(rollout).data if rollout is not None else None

    @extend_schema_field({"type": "object", "additionalProperties": {}})
    def get_graph(self, version: DefinitionVersion) -> dict[str, Any]:
        # Stored declarations are a bare type or an object, as written: answer one shape.
        declared = graph_of_version(version.pk).variables
        variables = [[name, spec.as_field()] for name, spec in declared.items()]
        return {**version.graph, "variables": variables}


class DefinitionFilterSerializer(serializers.Serializer):
    key = serializers.CharField(required=False, help_text="Exactly this key.")
    name = serializers.CharField(required=False, help_text="Names containing this, any case.")


class DefinitionVersionQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="This version rather than the latest."
    )


PUBLISH_JSON = {
    "anyOf": [
        {
            "type": "object",
            "title": "Envelope",
            "description": "The seed's envelope: the JSON format's variables and steps in config.",
            "properties": {
                "name": {"type": "string"},
                "description": {"type": "string", "nullable": True},
                "version": {
                    "oneOf": [{"type": "string"}, {"type": "number"}],
                    "nullable": True,
                    "description": "A label such as 1.0.0; versions are numbered on publishing.",
                },
                "config": {"type": "object"},
            },
            "required": ["name", "config"],
        },
        {
            "type": "object",
            "title": "Source",
            "description": "A definition as text in either format.",
            "properties": {
                "format": {"type": "string", "enum": ["json", "yaml"]},
                "source": {"type": "string"},
            },
            "required": ["format", "source"],
        },
        {
            "type": "object",
            "title": "Document",
            "description": "A whole JSON-format document (name, variables, steps...).",
            "properties": {"name": {"type": "string"}, "steps": {"type": "array"}},
            "required": ["name", "steps"],
        },
    ]
}
PUBLISH_EXAMPLE = OpenApiExample(
    "Envelope",
    request_only=True,
    media_type="application/json",
    value={
        "name": "expense-approval",
        "description": "A manager approves large expenses",
        "version": "1.0.0",
        "config": {
            "variables": {"amount": "number"},
            "steps": [
                {
                    "id": "check",
                    "type": "exclusive_gateway",
                    "config": {
                        "conditions": [{"expression": "${amount > 1000}", "next": "approve"}],
                        "default": "done",
                    },
                },
                {
                    "id": "approve",
                    "type": "user_task",
                    "config": {
                        "candidate_groups": ["manager"],
                        "form": {"approved": "boolean"},
                    },
                    "next": ["done"],
                },
                {"id": "done", "type": "end"},
            ],
        },
    },
)


class DefinitionListApi(APIView):
    parser_classes = (StrictJsonParser, YamlTextParser)
    pagination_class = PageSizePagination

    @extend_schema(
        summary="List the definitions you may start",
        parameters=[DefinitionFilterSerializer],
        responses={200: DefinitionSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        filters = validated_query(serializer_class=DefinitionFilterSerializer, request=request)
        return paginated_response(
            queryset=definitions_list(user=request.user, **filters),
            serializer_class=DefinitionSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        summary="Publish a definition as the next version of its key",
        description=(
            "JSON (the seed's envelope, `{format, source}` or a whole document) or a YAML "
            "body sent as `application/yaml`. A source identical to the latest version "
            "answers that version. Every problem of an invalid definition is listed in "
            "`errors`. `?starter_groups=finance,hr` lets those groups start it (all or "
            "nothing: an unknown group is a 400). Managers and admins only."
        ),
        parameters=[
            OpenApiParameter(
                "starter_groups",
                str,
                description="Comma-separated group names that may start the definition.",
            )
        ],
        request={"application/json": PUBLISH_JSON, "application/yaml": {"type": "string"}},
        examples=[PUBLISH_EXAMPLE],
        responses={201: DefinitionDetailSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        if not can_publish(request.user):
            raise NotAllowed("publishing definitions needs the manager or admin role")
        raw = request.body  # read before request.data: a JSON document is kept as sent
        body = publish_body(data=request.data, raw=raw)
        try:
            version = definition_publish(
                source=body.source,
                format=body.format,
                user=request.user,
                starter_groups=_names(request.query_params.getlist("starter_groups")),
            )
        except DefinitionError as error:
            raise body.problems_as_sent(error) from None
        return Response(DefinitionDetailSerializer(version).data, status=201)


def _names(values: list[str]) -> list[str]:
    return [name.strip() for value in values for name in value.split(",") if name.strip()]


class DefinitionDetailApi(APIView):
    @extend_schema(
        summary="A definition with its latest version's source and graph",
        parameters=[DEFINITION_ID, DefinitionVersionQuerySerializer],
        responses={200: DefinitionDetailSerializer, **error_responses(400, 404)},
    )
    def get(self, request: Request, definition_id: str) -> Response:
        query = validated_query(serializer_class=DefinitionVersionQuerySerializer, request=request)
        definition = definition_get_startable(user=request.user, definition_id=definition_id)
        version = definition_version_get(definition=definition, number=query.get("version"))
        return Response(DefinitionDetailSerializer(version).data)


class DefinitionVersionsApi(APIView):
    pagination_class = PageSizePagination

    @extend_schema(
        summary="The versions of a definition, newest first",
        description="Each with its share of new starts (a rollout's split) and how many "
        "instances run it.",
        parameters=[DEFINITION_ID],
        responses={200: VersionRowSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request: Request, definition_id: str) -> Response:
        definition = definition_get_startable(user=request.user, definition_id=definition_id)
        return paginated_response(
            queryset=definition_versions(definition=definition),
            serializer_class=VersionRowSerializer,
            request=request,
            view=self,
            context={"shares": definition_start_shares(definition=definition)},
        )


class ErrorsAsJson(BaseContentNegotiation):
    """The document itself is XML whatever the caller accepts; an error is JSON like every
    other answer of the API."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return JSONRenderer(), JSONRenderer.media_type


class DefinitionVersionBpmnApi(APIView):
    content_negotiation_class = ErrorsAsJson

    @extend_schema(
        summary="A version as BPMN 2.0 XML with its diagram",
        description=(
            "The version's graph as BPMN 2.0 XML with diagram interchange (shapes, edges and "
            "their waypoints, laid out left to right), as an attachment `<key>-v<n>.bpmn`. "
            "Each step's own id is kept in `flowdesk:stepId`."
        ),
        parameters=[DEFINITION_ID, VERSION_NUMBER],
        responses={
            (200, "application/xml"): OpenApiResponse(
                OpenApiTypes.STR, description="The BPMN 2.0 document."
            ),
            **error_responses(404),
        },
    )
    def get(self, request: Request, definition_id: str, number: str) -> HttpResponse:
        definition = definition_get_startable(user=request.user, definition_id=definition_id)
        version = definition_version_get(definition=definition, number=number)
        response = HttpResponse(version_bpmn(version=version), content_type="application/xml")
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=version_bpmn_filename(version=version)
        )
        return response
