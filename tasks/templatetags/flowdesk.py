"""Showing engine data to people: variable values, history events, step names."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.utils import timezone
from django.utils.text import Truncator

from processes.models import Event, ProcessInstance
from processes.statuses import EventType, TaskState
from tasks.forms import DECISION
from tasks.models import Task

register = template.Library()

EVENT_LABELS = {
    EventType.WORKFLOW_STARTED: "Process started",
    EventType.WORKFLOW_SUSPENDED: "Process suspended",
    EventType.WORKFLOW_RESUMED: "Process resumed",
    EventType.WORKFLOW_RETRIED: "Process retried",
    EventType.WORKFLOW_COMPLETED: "Process completed",
    EventType.WORKFLOW_FAILED: "Process failed",
    EventType.WORKFLOW_CANCELLED: "Process terminated",
    EventType.TASK_SCHEDULED: "Step started",
    EventType.TASK_COMPLETED: "Step completed",
    EventType.TASK_FAILED: "Step failed",
    EventType.TASK_RETRIED: "Step retried",
    EventType.TASK_CANCELLED: "Step cancelled",
    EventType.TASK_CLAIMED: "Task claimed",
    EventType.TASK_UNCLAIMED: "Task given back",
    EventType.TASK_ASSIGNED: "Task assigned",
    EventType.GATEWAY_EVALUATED: "Decision taken",
    EventType.JOIN_COMPLETED: "Branches joined",
}
# Internal references and bookkeeping people do not need in the timeline.
HIDDEN_DETAILS = {"task_id", "job_id", "kind", "manual", "expression"}
# Payload entries holding variables: shown as their own entries.
VARIABLE_DETAILS = {"result", "variables"}
# Payload entries naming a step.
STEP_DETAILS = {"next", "step"}
# How much of a completed task's submitted values an inbox row shows.
OUTCOME_FIELDS, OUTCOME_CHARACTERS = 3, 40


@register.filter
def display_value(value: Any) -> str:
    """A variable's value as a person reads it: 5,000 / Yes / 2026-03-01 / {"a": 1}."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int | float):
        return f"{value:,}"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


@register.filter
def short_value(value: Any) -> str:
    """A value in a few words: a list's items, a mapping's size; never JSON."""
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        text = ", ".join(display_value(v) for v in value) or "—"
    elif isinstance(value, list):
        text = f"{len(value)} item{'s' if len(value) != 1 else ''}"
    elif isinstance(value, dict):
        text = f"{len(value)} field{'s' if len(value) != 1 else ''}"
    else:
        text = display_value(value)
    return Truncator(text).chars(OUTCOME_CHARACTERS)


@register.filter
def outcome(result: Any) -> dict[str, Any]:
    """What a completed task decided: Approved / Rejected for a boolean `approved`, else its
    first submitted values as (label, text), and how many more there are."""
    if not isinstance(result, dict) or not result:
        return {"decision": "", "values": [], "more": 0}
    if isinstance(result.get(DECISION), bool):
        return {"decision": "Approved" if result[DECISION] else "Rejected", "values": [], "more": 0}
    values = [(field_label(name), short_value(value)) for name, value in result.items()]
    return {
        "decision": "",
        "values": values[:OUTCOME_FIELDS],
        "more": max(0, len(values) - OUTCOME_FIELDS),
    }


@register.filter
def is_overdue(task: Task) -> bool:
    """Due before now and still waiting for someone."""
    waiting = task.state in (TaskState.OPEN, TaskState.ASSIGNED)
    return waiting and task.due_date is not None and task.due_date < timezone.now()


@register.filter
def field_label(name: str) -> str:
    """`business_key` -> "Business key", as generated form labels read."""
    return name.replace("_", " ").capitalize()


@register.filter
def event_label(event: Event) -> str:
    return EVENT_LABELS.get(event.type, event.type)


@register.simple_tag
def event_details(instance: ProcessInstance, event: Event) -> list[tuple[str, str]]:
    """The payload's entries worth reading, each as (label, text); steps by their names."""
    details = []
    for key, value in event.payload.items():
        if key in HIDDEN_DETAILS or value is None:
            continue
        if key in VARIABLE_DETAILS and isinstance(value, dict):
            details.extend((field_label(name), display_value(v)) for name, v in value.items())
        elif key in STEP_DETAILS and isinstance(value, str):
            details.append((field_label(key), step_name(instance, value)))
        else:
            details.append((field_label(key), display_value(value)))
    return details


@register.simple_tag
def step_name(instance: ProcessInstance, step_id: str) -> str:
    """The step's name from the instance's (cached) graph; its id when it has none."""
    node = instance.graph.nodes.get(step_id)
    return node.name if node and node.name else step_id
