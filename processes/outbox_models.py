"""What leaves Flowdesk for other systems: the outbox of lifecycle events, the webhook
subscriptions, and each delivery of an event to a subscription with its attempts.

Imported at the end of processes.models (Django finds the app's models there).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxEvent(models.Model):
    """A history event waiting to leave, written in the same transaction as the event.

    Its id is the history event's id (the CloudEvent's `id`, stable across retries). It holds
    the whole CloudEvent, with no foreign key to the instance: purging the instance does not
    take an event that has not gone out yet.
    """

    id = models.BigIntegerField(primary_key=True)
    instance_id = models.CharField(max_length=64)
    routing_key = models.CharField(max_length=300)
    cloudevent = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    # When the relay published it to the bus (if configured) and fanned it out to webhooks.
    relayed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        indexes = (
            models.Index(fields=("id",), condition=Q(relayed_at__isnull=True), name="outbox_due"),
            models.Index(
                fields=("relayed_at",), condition=Q(relayed_at__isnull=False), name="outbox_done"
            ),
        )

    def __str__(self) -> str:
        return f"{self.cloudevent.get('type')} {self.instance_id}"


class WebhookSubscription(models.Model):
    """Matching events are POSTed to `url` as CloudEvents, signed with `secret`."""

    url = models.URLField(max_length=2000)
    # Empty: every event type; otherwise the EventType names to send.
    event_types = models.JSONField(default=list, blank=True)
    # Empty: every definition; otherwise the definition keys to send.
    definition_keys = models.JSONField(default=list, blank=True)
    # Stored (it must be, to sign); the API shows it once, on create; the admin masks it.
    secret = models.CharField(max_length=200)
    description = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"webhook {self.pk}: {self.url}"

    def matches(self, *, event_type: str, definition_key: str) -> bool:
        return (not self.event_types or event_type in self.event_types) and (
            not self.definition_keys or definition_key in self.definition_keys
        )


class WebhookDelivery(models.Model):
    """One event to one subscription: sent by a Celery job, again with backoff until it is
    delivered, refused, or its retry window (24 h) has passed."""

    class Status(models.TextChoices):
        PENDING = "pending"  # to send at due_at (again, after a failed attempt)
        DELIVERED = "delivered"  # a 2xx answer
        FAILED = "failed"  # a 4xx that is not 408/429, or the retry window passed
        REFUSED = "refused"  # the outbound guard refused the target (SSRF)

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(OutboxEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # Pending: when to send next; while an attempt runs it is pushed past the attempt's end
    # (a lease: a worker that died leaves it due again).
    due_at = models.DateTimeField(default=timezone.now)
    # Retries stop this long after it (FLOWDESK_WEBHOOK_RETRY_FOR); "redeliver" resets it.
    window_started_at = models.DateTimeField(default=timezone.now)
    # When it was last sent to the broker (None: not since its last attempt).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-id",)
        verbose_name_plural = "webhook deliveries"
        indexes = (
            models.Index(
                fields=("due_at",), condition=Q(status="pending"), name="webhook_delivery_due"
            ),
        )

    def __str__(self) -> str:
        return f"delivery {self.pk} of event {self.event_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: what came back (or why nothing did)."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    # delivered, retry, failed, refused
    outcome = models.CharField(max_length=16)
    response_excerpt = models.TextField(blank=True)  # at most 2 KB of the answer
    error = models.TextField(blank=True)

    class Meta:
        ordering = ("delivery", "number")

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]} ({self.outcome})"
