"""The definition page: a process's versions and the diagram of one of them.

Visible to those who may start the definition, and to managers; anyone else gets a 404.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import can_manage_definitions
from processes.diagram import version_diagram
from processes.errors import NotFound
from processes.selectors import (
    definition_get_visible,
    definition_start_shares,
    definition_starters,
    definition_version_get,
    definition_versions,
)


@login_required
def definition_detail(request: HttpRequest, key: str) -> HttpResponse:
    try:
        definition = definition_get_visible(user=request.user, key=key)
        version = definition_version_get(definition=definition, number=request.GET.get("version"))
    except NotFound as error:
        raise Http404(error.message) from None
    context = {
        "definition": definition,
        "version": version,
        "versions": _with_shares(definition),
        "rollout": definition.rollout,
        "diagram": version_diagram(version=version),
        "starters": definition_starters(definition=definition)
        if can_manage_definitions(request.user)
        else None,
    }
    return render(request, "processes/definition_detail.html", context)


def _with_shares(definition) -> list:
    """The versions, each with the share of new starts it gets (`share`)."""
    shares = definition_start_shares(definition=definition)
    versions = list(definition_versions(definition=definition))
    for each in versions:
        each.share = shares.get(each.pk, 0)
    return versions
