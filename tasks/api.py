"""`/api/v1/tasks`: the inbox queries, a task with its form, claim/unclaim/complete/assign.

A task the caller may not see answers 404. The services refuse the rest: claiming without
being a candidate or completing someone else's task is 403, a task already taken or
finished is 409, values the form rejects are 400 with the fields' problems.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import can_assign_tasks, require
from accounts.selectors import users_assignable
from processes.statuses import TaskState
from restapi.errors import error_responses
from restapi.json_body import validated_body
from restapi.lists import PageSizePagination, paginated_response, validated_query
from restapi.users import UsernameField, UsernameFilterField
from tasks.models import Task
from tasks.selectors import TASK_ORDERINGS, task_form_schema, task_get_visible, tasks_list
from tasks.services import task_assign, task_claim, task_complete, task_unclaim

TASK_ID = OpenApiParameter("task_id", int, OpenApiParameter.PATH, description="The task's `id`.")


class TaskSerializer(serializers.ModelSerializer):
    """A task in a list: what an inbox row shows."""

    assignee = UsernameField()
    process_instance_id = serializers.CharField(source="instance_id")
    business_key = serializers.CharField(source="instance.business_key")
    process_definition_key = serializers.CharField(source="instance.definition.key")

    class Meta:
        model = Task
        fields = (
            "id",
            "name",
            "step_id",
            "state",
            "assignee",
            "due_date",
            "priority",
            "created_at",
            "claimed_at",
            "process_instance_id",
            "business_key",
            "process_definition_key",
        )


class TaskCandidatesSerializer(serializers.Serializer):
    candidate_users = serializers.SlugRelatedField(slug_field="username", many=True, read_only=True)
    candidate_groups = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)


class TaskSummarySerializer(TaskCandidatesSerializer, serializers.ModelSerializer):
    """A task of an instance: who holds it, who may claim it."""

    assignee = UsernameField()

    class Meta:
        model = Task
        fields = (
            "id",
            "name",
            "step_id",
            "state",
            "assignee",
            "candidate_users",
            "candidate_groups",
            "due_date",
            "priority",
            "created_at",
            "claimed_at",
        )


class TaskDetailSerializer(TaskCandidatesSerializer, TaskSerializer):
    """A task with its candidates, its form and, once done, its outcome."""

    form = serializers.SerializerMethodField(
        help_text="field -> {type, required, label, choices, ...}, in the definition's order"
    )
    completed_by = UsernameField()
    result = serializers.JSONField(allow_null=True, help_text="The values it completed with.")

    class Meta(TaskSerializer.Meta):
        fields = (
            *TaskSerializer.Meta.fields,
            "candidate_users",
            "candidate_groups",
            "form",
            "completed_at",
            "completed_by",
            "result",
        )

    def get_form(self, task: Task) -> dict[str, dict[str, Any]]:
        return task_form_schema(task=task)


class TaskFilterSerializer(serializers.Serializer):
    assignee = UsernameFilterField()
    candidate_user = UsernameFilterField(
        help_text="Open tasks this user may claim (named or through a group): a username, "
        "or `current_user`.",
    )
    candidate_group = serializers.CharField(required=False, help_text="A group name.")
    process_instance_id = serializers.CharField(required=False)
    state = serializers.ChoiceField(
        choices=TaskState.choices, required=False, help_text="Without it: open and assigned."
    )
    due_before = serializers.DateTimeField(required=False)
    ordering = serializers.ChoiceField(choices=list(TASK_ORDERINGS), default="-created")


class TaskCompleteSerializer(serializers.Serializer):
    variables = serializers.DictField(
        required=False, help_text="The form's values, merged into the instance variables."
    )


class TaskAssignSerializer(serializers.Serializer):
    assignee = serializers.SlugRelatedField(
        slug_field="username", queryset=users_assignable()
    )


class TaskListApi(APIView):
    pagination_class = PageSizePagination

    @extend_schema(
        summary="List the tasks you may see",
        parameters=[TaskFilterSerializer],
        responses={200: TaskSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request) -> Response:
        filters = validated_query(serializer_class=TaskFilterSerializer, request=request)
        return paginated_response(
            queryset=tasks_list(user=request.user, **filters),
            serializer_class=TaskSerializer,
            request=request,
            view=self,
        )


class TaskDetailApi(APIView):
    @extend_schema(
        summary="A task with its form schema",
        parameters=[TASK_ID],
        responses={200: TaskDetailSerializer, **error_responses(404)},
    )
    def get(self, request: Request, task_id: str) -> Response:
        task = task_get_visible(task_id=task_id, user=request.user)
        return Response(TaskDetailSerializer(task).data)


class TaskActionApi(APIView):
    # The base of the PUT actions without a body; each subclass names its service and
    # describes it.

    service: ClassVar[Callable[..., Task]]

    @extend_schema(
        parameters=[TASK_ID],
        request=None,
        responses={200: TaskDetailSerializer, **error_responses(403, 404, 409)},
    )
    def put(self, request: Request, task_id: str) -> Response:
        task = task_get_visible(task_id=task_id, user=request.user)
        return Response(TaskDetailSerializer(type(self).service(task=task, user=request.user)).data)


class TaskClaimApi(TaskActionApi):
    """Claim an open task you are a candidate for: it becomes yours to complete. 409 when
    someone else claimed it first."""

    service = task_claim


class TaskUnclaimApi(TaskActionApi):
    """Give a task you claimed back to its candidates."""

    service = task_unclaim


class TaskCompleteApi(APIView):
    @extend_schema(
        summary="Complete a task you hold, with the form's values",
        parameters=[TASK_ID],
        request=TaskCompleteSerializer,
        responses={200: TaskDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def put(self, request: Request, task_id: str) -> Response:
        task = task_get_visible(task_id=task_id, user=request.user)
        body = validated_body(serializer_class=TaskCompleteSerializer, request=request)
        done = task_complete(task=task, user=request.user, variables=body.get("variables"))
        return Response(TaskDetailSerializer(done).data)


class TaskAssignApi(APIView):
    @extend_schema(
        summary="Give a task to someone (managers and admins)",
        parameters=[TASK_ID],
        request=TaskAssignSerializer,
        responses={200: TaskDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def put(self, request: Request, task_id: str) -> Response:
        task = task_get_visible(task_id=task_id, user=request.user)
        require(request.user, can_assign_tasks, "assigning tasks needs the manager or admin role")
        body = validated_body(serializer_class=TaskAssignSerializer, request=request)
        done = task_assign(task=task, assignee=body["assignee"], user=request.user)
        return Response(TaskDetailSerializer(done).data)
