"""The cases page: the instances a person started or has a task in (every one for managers).

Filters that do not parse answer 400 with the reason next to the filter, not a silent
fallback: a link that lost its meaning should say so.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.permissions import can_see_all_instances
from processes.forms import CaseFilterForm
from processes.instance_lists import COUNT_CAP, case_page


@login_required
def instance_list(request: HttpRequest) -> HttpResponse:
    filters = CaseFilterForm(request.GET, user=request.user)
    valid = filters.is_valid()
    context = {
        "filters": filters,
        "all_cases": can_see_all_instances(request.user),
        "filtered": valid and filters.is_filtered(),
        "paged": valid and bool(filters.cleaned_data["older"] or filters.cleaned_data["newer"]),
        "page": case_page(user=request.user, **filters.criteria()) if valid else None,
        "count_cap": COUNT_CAP,
    }
    return render(request, "processes/instance_list.html", context, status=200 if valid else 400)
