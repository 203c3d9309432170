"""Showing engine data to people: variable values, history events, step names."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone
from django.utils.text import Truncator

from processes import display
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
    EventType.VARIABLES_UPDATED: "Variables edited",
    EventType.TIMER_SCHEDULED: "Timer set",
    EventType.TIMER_FIRED: "Timer fired",
    EventType.TIMER_CANCELLED: "Timer cancelled",
    EventType.SUBSCRIPTION_OPENED: "Waiting for a {kind}",
    EventType.SUBSCRIPTION_CANCELLED: "Stopped waiting",
    EventType.MESSAGE_RECEIVED: "Message received",
    EventType.SIGNAL_RECEIVED: "Signal received",
    EventType.COMPENSATION_STARTED: "Undoing the completed steps",
    EventType.STEP_COMPENSATED: "Step undone",
    EventType.COMPENSATION_COMPLETED: "Completed steps undone",
    EventType.LOOP_STARTED: "For each: started",
    EventType.LOOP_COMPLETED: "For each: finished",
    EventType.INSTANCE_MIGRATED: "Moved to another version",
}
# Internal references and bookkeeping people do not need in the timeline.
# `by`: a timer fired by hand names its person as the event's actor already.
HIDDEN_DETAILS = {
    "task_id",
    "job_id",
    "timer_id",
    "subscription_id",
    "boundary",
    "kind",
    "manual",
    "expression",
    "by",
    "compensates",  # the id of the completion an undo undid
    "loop_id",
    "scope",  # what an item's undo sees of it
}
# Payload entries holding variables: shown as their own entries.
VARIABLE_DETAILS = {"result", "variables"}
# Payload entries naming a step, or several.
STEP_DETAILS = {"next", "step"}
STEP_LIST_DETAILS = {"branches", "steps"}
# How much of a completed task's submitted values an inbox row shows.
OUTCOME_FIELDS, OUTCOME_CHARACTERS = 3, 40


@register.filter
def display_value(value: Any) -> str:
    return display.display_value(value)


@register.filter
def when(moment: Any) -> str:
    return display.when(moment)


@register.filter
def iso(moment: Any) -> str:
    """An ISO 8601 date and time in the page's time zone, to the second (what `datetime`
    attributes and people copying a due time want)."""
    if moment is None:
        return ""
    return timezone.localtime(moment).replace(microsecond=0).isoformat()


@register.filter
def priority_label(priority: int) -> str:
    return display.priority_label(priority)


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
    return display.label_of(name)


@register.filter
def event_label(event: Event) -> str:
    label = EVENT_LABELS.get(event.type, event.type)
    if "{kind}" in label:  # a message or a signal
        return label.format(kind=event.payload.get("kind", "message"))
    return label


@register.simple_tag
def event_details(instance: ProcessInstance, event: Event) -> list[display.Shown]:
    """The payload's entries worth reading; steps by their names, variables each on its own."""
    details = []
    for key, value in event.payload.items():
        if key in HIDDEN_DETAILS or value is None:
            continue
        if key in VARIABLE_DETAILS and isinstance(value, dict):
            shown = display.shown_values(value, specs=instance.graph.variables)
            details.extend(shown.first)
            if shown.rest:
                more = f"{len(shown.rest):,} more (see the variables)"
                details.append(display.Shown(key, "And", more))
        elif key == "definition":
            details.append(display.Shown(key, "Process", instance.definition.name))
        elif key == "changes" and isinstance(value, dict):
            declared = instance.graph.variables
            details.extend(_changed(name, change, declared) for name, change in value.items())
        elif key in STEP_DETAILS and isinstance(value, str):
            details.append(display.Shown(key, field_label(key), step_name(instance, value)))
        elif key in STEP_LIST_DETAILS and isinstance(value, list):
            names = ", ".join(step_name(instance, str(step)) for step in value)
            details.append(display.Shown(key, field_label(key), names))
        else:
            details.append(display.Shown(key, field_label(key), display_value(value)))
    return details


def _changed(name: str, change: Any, declared: dict) -> display.Shown:
    """One edited variable: `5,000 → 6,000`, `— → Yes` for a new one, `x → —` removed."""
    spec = declared.get(name)
    label = (spec and spec.label) or field_label(name)
    if not isinstance(change, dict):
        return display.Shown(name, label, display_value(change))
    currency = spec.currency if spec else ""
    before, after = (
        display.display_value(change.get(k), currency=currency) for k in ("before", "after")
    )
    return display.Shown(name, label, f"{before} → {after}")


@register.simple_tag
def step_name(instance: ProcessInstance, step_id: str) -> str:
    """The step's name from the instance's (cached) graph; its id when it has none."""
    node = instance.graph.nodes.get(step_id)
    return display.step_label(node.name if node else "", step_id)
