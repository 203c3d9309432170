"""Starting a process and the instance page: parse, check visibility, call one service, render.

Every instance id in a URL goes through `instance_get_visible`, so another user's instance
is a 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.views.decorators.http import require_POST

from accounts.permissions import can_start
from processes.controls import INSTANCE_CONTROLS, instance_controls_available
from processes.diagram import instance_diagram
from processes.display import shown_values
from processes.errors import Conflict, InvalidInput, NotAllowed, NotFound
from processes.forms import StartForm, VariablesForm
from processes.instance_waits import instance_waits
from processes.models import ProcessInstance, graph_of_version
from processes.selectors import (
    definition_get_visible,
    definition_version_get,
    definitions_startable_by,
    instance_children,
    instance_current_steps,
    instance_get_visible,
    instance_history,
    instance_incidents,
    instance_loops,
)
from processes.services import instance_start
from processes.services.messages import subscription_cancel
from processes.services.timers import timer_fire_now
from tasks.selectors import instance_open_tasks


@login_required
def start_list(request: HttpRequest) -> HttpResponse:
    definitions = definitions_startable_by(user=request.user)
    return render(request, "processes/start_list.html", {"definitions": definitions})


@login_required
def start_form(request: HttpRequest, key: str) -> HttpResponse:
    try:
        definition = definition_get_visible(user=request.user, key=key)
        version = definition_version_get(definition=definition)
    except NotFound as error:
        raise Http404(error.message) from None
    if not can_start(request.user, definition):
        raise PermissionDenied(
            f"You may not start “{definition.name}”: ask a manager to grant you the right."
        )
    declared = graph_of_version(version.pk).variables
    data = request.POST if request.method == "POST" else None
    form, variables = StartForm(data), VariablesForm(data, declared=declared)
    if data is not None and form.is_valid() and variables.is_valid():
        try:
            instance = instance_start(
                definition_key=definition.key,
                variables=variables.values(),
                business_key=form.cleaned_data["business_key"],
                user=request.user,
            )
        except InvalidInput as error:
            variables.add_service_errors(error)
        except NotFound as error:
            raise Http404(error.message) from None
        except NotAllowed as error:
            raise PermissionDenied(capfirst(error.message) + ".") from None
        else:
            messages.success(request, f"Started “{definition.name}”.")
            return redirect("instance-detail", instance.pk)
    context = {"definition": definition, "form": form, "variables": variables}
    return render(request, "processes/start_form.html", context, status=400 if data else 200)


@login_required
def instance_detail(request: HttpRequest, instance_id: str) -> HttpResponse:
    instance = _visible_instance(request, instance_id)
    context = {
        "instance": instance,
        "open_tasks": instance_open_tasks(instance=instance),
        "current_steps": instance_current_steps(instance=instance),
        "children": instance_children(instance=instance),
        "loops": instance_loops(instance=instance),
        "waits": instance_waits(instance=instance, user=request.user),
        "incidents": instance_incidents(instance=instance),
        "variables": shown_values(instance.variables, specs=instance.graph.variables),
        "timeline": instance_history(instance=instance),
        "controls": instance_controls_available(instance=instance, user=request.user),
        "diagram": instance_diagram(instance=instance, user=request.user),
    }
    return render(request, "processes/instance_detail.html", context)


@login_required
@require_POST
def instance_control(request: HttpRequest, instance_id: str, action: str) -> HttpResponse:
    instance = _visible_instance(request, instance_id)
    control = INSTANCE_CONTROLS.get(action)
    if control is None or control.page:
        raise Http404(f"no action {action!r}")
    try:
        control.service(instance=instance, user=request.user)
    except NotAllowed as error:
        raise PermissionDenied(capfirst(error.message) + ".") from None
    except Conflict as error:
        messages.warning(request, capfirst(error.message) + ".")
    else:
        messages.success(request, control.done)
    return redirect("instance-detail", instance.pk)


@login_required
@require_POST
def instance_timer_fire(request: HttpRequest, instance_id: str, timer_id: int) -> HttpResponse:
    """An operator fires a scheduled timer now, with the reason the form asks for."""
    return _act_on_wait(
        request,
        instance_id,
        lambda instance: timer_fire_now(
            timer_id=timer_id,
            reason=request.POST.get("reason"),
            user=request.user,
            instance_id=instance.pk,
        ),
        done="Timer fired; the timeline shows it with your reason.",
    )


@login_required
@require_POST
def instance_subscription_cancel(
    request: HttpRequest, instance_id: str, subscription_id: int
) -> HttpResponse:
    """An operator stops one wait for a message or signal, with the reason the form asks for."""
    return _act_on_wait(
        request,
        instance_id,
        lambda instance: subscription_cancel(
            subscription_id=subscription_id,
            reason=request.POST.get("reason"),
            user=request.user,
            instance_id=instance.pk,
        ),
        done="Stopped waiting; the timeline shows it with your reason.",
    )


def _act_on_wait(
    request: HttpRequest, instance_id: str, act: Callable[[ProcessInstance], Any], *, done: str
) -> HttpResponse:
    """Do `act` to a wait of an instance the user may see; back to its page, saying how it
    went (a refusal the user can mend as a warning there)."""
    instance = _visible_instance(request, instance_id)
    try:
        act(instance)
    except NotFound as error:
        raise Http404(error.message) from None
    except NotAllowed as error:
        raise PermissionDenied(capfirst(error.message) + ".") from None
    except (Conflict, InvalidInput) as error:
        messages.warning(request, capfirst(error.message) + ".")
    else:
        messages.success(request, done)
    return redirect("instance-detail", instance.pk)


def _visible_instance(request: HttpRequest, instance_id: str) -> ProcessInstance:
    try:
        return instance_get_visible(instance_id=instance_id, user=request.user)
    except NotFound as error:
        raise Http404(error.message) from None
