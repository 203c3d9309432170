"""Who may start a process: managers grant and revoke the right, per group or user."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import capfirst

from accounts.permissions import can_manage_definitions
from processes.errors import FlowdeskError, NotFound
from processes.selectors import definition_get_visible, definition_starters
from processes.services.start_rights import definition_starters_grant, definition_starters_revoke


class StarterForm(forms.Form):
    action = forms.ChoiceField(choices=[("grant", "Grant"), ("revoke", "Revoke")])
    group = forms.CharField(required=False, max_length=150)
    user = forms.CharField(required=False, max_length=150)

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("group") and not data.get("user"):
            raise forms.ValidationError("Name a group or a user.")
        return data


@login_required
def definition_starters_page(request: HttpRequest, key: str) -> HttpResponse:
    if not can_manage_definitions(request.user):
        raise Http404("no such page")  # a plain user never learns who may start what
    try:
        definition = definition_get_visible(user=request.user, key=key)
    except NotFound as error:
        raise Http404(error.message) from None
    form = StarterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        change = (
            definition_starters_grant if data["action"] == "grant" else definition_starters_revoke
        )
        named = {"groups": [data["group"]] if data["group"] else [], "users": []}
        if data["user"]:
            named["users"] = [data["user"]]
        try:
            change(definition=definition, user=request.user, **named)
        except FlowdeskError as error:
            problems = [p for errors in error.field_errors.values() for p in errors]
            form.add_error(None, capfirst("; ".join(problems) or error.message) + ".")
        else:
            done = "may now start it" if data["action"] == "grant" else "may no longer start it"
            who = " and ".join(f"“{n}”" for n in (data["group"], data["user"]) if n)
            messages.success(request, f"{who} {done}.")
            return redirect("definition-starters", definition.key)
    groups, users = definition_starters(definition=definition)
    context = {
        "definition": definition,
        "groups": groups,
        "users": users,
        "form": form,
        "all_groups": Group.objects.order_by("name"),
    }
    return render(
        request, "processes/definition_starters.html", context, status=400 if form.errors else 200
    )
