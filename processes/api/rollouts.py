"""`/api/v1/process-definitions/{id}/rollouts` and `.../rollback`: where new starts by key go.

A rollout sends a share of new starts to a version, the rest to the previous one
(`processes.services.rollouts`); 100 promotes. Managers and admins only; a definition the
caller may not start answers 404 as everywhere else.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from processes.api.definitions import DEFINITION_ID, RolloutSerializer
from processes.selectors import definition_get_startable, definition_rollouts
from processes.services import definition_rollback, definition_rollout
from restapi.errors import error_responses
from restapi.json_body import validated_body


class RolloutRequestSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1, help_text="The version's number.")
    percent = serializers.IntegerField(
        min_value=0, max_value=100, help_text="Its share of new starts; 100 promotes it."
    )


class DefinitionRolloutsApi(APIView):
    @extend_schema(
        summary="The definition's rollouts, newest first",
        parameters=[DEFINITION_ID],
        responses={200: RolloutSerializer(many=True), **error_responses(404)},
    )
    def get(self, request: Request, definition_id: str) -> Response:
        definition = definition_get_startable(user=request.user, definition_id=definition_id)
        rollouts = definition_rollouts(definition=definition)
        return Response(RolloutSerializer(rollouts, many=True).data)

    @extend_schema(
        summary="Roll a version out to a share of new starts",
        description=(
            "From now on a start by key goes to `version` for `percent`% of new instances "
            "(a stable hash of the instance id: a retried start with the same id lands on "
            "the same version) and to the previous default version otherwise; 100 promotes "
            "it. A start naming its version still gets that version. Managers and admins only."
        ),
        parameters=[DEFINITION_ID],
        request=RolloutRequestSerializer,
        examples=[OpenApiExample("10% to version 2", value={"version": 2, "percent": 10})],
        responses={201: RolloutSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request: Request, definition_id: str) -> Response:
        definition = definition_get_startable(user=request.user, definition_id=definition_id)
        body = validated_body(serializer_class=RolloutRequestSerializer, request=request)
        rollout = definition_rollout(definition_key=definition.key, user=request.user, **body)
        return Response(RolloutSerializer(rollout).data, status=201)


class DefinitionRollbackApi(APIView):
    @extend_schema(
        summary="Roll back the rollout under way",
        description="Every new start by key goes to the version the rollout came from, which "
        "stays the default until another rollout. 400 when no rollout is under way. Managers "
        "and admins only.",
        parameters=[DEFINITION_ID],
        request=None,
        responses={200: RolloutSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request: Request, definition_id: str) -> Response:
        definition = definition_get_startable(user=request.user, definition_id=definition_id)
        definition_rollback(definition_key=definition.key, user=request.user)
        return Response(RolloutSerializer(definition_rollouts(definition=definition)[0]).data)
