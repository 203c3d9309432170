"""The read API for people: who can be given work."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import QuerySet


def users_assignable() -> QuerySet:
    """Active people, by username; not django-guardian's stand-in for anonymous visitors."""
    anonymous = getattr(settings, "ANONYMOUS_USER_NAME", "AnonymousUser")
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(username=anonymous)
        .order_by("username")
    )
