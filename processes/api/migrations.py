"""`/api/v1/process-definitions/{id}/migrations`: move running instances to another version.

A POST starts a batch (`processes.services.instances_migrate`), which a Celery job works
through; `GET .../migrations/{batch}` shows its progress and each instance's outcome.
Managers and admins only.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from processes.api.definitions import DEFINITION_ID
from processes.models import MigrationBatch, MigrationOutcome
from processes.selectors import definition_get_startable, migration_batch_get
from processes.services import instances_migrate
from restapi.errors import error_responses
from restapi.json_body import validated_body
from restapi.users import UsernameField

BATCH_ID = OpenApiParameter("batch_id", int, OpenApiParameter.PATH, description="The batch's `id`.")


class MigrationRequestSerializer(serializers.Serializer):
    from_version = serializers.IntegerField(min_value=1, help_text="The version they run.")
    to_version = serializers.IntegerField(min_value=1, help_text="The version they move to.")
    mapping = serializers.DictField(
        child=serializers.CharField(max_length=200),
        required=False,
        help_text="`{old_step_id: new_step_id}`, beside the steps that keep their id.",
    )
    instance_ids = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=100_000,
        help_text="Only these instances; without it, every running and failed instance of "
        "`from_version`.",
    )
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="Report what would happen; move nothing."
    )


class OutcomeSerializer(serializers.ModelSerializer):
    moves = serializers.JSONField(source="report.moves", default=dict)
    problems = serializers.JSONField(source="report.problems", default=list)

    class Meta:
        model = MigrationOutcome
        fields = ("instance_id", "ok", "moves", "problems", "created_at")


class MigrationBatchSerializer(serializers.ModelSerializer):
    from_version = serializers.IntegerField(source="from_version.number")
    to_version = serializers.IntegerField(source="to_version.number")
    done = serializers.IntegerField(help_text="Instances with an outcome so far.")
    created_by = UsernameField()
    outcomes = OutcomeSerializer(many=True, read_only=True, help_text="In the order done.")

    class Meta:
        model = MigrationBatch
        fields = (
            "id",
            "status",
            "from_version",
            "to_version",
            "mapping",
            "dry_run",
            "total",
            "done",
            "migrated",
            "refused",
            "created_by",
            "created_at",
            "finished_at",
            "outcomes",
        )


class DefinitionMigrationsApi(APIView):
    @extend_schema(
        summary="Migrate running instances to another version",
        description=(
            "Starts a batch: a worker moves the instances a chunk at a time, each in its own "
            "transaction; one that cannot move (a waiting step with no counterpart of its "
            "kind, a required variable missing, ...) is reported in `outcomes` and the rest "
            "go on. Poll `GET .../migrations/{batch_id}`. With `dry_run` every instance is "
            "reported and none moves. Managers and admins only."
        ),
        parameters=[DEFINITION_ID],
        request=MigrationRequestSerializer,
        examples=[
            OpenApiExample(
                "A renamed step",
                value={"from_version": 1, "to_version": 2, "mapping": {"approve": "review"}},
            )
        ],
        responses={202: MigrationBatchSerializer, **error_responses(400, 403, 404)},
    )
    def post(self, request: Request, definition_id: str) -> Response:
        definition = definition_get_startable(user=request.user, definition_id=definition_id)
        body = validated_body(serializer_class=MigrationRequestSerializer, request=request)
        batch_id = instances_migrate(definition_key=definition.key, user=request.user, **body)
        batch = migration_batch_get(definition=definition, batch_id=batch_id, user=request.user)
        return Response(MigrationBatchSerializer(batch).data, status=202)


class DefinitionMigrationApi(APIView):
    @extend_schema(
        summary="A migration batch: its progress and each instance's outcome",
        parameters=[DEFINITION_ID, BATCH_ID],
        responses={200: MigrationBatchSerializer, **error_responses(403, 404)},
    )
    def get(self, request: Request, definition_id: str, batch_id: str) -> Response:
        definition = definition_get_startable(user=request.user, definition_id=definition_id)
        batch = migration_batch_get(definition=definition, batch_id=batch_id, user=request.user)
        return Response(MigrationBatchSerializer(batch).data)
