import pytest
from django.contrib.auth.models import User

from tests.accounts.logins import PASSWORD


@pytest.fixture
def people(db) -> dict[str, User]:
    """ann and bob, plain accounts; root, a superuser (the admin that unlocks)."""
    return {
        "ann": User.objects.create_user("ann", password=PASSWORD),
        "bob": User.objects.create_user("bob", password=PASSWORD, is_staff=True),
        "root": User.objects.create_superuser("root", password=PASSWORD),
    }
