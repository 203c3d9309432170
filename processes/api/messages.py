"""`/api/v1/messages`, `/api/v1/signals` and `/api/v1/process-instances/{id}/events/{name}`:
events from other systems. Managers and admins only, as for controlling instances; an
instance the caller may not see answers 404.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from processes.api.instances import (
    INSTANCE_ID,
    InstanceDetailSerializer,
    ReasonSerializer,
    instance_detail_response,
)
from processes.selectors import instance_get_detail
from processes.services import instance_raise_event, message_correlate, signal_broadcast
from processes.services.messages import subscription_cancel
from restapi.errors import error_responses
from restapi.fields import KeyField, StrictCharField
from restapi.json_body import validated_body

SUBSCRIPTION_ID = OpenApiParameter(
    "subscription_id", int, OpenApiParameter.PATH, description="The wait's `id`."
)
EVENT_NAME = OpenApiParameter(
    "name", str, OpenApiParameter.PATH, description="The event (message or signal) name."
)


class MessageSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    correlation_key = KeyField(
        required=False, help_text="Matches the key the waiting step evaluated."
    )
    business_key = StrictCharField(
        required=False, max_length=200, help_text="Matches the instance's business key."
    )
    variables = serializers.DictField(
        required=False, help_text="Merged into the receiving instance's variables."
    )
    ttl_seconds = serializers.FloatField(
        required=False,
        min_value=0.001,
        help_text="When nothing waits for it yet: keep it this long for the first step that "
        "opens a matching wait. Without it, a message that matches nothing is refused (404).",
    )


class MessageOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["delivered", "buffered", "started"])
    instance_id = serializers.CharField(allow_null=True)
    message_id = serializers.IntegerField(allow_null=True)


class SignalSerializer(serializers.Serializer):
    name = StrictCharField(max_length=200)
    variables = serializers.DictField(required=False)


class SignalOutcomeSerializer(serializers.Serializer):
    reached = serializers.IntegerField(help_text="How many waiting steps it reached.")


class EventPayloadSerializer(serializers.Serializer):
    payload = serializers.DictField(
        required=False, help_text="Merged into the instance's variables."
    )


class MessageApi(APIView):
    @extend_schema(
        summary="Send a message to the one instance waiting for it",
        description="Delivered to the waiting `message_catch` step or message boundary "
        "event whose name and `correlation_key` (and instance `business_key`) match; or "
        "starts an instance through a message trigger; or, with `ttl_seconds`, kept for a "
        "step that opens later. 404 when nothing matches and no ttl is given; 409 when "
        "several instances match. Managers and admins only.",
        request=MessageSerializer,
        responses={
            200: MessageOutcomeSerializer,
            202: MessageOutcomeSerializer,
            **error_responses(400, 403, 404, 409),
        },
    )
    def post(self, request: Request) -> Response:
        data = validated_body(serializer_class=MessageSerializer, request=request)
        outcome = message_correlate(user=request.user, **data)
        body = MessageOutcomeSerializer(outcome).data
        return Response(body, status=202 if outcome.outcome == "buffered" else 200)


class SignalApi(APIView):
    @extend_schema(
        summary="Broadcast a signal to every instance waiting for it",
        description="Reaches every waiting `signal_catch` step and signal boundary event of "
        "a running instance; nothing is kept for steps reached later. Managers and admins.",
        request=SignalSerializer,
        responses={200: SignalOutcomeSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        data = validated_body(serializer_class=SignalSerializer, request=request)
        reached = signal_broadcast(user=request.user, **data)
        return Response({"reached": reached})


class InstanceEventApi(APIView):
    @extend_schema(
        summary="Raise an event on one instance",
        description="Delivered to the instance's waiting message or signal step (or "
        "boundary event) of that name; `payload` is merged into its variables. 404 when "
        "the instance waits for no such event. Managers and admins only.",
        parameters=[INSTANCE_ID, EVENT_NAME],
        request=EventPayloadSerializer,
        responses={200: InstanceDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, instance_id: str, name: str) -> Response:
        data = validated_body(serializer_class=EventPayloadSerializer, request=request)
        instance = instance_get_detail(instance_id=instance_id, user=request.user)
        instance_raise_event(
            instance=instance, name=name, payload=data.get("payload"), user=request.user
        )
        return instance_detail_response(instance_id=instance_id, request=request)


class SubscriptionCancelApi(APIView):
    @extend_schema(
        summary="Stop one wait for a message or signal",
        description="A boundary event, or one of a deferred choice's events, stops waiting; "
        "`SUBSCRIPTION_CANCELLED` records who and why. 409 when it is the last thing its "
        "step waits for (raise the event or terminate instead). Managers and admins only.",
        parameters=[INSTANCE_ID, SUBSCRIPTION_ID],
        request=ReasonSerializer,
        responses={200: InstanceDetailSerializer, **error_responses(400, 403, 404, 409)},
    )
    def post(self, request: Request, instance_id: str, subscription_id: str) -> Response:
        data = validated_body(serializer_class=ReasonSerializer, request=request)
        instance = instance_get_detail(instance_id=instance_id, user=request.user)
        subscription_cancel(
            subscription_id=subscription_id,
            reason=data["reason"],
            user=request.user,
            instance_id=instance.pk,
        )
        return instance_detail_response(instance_id=instance_id, request=request)
