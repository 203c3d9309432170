"""Production settings: no SECRET_KEY and no DEBUG refuses to start; hardening is on."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def settings_of(**env: str) -> subprocess.CompletedProcess:
    clean = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings", **env}
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, "
        "s.ALLOWED_HOSTS, s.STORAGES['staticfiles']['BACKEND'])"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_production__refuses_to_start_without_a_secret_key():
    result = settings_of()
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production__debug_off_secure_cookies_hsts_whitenoise():
    result = settings_of(SECRET_KEY="x" * 40, ALLOWED_HOSTS="flowdesk.example.com")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "False",
        "True",
        "True",
        "31536000",
        "['flowdesk.example.com']",
        "whitenoise.storage.CompressedManifestStaticFilesStorage",
    ]


def test_development__debug_needs_no_secret_key():
    result = settings_of(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:4] == ["True", "False", "False", "0"]
