"""Reading webhook subscriptions and their deliveries (admins only)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.permissions import require
from processes.errors import NotFound
from processes.models import WebhookDelivery, WebhookSubscription
from processes.services.webhooks import can_manage_webhooks

DELIVERIES_SHOWN = 50


def webhook_subscriptions_list(*, user: Any) -> QuerySet[WebhookSubscription]:
    require(user, can_manage_webhooks, "only admins manage webhooks")
    return WebhookSubscription.objects.order_by("id")


def webhook_subscription_get(*, user: Any, subscription_id: Any) -> WebhookSubscription:
    require(user, can_manage_webhooks, "only admins manage webhooks")
    try:
        return WebhookSubscription.objects.get(pk=int(subscription_id))
    except (ValueError, TypeError, WebhookSubscription.DoesNotExist):
        raise NotFound(f"no webhook {subscription_id!r}") from None


def webhook_deliveries_recent(*, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """Its latest deliveries, newest first, with their attempts (three queries in all)."""
    return (
        WebhookDelivery.objects.filter(subscription=subscription)
        .select_related("event")
        .prefetch_related("tries")
        .order_by("-id")[:DELIVERIES_SHOWN]
    )
