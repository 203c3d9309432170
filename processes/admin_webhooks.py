"""Webhooks in the admin: subscriptions (their secret masked, shown whole once when it is
made), and the deliveries with every attempt and the "Redeliver" action."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.html import format_html

from processes.admin_base import ReadOnlyAdmin, ReadOnlyInline, act_on_each
from processes.errors import FlowdeskError
from processes.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from processes.services.webhooks import (
    can_manage_webhooks,
    webhook_delivery_redeliver,
    webhook_subscription_create,
    webhook_subscription_update,
)
from processes.statuses import EventType


def masked(secret: str) -> str:
    return f"••••••••{secret[-4:]}" if secret else "—"


class SubscriptionForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        choices=EventType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event type.",
    )
    definition_keys = forms.CharField(
        required=False,
        help_text="Definition keys, separated by commas; empty: every definition.",
    )
    new_secret = forms.CharField(
        required=False,
        min_length=16,
        max_length=200,
        widget=forms.PasswordInput(render_value=False),
        help_text="Empty: keep the secret (a new subscription gets a generated one, shown "
        "once after saving).",
    )

    class Meta:
        model = WebhookSubscription
        fields = ("url", "event_types", "definition_keys", "description", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["definition_keys"] = ", ".join(self.instance.definition_keys)

    def clean_definition_keys(self) -> list[str]:
        text = self.cleaned_data.get("definition_keys") or ""
        return [key.strip() for key in text.split(",") if key.strip()]


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    form = SubscriptionForm
    list_display = ("id", "url", "types", "definitions", "active", "created_at")
    list_filter = ("active",)
    search_fields = ("url", "description")
    readonly_fields = ("secret_masked", "created_by", "created_at", "updated_at")

    @admin.display(description="event types")
    def types(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.event_types) or "all"

    @admin.display(description="definitions")
    def definitions(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.definition_keys) or "all"

    @admin.display(description="secret")
    def secret_masked(self, obj: WebhookSubscription) -> str:
        return masked(obj.secret)

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form, change) -> None:
        """Through the webhook services (the URL is checked by the outbound guard there)."""
        values = {name: form.cleaned_data[name] for name in SubscriptionForm.Meta.fields}
        secret = form.cleaned_data.get("new_secret") or None
        try:
            if change:
                if secret:
                    values["secret"] = secret
                webhook_subscription_update(subscription=obj, user=request.user, **values)
            else:
                created = webhook_subscription_create(user=request.user, secret=secret, **values)
                obj.pk = created.pk
                if not secret:
                    messages.warning(
                        request,
                        f"The signing secret of webhook {created.pk}, shown only now: "
                        f"{created.secret}",
                    )
        except FlowdeskError as error:
            messages.error(request, error.message)
            raise  # the admin answers 500 otherwise; the form's clean stops most cases

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class Checked(form):
            def clean(self) -> dict:
                data = super().clean()
                if "url" in data and not self.errors:
                    from processes.outbound import OutboundError, outbound_url_check

                    try:
                        outbound_url_check(data["url"])
                    except OutboundError as exc:
                        self.add_error("url", f"refused: {exc}")
                return data

        return Checked

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_manage_webhooks(request.user)


class AttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("number", "started_at", "duration_ms", "status_code", "outcome", "excerpt", "error")
    readonly_fields = fields

    @admin.display(description="response (first 2 KB)")
    def excerpt(self, attempt: WebhookAttempt) -> str:
        return format_html("<pre>{}</pre>", attempt.response_excerpt or "—")


@admin.action(description="Redeliver", permissions=["redeliver"])
def redeliver(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset) -> None:
    act_on_each(
        request,
        queryset,
        lambda delivery: webhook_delivery_redeliver(delivery=delivery, user=request.user),
        done="sent again",
    )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "subscription",
        "event_type",
        "instance",
        "status",
        "attempts",
        "due_at",
        "delivered_at",
    )
    list_filter = ("status", "subscription")
    list_select_related = ("subscription", "event")
    fields = (
        "subscription",
        "event_type",
        "instance",
        "status",
        "attempts",
        "due_at",
        "window_started_at",
        "delivered_at",
        "last_error",
        "cloudevent",
    )
    readonly_fields = fields
    inlines = (AttemptInline,)
    actions = (redeliver,)

    @admin.display(description="event")
    def event_type(self, delivery: WebhookDelivery) -> str:
        return f"{delivery.event.cloudevent.get('type')} #{delivery.event_id}"

    @admin.display(description="instance")
    def instance(self, delivery: WebhookDelivery) -> str:
        return delivery.event.instance_id

    @admin.display(description="CloudEvent")
    def cloudevent(self, delivery: WebhookDelivery) -> str:
        import json

        return format_html("<pre>{}</pre>", json.dumps(delivery.event.cloudevent, indent=2))

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return can_manage_webhooks(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_manage_webhooks(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_manage_webhooks(request.user)
