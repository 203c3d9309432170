"""How the API names people: by username, in filters and in answers."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

CURRENT_USER = "current_user"


class UsernameFilterField(serializers.CharField):
    """A username in a query filter; `current_user` stands for the caller's own."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "A username, or `current_user`.")
        super().__init__(required=False, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        username = super().to_internal_value(data)
        return self.context["request"].user.get_username() if username == CURRENT_USER else username


class UsernameField(serializers.SlugRelatedField):
    """A user in an answer, as their username; null when there is none (or they were deleted)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "A username.")
        super().__init__(slug_field="username", read_only=True, allow_null=True, **kwargs)
