"""The repair page: a manager corrects a failed or suspended instance's variables."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst

from processes.controls import INSTANCE_CONTROLS
from processes.errors import Conflict, InvalidInput, NotAllowed, NotFound
from processes.forms import VariablesEditForm
from processes.selectors import instance_get_visible
from processes.services.repair import variables_checksum

CONTROL = INSTANCE_CONTROLS["variables"]


@login_required
def instance_variables_edit(request: HttpRequest, instance_id: str) -> HttpResponse:
    try:
        instance = instance_get_visible(instance_id=instance_id, user=request.user)
    except NotFound as error:
        raise Http404(error.message) from None
    if not CONTROL.may(request.user):
        raise PermissionDenied("Only managers and admins may edit a process's variables.")
    data = request.POST if request.method == "POST" else None
    form = VariablesEditForm(
        data,
        declared=instance.graph.variables,
        current=instance.variables,
        checksum=variables_checksum(instance.variables),
    )
    if data is not None and form.is_valid():
        changes = form.changes()
        if not changes:
            messages.info(request, "Nothing changed.")
            return redirect("instance-detail", instance.pk)
        try:
            CONTROL.service(
                instance=instance,
                changes=changes,
                user=request.user,
                expected_checksum=form.cleaned_data["checksum"],
            )
        except InvalidInput as error:
            form.add_service_errors(error)
        except NotAllowed as error:
            raise PermissionDenied(capfirst(error.message) + ".") from None
        except Conflict as error:
            messages.warning(request, capfirst(error.message) + ".")
            return redirect("instance-detail", instance.pk)
        else:
            messages.success(request, CONTROL.done)
            return redirect("instance-detail", instance.pk)
    context = {"instance": instance, "form": form}
    return render(
        request, "processes/instance_variables.html", context, status=400 if data else 200
    )
