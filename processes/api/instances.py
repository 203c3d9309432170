"""`/api/v1/process-instances`: start, list, read, control (managers), purge and the history.

An instance the caller may not see answers 404; suspend, activate, retry, terminate, purge
and firing a timer now need the manager or admin role (403 for anyone else who can see it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_see_errors_in_full
from processes.controls import INSTANCE_CONTROLS
from processes.dsl.graph import Graph
from processes.errors import Conflict, NotFound
from processes.models import INSTANCE_ID_PATTERN, Event, Loop, ProcessInstance, Timer
from processes.selectors import (
    definition_get_visible,
    instance_children,
    instance_current_steps,
    instance_get_detail,
    instance_history,
    instance_loops,
    instance_timers,
    instances_list,
)
from processes.services import instance_purge, instance_start_or_get, instance_variables_update
from processes.services.history import REASON_MAX_CHARS
from processes.services.repair import variables_checksum
from processes.services.timers import timer_fire_now
from processes.statuses import InstanceStatus
from restapi.errors import error_responses
from restapi.fields import StrictCharField
from restapi.json_body import validated_body
from restapi.lists import PageSizePagination, paginated_response, validated_query
from restapi.users import UsernameField, UsernameFilterField
from tasks.api import TaskSummarySerializer
from tasks.selectors import instance_open_tasks

INSTANCE_ID = OpenApiParameter(
    "instance_id", str, OpenApiParameter.PATH, description="The instance's `id`."
)
TIMER_ID = OpenApiParameter(
    "timer_id", int, OpenApiParameter.PATH, description="The timer's `id` (from `timers`)."
)
BOUNDARY_SCHEMA = {
    "type": "object",
    "nullable": True,
    "description": "Which boundary event of its step the timer is; null for a timer step.",
    "properties": {
        "index": {"type": "integer", "description": "Its place in the step's `boundary`."},
        "interrupting": {"type": "boolean"},
        "next": {"type": "string", "description": "The step the path goes on at."},
    },
    "required": ["index", "interrupting", "next"],
}


class TimerSerializer(serializers.ModelSerializer):
    step = serializers.CharField(source="step_id")
    boundary = serializers.SerializerMethodField()

    class Meta:
        model = Timer
        fields = ("id", "step", "boundary", "due_at", "status", "fired_at")

    @extend_schema_field(BOUNDARY_SCHEMA)
    def get_boundary(self, timer: Timer) -> dict[str, Any] | None:
        graph: Graph = self.context["graph"]
        node = graph.nodes.get(timer.step_id)
        if timer.boundary is None or node is None or timer.boundary >= len(node.boundary):
            return None
        event = node.boundary[timer.boundary]
        return {"index": timer.boundary, "interrupting": event.interrupting, "next": event.next}


class InstanceSerializer(serializers.ModelSerializer):
    process_definition_id = serializers.IntegerField(source="definition_id")
    process_definition_key = serializers.CharField(source="definition.key")
    version = serializers.IntegerField(help_text="The definition version it runs.")
    started_by = UsernameField()
    error = serializers.SerializerMethodField(
        help_text="Why it failed, while failed: `step_id`, `error`, `message`; managers and "
        "admins also get the `traceback`."
    )

    class Meta:
        model = ProcessInstance
        fields = (
            "id",
            "process_definition_id",
            "process_definition_key",
            "version",
            "business_key",
            "status",
            "started_by",
            "error",
            "created_at",
            "updated_at",
            "ended_at",
        )

    @extend_schema_field({"type": "object", "nullable": True, "additionalProperties": {}})
    def get_error(self, instance: ProcessInstance) -> dict[str, Any] | None:
        # A traceback shows server paths and code: for the people who run Flowdesk only.
        request = self.context.get("request")
        if instance.error is None or (request and can_see_errors_in_full(request.user)):
            return instance.error
        return {key: value for key, value in instance.error.items() if key != "traceback"}


class ChildSerializer(serializers.ModelSerializer):
    process_definition_key = serializers.CharField(source="definition.key")
    version = serializers.IntegerField(source="definition_version.number")
    step = serializers.CharField(source="parent_step", help_text="The step that started it.")

    class Meta:
        model = ProcessInstance
        fields = ("id", "process_definition_key", "version", "step", "status")


class LoopSerializer(serializers.ModelSerializer):
    running = serializers.BooleanField(help_text="Its step still runs items.")

    class Meta:
        model = Loop
        fields = ("step_id", "total", "started", "completed", "active", "running")
        extra_kwargs = {
            "started": {"help_text": "Items started so far, in list order."},
            "active": {"help_text": "Items started and not done."},
        }


class InstanceDetailSerializer(InstanceSerializer):
    parent_id = serializers.CharField(
        allow_null=True, help_text="The instance whose subprocess step started this one."
    )
    children = serializers.SerializerMethodField(
        help_text="The instances its subprocess steps started, oldest first."
    )
    variables = serializers.JSONField()
    loops = serializers.SerializerMethodField(
        help_text="Its for-each steps, running ones first, with their items' progress."
    )
    current_steps = serializers.SerializerMethodField(
        help_text="Steps holding a token: running, waiting at a join, or failed."
    )
    open_tasks = serializers.SerializerMethodField()
    timers = serializers.SerializerMethodField(
        help_text="Its timers, oldest first: `scheduled` ones are what it waits for; "
        "`fired` and `cancelled` ones stay listed."
    )
    variables_checksum = serializers.SerializerMethodField(
        help_text="Send it as `If-Match` with `PATCH .../variables` to refuse (409) an edit "
        "made on variables someone has changed since."
    )

    class Meta(InstanceSerializer.Meta):
        fields = (
            *InstanceSerializer.Meta.fields,
            "parent_id",
            "children",
            "variables",
            "variables_checksum",
            "current_steps",
            "loops",
            "open_tasks",
            "timers",
        )

    def get_variables_checksum(self, instance: ProcessInstance) -> str:
        return variables_checksum(instance.variables)

    def get_current_steps(self, instance: ProcessInstance) -> list[str]:
        return instance_current_steps(instance=instance)

    @extend_schema_field(TaskSummarySerializer(many=True))
    def get_open_tasks(self, instance: ProcessInstance) -> list[dict[str, Any]]:
        return TaskSummarySerializer(instance_open_tasks(instance=instance), many=True).data

    @extend_schema_field(ChildSerializer(many=True))
    def get_children(self, instance: ProcessInstance) -> list[dict[str, Any]]:
        return ChildSerializer(instance_children(instance=instance), many=True).data

    @extend_schema_field(LoopSerializer(many=True))
    def get_loops(self, instance: ProcessInstance) -> list[dict[str, Any]]:
        return LoopSerializer(instance_loops(instance=instance), many=True).data

    @extend_schema_field(TimerSerializer(many=True))
    def get_timers(self, instance: ProcessInstance) -> list[dict[str, Any]]:
        timers = instance_timers(instance=instance)
        return TimerSerializer(timers, many=True, context={"graph": instance.graph}).data


class InstanceStartSerializer(serializers.Serializer):
    process_definition_id = serializers.IntegerField(required=False, min_value=1)
    process_definition_key = serializers.CharField(required=False)
    business_key = serializers.CharField(required=False, allow_blank=True, max_length=200)
    variables = serializers.DictField(
        required=False, help_text="Checked against the types the definition declares."
    )
    id = serializers.RegexField(
        INSTANCE_ID_PATTERN,
        required=False,
        help_text="Your id for the instance: starting with an id that exists answers 200 "
        "with that instance instead of starting another one.",
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Run this version (its number). Without it: the version new starts go to, "
        "the latest or a rollout's split by the instance id.",
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if ("process_definition_id" in data) == ("process_definition_key" in data):
            raise serializers.ValidationError(
                {"process_definition_id": ["give process_definition_id or process_definition_key"]}
            )
        return data


class InstanceFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=InstanceStatus.choices, required=False)
    business_key = serializers.CharField(required=False)
    process_definition_key = serializers.CharField(required=False)
    started_by = UsernameFilterField()
    created_after = serializers.DateTimeField(required=False, help_text="Inclusive.")
    created_before = serializers.DateTimeField(required=False, help_text="Exclusive.")


class EventSerializer(serializers.ModelSerializer):
    actor = UsernameField()
    payload = serializers.JSONField()

    class Meta:
        model = Event
        fields = ("id", "type", "step_id", "actor", "payload", "created_at")


def instance_detail_response(*, instance_id: str, request: Request, status: int = 200) -> Response:
    instance = instance_get_detail(instance_id=instance_id, user=request.user)
    detail = InstanceDetailSerializer(instance, context={"request": request})
    return Response(detail.data, status=status)


class InstanceListApi(APIView):
    pagination_class = PageSizePagination

    @extend_schema(
        summary="List the instances you may see, newest first",
        parameters=[InstanceFilterSerializer],
        responses={200: InstanceSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        filters = validated_query(serializer_class=InstanceFilterSerializer, request=request)
        return paginated_response(
            queryset=instances_list(user=request.user, **filters),
            serializer_class=InstanceSerializer,
            request=request,
            view=self,
        )

    @extend_schema(
        summary="Start an instance of a definition",
        description="201 with the new instance; 200 with the existing one when `id` is taken "
        "by an instance of the same definition you may see.",
        request=InstanceStartSerializer,
        responses={
            201: InstanceDetailSerializer,
            200: InstanceDetailSerializer,
            **error_responses(400, 403, 404, 409),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated_body(serializer_class=InstanceStartSerializer, request=request)
        definition = definition_get_visible(
            user=request.user,
            definition_id=data.get("process_definition_id"),
            key=data.get("process_definition_key"),
        )
        try:
            instance, created = instance_start_or_get(
                definition_key=definition.key,
                variables=data.get("variables"),
                business_key=data.get("business_key"),
                instance_id=data.get("id"),
                version=data.get("version"),
                user=request.user,
            )
        except Conflict:
            # The id belongs to an instance of another definition: the same answer as for
            # any instance the caller cannot see, so ids cannot be probed.
            raise Conflict(f"the instance id {data.get('id')!r} is taken") from None
        try:
            return instance_detail_response(
                instance_id=instance.pk, request=request, status=201 if created else 200
            )
        except NotFound:
            # Someone else's instance has this id: say it is taken, show nothing of it.
            raise Conflict(f"the instance id {instance.pk!r} is taken") from None


class TerminateQuerySerializer(serializers.Serializer):
    compensate = serializers.BooleanField(
        default=False,
        help_text="Run the compensations of the completed steps before the instance ends.",
    )


class InstanceDetailApi(APIView):
    @extend_schema(
        summary="An instance: status, variables, current steps, open tasks",
        parameters=[INSTANCE_ID],
        responses={200: InstanceDetailSerializer, **error_responses(404)},
    )
    def get(self, request: Request, instance_id: str) -> Response:
        return instance_detail_response(instance_id=instance_id, request=request)

    @extend_schema(
        summary="Terminate an instance",
        description="Its open tasks and jobs are cancelled; the instance and its history stay, "
        "with status `cancelled`. With `compensate=true`, the instance first runs the "
        "compensations of its completed steps (latest first) and stays `running` until "
        "they are done; a compensation that fails for good fails it (`CompensationFailed`). "
        "Managers and admins only.",
        parameters=[INSTANCE_ID, TerminateQuerySerializer],
        responses={200: InstanceDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def delete(self, request: Request, instance_id: str) -> Response:
        query = validated_query(serializer_class=TerminateQuerySerializer, request=request)
        terminate = INSTANCE_CONTROLS["terminate"].service
        return _control(request, instance_id, partial(terminate, **query))


class InstanceControlApi(APIView):
    # The base of the PUT controls; each subclass names its service and describes it.

    control: ClassVar[Callable[..., ProcessInstance]]

    @extend_schema(
        parameters=[INSTANCE_ID],
        request=None,
        responses={200: InstanceDetailSerializer, **error_responses(403, 404, 409)},
    )
    def put(self, request: Request, instance_id: str) -> Response:
        return _control(request, instance_id, type(self).control)


class InstanceSuspendApi(InstanceControlApi):
    """Suspend a running instance: no step starts and no task completes until it is
    activated. Managers and admins only."""

    control = INSTANCE_CONTROLS["suspend"].service


class InstanceActivateApi(InstanceControlApi):
    """Resume a suspended instance. Managers and admins only."""

    control = INSTANCE_CONTROLS["resume"].service


class InstanceRetryApi(InstanceControlApi):
    """Run each failed step of a failed instance once more. Managers and admins only."""

    control = INSTANCE_CONTROLS["retry"].service


def _control(request: Request, instance_id: str, control: Callable[..., Any]) -> Response:
    instance = instance_get_detail(instance_id=instance_id, user=request.user)
    control(instance=instance, user=request.user)
    return instance_detail_response(instance_id=instance_id, request=request)


class PurgeResultSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The instance purged.")
    purged = serializers.IntegerField(
        help_text="How many instances were deleted: it and its children, at every depth."
    )


class InstancePurgeApi(APIView):
    @extend_schema(
        summary="Purge a finished instance: delete it and everything of it",
        description="A completed, failed or cancelled instance is deleted with its history, "
        "tasks, jobs, timers, subscriptions, the messages delivered to it and its children "
        "(which must be finished too); it cannot be undone. 409 for an instance that is not "
        "finished, one with a child that is not, and a child (purge its parent). Managers "
        "and admins only. Finished instances are also purged when their definition's "
        "`retention` (or `FLOWDESK_DEFAULT_RETENTION`) passes.",
        parameters=[INSTANCE_ID],
        request=None,
        responses={200: PurgeResultSerializer, **error_responses(403, 404, 409)},
    )
    def post(self, request: Request, instance_id: str) -> Response:
        instance = instance_get_detail(instance_id=instance_id, user=request.user)
        purged = instance_purge(instance=instance, user=request.user)
        return Response(PurgeResultSerializer({"id": instance.pk, "purged": purged}).data)


class ReasonSerializer(serializers.Serializer):
    """An operator acting by hand (firing a timer, stopping a wait) says why."""

    reason = StrictCharField(max_length=REASON_MAX_CHARS, help_text="Why: kept in the history.")


class InstanceTimerFireApi(APIView):
    @extend_schema(
        summary="Fire a scheduled timer now, with a reason",
        description="It fires as the sweeper would fire it when due: a timer step moves on, "
        "an interrupting boundary timer cancels its step (its task leaves the inbox) and the "
        "path goes on at its `next`, a reminder starts its path and sets the next one. The "
        "history gets `TIMER_FIRED` by you, with `by` and `reason`. Managers and admins "
        "only; 409 when the timer is not scheduled any more or the instance is not running "
        "(a suspended instance's due timers fire on resume).",
        parameters=[INSTANCE_ID, TIMER_ID],
        request=ReasonSerializer,
        responses={200: InstanceDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, instance_id: str, timer_id: str) -> Response:
        instance = instance_get_detail(instance_id=instance_id, user=request.user)
        # The service checks the reason after the caller's rights, so a clerk learns "403",
        # not what a reason should look like.
        body = request.data if isinstance(request.data, dict) else {}
        timer_fire_now(
            timer_id=timer_id,
            reason=body.get("reason"),
            user=request.user,
            instance_id=instance.pk,
        )
        return instance_detail_response(instance_id=instance_id, request=request)


class InstanceVariablesApi(APIView):
    @extend_schema(
        summary="Edit the variables of a failed or suspended instance (repair)",
        description="A JSON merge patch: each name sets that variable, `null` removes it. "
        "Values are checked against the definition's declarations; the change is recorded in "
        "the history (`VARIABLES_UPDATED`, before and after, who). Then `PUT .../retry` or "
        "`.../activate` lets it go on. With `If-Match: <variables_checksum>` (from the "
        "instance), an edit of variables someone changed since is refused with 409. "
        "Managers and admins only.",
        parameters=[INSTANCE_ID],
        request={"application/json": {"type": "object", "additionalProperties": {}}},
        responses={200: InstanceDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def patch(self, request: Request, instance_id: str) -> Response:
        instance = instance_get_detail(instance_id=instance_id, user=request.user)
        expected = request.headers.get("If-Match", "").strip().strip('"') or None
        instance_variables_update(
            instance=instance, changes=request.data, user=request.user, expected_checksum=expected
        )
        return instance_detail_response(instance_id=instance_id, request=request)


class InstanceHistoryApi(APIView):
    pagination_class = PageSizePagination

    @extend_schema(
        summary="The history of an instance, oldest event first",
        parameters=[INSTANCE_ID],
        responses={200: EventSerializer(many=True), **error_responses(400, 404)},
    )
    def get(self, request: Request, instance_id: str) -> Response:
        instance = instance_get_detail(instance_id=instance_id, user=request.user)
        return paginated_response(
            queryset=instance_history(instance=instance),
            serializer_class=EventSerializer,
            request=request,
            view=self,
        )
