"""Test settings: the real PostgreSQL and Redis on this machine, unless the environment says."""

import os
from pathlib import Path

# A developer's var/local.env (written by `make run`) must not turn DEBUG on in the tests.
os.environ.setdefault("DEBUG", "")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-long-enough-for-hs256")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/flowdesk")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SERVICE_MODULES", "processes.demo_services,tests.support.services")
os.environ.setdefault("FLOWDESK_SWEEP_INTERVAL", "0.5")
os.environ.setdefault("FLOWDESK_LEASE_GRACE", "2")
os.environ.setdefault("FLOWDESK_REDISPATCH_AFTER", "3")
os.environ.setdefault("TESTING", "1")
# Tests run web code in this process and steps in worker processes: count across both.
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    str(Path(__file__).resolve().parent.parent / "test-output" / "prometheus"),
)
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

from config.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
