"""`/api/v1/webhooks`: webhook subscriptions (admins only).

A subscription receives the lifecycle events it matches as signed CloudEvents
(`processes.services.webhooks`). Its secret is returned once, in the answer to the POST
that creates it, and never again.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from processes.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from processes.services.webhooks import (
    webhook_subscription_create,
    webhook_subscription_delete,
    webhook_subscription_update,
)
from processes.statuses import EventType
from processes.webhook_selectors import (
    webhook_deliveries_recent,
    webhook_subscription_get,
    webhook_subscriptions_list,
)
from restapi.errors import error_responses
from restapi.json_body import validated_body

WEBHOOK_ID = OpenApiParameter("webhook_id", int, OpenApiParameter.PATH, description="Its `id`.")


class WebhookWriteSerializer(serializers.Serializer):
    url = serializers.CharField(
        max_length=2000,
        help_text="Where to POST: http or https, to a public address (private, loopback and "
        "link-local targets are refused unless the server allows them).",
    )
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.values),
        required=False,
        max_length=len(EventType.values),
        help_text="The event types to send (e.g. WORKFLOW_COMPLETED); empty or absent: all.",
    )
    definition_keys = serializers.ListField(
        child=serializers.CharField(max_length=200),
        required=False,
        max_length=1000,
        help_text="Only events of these definitions; empty or absent: all.",
    )
    secret = serializers.CharField(
        min_length=16,
        max_length=200,
        required=False,
        write_only=True,
        help_text="The signing secret; absent: one is generated and returned once.",
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)


class WebhookUpdateSerializer(WebhookWriteSerializer):
    url = serializers.CharField(max_length=2000, required=False)


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSubscription
        fields = (
            "id",
            "url",
            "event_types",
            "definition_keys",
            "description",
            "active",
            "created_at",
            "updated_at",
        )


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="The signing secret: shown here once, never returned again."
    )

    class Meta(WebhookSerializer.Meta):
        fields = (*WebhookSerializer.Meta.fields, "secret")


class AttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = (
            "number",
            "started_at",
            "duration_ms",
            "status_code",
            "outcome",
            "response_excerpt",
            "error",
        )


class DeliverySerializer(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.cloudevent.id")
    event_type = serializers.CharField(source="event.cloudevent.type")
    attempts = AttemptSerializer(source="tries", many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = (
            "id",
            "event_id",
            "event_type",
            "status",
            "due_at",
            "delivered_at",
            "last_error",
            "attempts",
        )


class WebhookListApi(APIView):
    @extend_schema(
        summary="Webhook subscriptions",
        description="Admins only. Secrets are never listed.",
        responses={200: WebhookSerializer(many=True), **error_responses(403)},
    )
    def get(self, request: Request) -> Response:
        subscriptions = webhook_subscriptions_list(user=request.user)
        return Response(WebhookSerializer(subscriptions, many=True).data)

    @extend_schema(
        summary="Subscribe a URL to lifecycle events",
        description=(
            "Each matching event is POSTed as a CloudEvent (`application/cloudevents+json`) "
            "with `Flowdesk-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "
            '"t.body" keyed with the secret>`. Retried with backoff for up to 24 hours on '
            "network errors, 408, 429 and 5xx. The answer carries the secret, once. "
            "Admins only."
        ),
        request=WebhookWriteSerializer,
        examples=[
            OpenApiExample(
                "Completed orders",
                value={
                    "url": "https://hooks.example.com/flowdesk",
                    "event_types": ["WORKFLOW_COMPLETED", "WORKFLOW_FAILED"],
                    "definition_keys": ["order"],
                },
            )
        ],
        responses={201: WebhookCreatedSerializer, **error_responses(400, 403)},
    )
    def post(self, request: Request) -> Response:
        webhook_subscriptions_list(user=request.user)  # 403 before the body is read
        body = validated_body(serializer_class=WebhookWriteSerializer, request=request)
        subscription = webhook_subscription_create(user=request.user, **body)
        return Response(WebhookCreatedSerializer(subscription).data, status=201)


class WebhookDetailApi(APIView):
    @extend_schema(
        summary="A webhook subscription",
        parameters=[WEBHOOK_ID],
        responses={200: WebhookSerializer, **error_responses(403, 404)},
    )
    def get(self, request: Request, webhook_id: str) -> Response:
        subscription = webhook_subscription_get(user=request.user, subscription_id=webhook_id)
        return Response(WebhookSerializer(subscription).data)

    @extend_schema(
        summary="Change a webhook subscription",
        description="Any of its fields; a new `secret` replaces the old one at once.",
        parameters=[WEBHOOK_ID],
        request=WebhookUpdateSerializer,
        responses={200: WebhookSerializer, **error_responses(400, 403, 404)},
    )
    def patch(self, request: Request, webhook_id: str) -> Response:
        subscription = webhook_subscription_get(user=request.user, subscription_id=webhook_id)
        body = validated_body(serializer_class=WebhookUpdateSerializer, request=request)
        subscription = webhook_subscription_update(
            subscription=subscription, user=request.user, **body
        )
        return Response(WebhookSerializer(subscription).data)

    @extend_schema(
        summary="Delete a webhook subscription",
        description="With its deliveries and their attempts. Answers what was deleted.",
        parameters=[WEBHOOK_ID],
        responses={200: WebhookSerializer, **error_responses(403, 404)},
    )
    def delete(self, request: Request, webhook_id: str) -> Response:
        subscription = webhook_subscription_get(user=request.user, subscription_id=webhook_id)
        answer = WebhookSerializer(subscription).data
        webhook_subscription_delete(subscription=subscription, user=request.user)
        return Response(answer)


class WebhookDeliveriesApi(APIView):
    @extend_schema(
        summary="A webhook's latest deliveries with their attempts",
        parameters=[WEBHOOK_ID],
        responses={200: DeliverySerializer(many=True), **error_responses(403, 404)},
    )
    def get(self, request: Request, webhook_id: str) -> Response:
        subscription = webhook_subscription_get(user=request.user, subscription_id=webhook_id)
        deliveries = webhook_deliveries_recent(subscription=subscription)
        return Response(DeliverySerializer(deliveries, many=True).data)
