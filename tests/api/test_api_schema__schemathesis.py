"""Schemathesis drives every operation of /api/schema/ through the WSGI app as a manager.

No answer may be a 5xx or differ from the schema (status, content type, body, headers).
Examples are few per operation so the run stays well under two minutes.
"""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import RefreshToken

from config.wsgi import application
from processes.services import instance_start

# The host schemathesis' WSGI client sends.
HOSTS = ["localhost"]
CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {"max-examples": 8, "database": "none"},
        "phases": {"stateful": {"enabled": False}},
        # A request of the right shape may still be refused for what it means, by design
        # and with a 400 the schema documents: a definition with problems, a variable of
        # the wrong type for that definition, values a task's form rejects, text with NUL.
        "checks": {"positive_data_acceptance": {"enabled": False}},
    }
)

# Loaded while collecting (serving the schema needs no database).
with override_settings(ALLOWED_HOSTS=HOSTS):
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, config=CONFIG)


@pytest.fixture
def manager_headers(people, approval, settings):
    """Something to find (an instance with an open task) and the manager's token."""
    settings.ALLOWED_HOSTS = HOSTS
    instance_start(definition_key="approval", variables={"amount": 5000}, user=people["ann"])
    # As Django's test client does: a request must not close the connection holding the
    # test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {"Authorization": f"Bearer {RefreshToken.for_user(people['maria']).access_token}"}
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.mark.django_db
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api__answers_conform_to_the_schema(case, manager_headers):
    case.call_and_validate(headers=manager_headers)
