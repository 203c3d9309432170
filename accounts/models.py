"""A device that has logged in as an account before: the owner's way past a lockout."""

from django.conf import settings
from django.db import models


class KnownDevice(models.Model):
    """A browser (or an API client that keeps cookies) that logged in as `user` before.

    The client holds `key` in a signed cookie. While the account is locked for everyone
    else, this device may still log in with the right password: its failed logins for this
    account count against its own budget (`failures`, reset by a successful login) as well
    as the account's, so a stolen cookie buys no unlimited guessing.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="known_devices"
    )
    key = models.CharField(max_length=64)
    last_login_at = models.DateTimeField()
    failures = models.PositiveIntegerField(default=0)
    last_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="known_device_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} on device {self.key[:8]}"
