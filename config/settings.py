"""Flowdesk settings: everything comes from the environment.

With nothing set, Flowdesk runs for development on SQLite with a Celery broker that needs
no server (kombu's filesystem transport under `var/`). Production sets DATABASE_URL,
CELERY_BROKER_URL, SECRET_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FLOWDESK_VAR_DIR", BASE_DIR / "var"))


def load_local_env(path: Path) -> None:
    """`KEY=value` lines of the development setup's own file (`make run` writes it once),
    so `manage.py` commands run in the checkout as they do under `make run`. The
    environment wins; production has no such file."""
    if not path.is_file():
        return
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.lstrip().startswith("#"):
            os.environ.setdefault(key.strip(), value.strip())


load_local_env(VAR_DIR / "local.env")


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Production hardening: on unless DEBUG; the proxy in front terminates TLS.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_prometheus",
    "rest_framework",
    "django_filters",
    "guardian",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "processes",
    "tasks",
    "accounts",
]

AUTHENTICATION_BACKENDS = [
    # First: refuses, before any password is checked, a login the budget has locked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turn a locked login (page or admin) into the lockout page; set the known-device cookie.
    "axes.middleware.AxesMiddleware",
    "accounts.known_devices.KnownDeviceMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'flowdesk.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# The same backends, wrapped by django-prometheus to count queries and errors.
DATABASES["default"]["ENGINE"] = DATABASES["default"]["ENGINE"].replace(
    "django.db.backends.", "django_prometheus.db.backends."
)
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Web, worker and beat share one SQLite file in development: WAL lets readers run beside
    # the writer, IMMEDIATE transactions take the write lock up front instead of failing to
    # upgrade it, and a busy file is waited for rather than an error.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20, transaction_mode="IMMEDIATE", init_command="PRAGMA journal_mode=WAL;"
    )

if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    # Values travel as parameters, not inlined into the SQL text. Statements are not
    # prepared (Django's default, prepare_threshold=None, which keeps PgBouncer's transaction
    # pooling working). Measured with bench/engine_throughput.py, preparing them cut
    # PostgreSQL's CPU per step by a third, but steps/s stayed within the usual spread.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = True

# Nothing needs a shared cache today (the login budget lives in the database).
CACHE_URL = os.environ.get("CACHE_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
TESTING = env_bool("TESTING", False)
# In development and tests whitenoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = DEBUG or TESTING
if not DEBUG and not TESTING:
    # whitenoise serves the collected, hashed and compressed files (`manage.py collectstatic`).
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
# Trust X-Forwarded-For only as far as there are proxies of ours in front (0: not at all), so
# a client cannot pick the address its failed logins are counted under.
NUM_PROXIES = int(os.environ.get("NUM_PROXIES", "0"))

# --- The login budget (section owned by accounts/: django-axes + accounts.login_budget) --
# One budget per account for the API, the pages and the admin. The failures are rows in the
# database (axes' database handler): every process shares them without a cache server
# (`make run` has none), the admin lists them, and a test's rows go with its transaction.
AXES_HANDLER = "accounts.login_budget.LoginBudgetHandler"
# This many failed logins for one account, each within the cool-off of the one before,
# lock it for clients it does not know until the cool-off has passed since the last one.
AXES_FAILURE_LIMIT = int(os.environ.get("FLOWDESK_LOGIN_FAILURE_LIMIT", "10"))
AXES_COOLOFF_TIME = timedelta(seconds=env_float("FLOWDESK_LOGIN_COOLOFF_SECONDS", 900))
# Spraying many accounts from one address: that many failures from it, whatever the
# accounts, lock the address the same way (the handler's own check, hence W006 silenced).
FLOWDESK_LOGIN_ADDRESS_FAILURE_LIMIT = int(
    os.environ.get("FLOWDESK_LOGIN_ADDRESS_FAILURE_LIMIT", "50")
)
# A browser that logged in as an account keeps a signed cookie naming it for this long
# (renewed at each login): it may still log in as that account while the account is locked,
# on a failure budget of its own (accounts.known_devices).
FLOWDESK_KNOWN_DEVICE_DAYS = env_float("FLOWDESK_KNOWN_DEVICE_DAYS", 90)
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_CLIENT_IP_CALLABLE = "accounts.login_budget.client_address"
AXES_USERNAME_CALLABLE = "accounts.login_budget.login_username"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_page"
# A login refused during a lockout is neither checked nor counted: it does not extend it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The owner's login (from a known device, during a lockout) must not give a guesser a fresh
# budget: failures age out with the cool-off or an admin lifts them.
AXES_RESET_ON_SUCCESS = False
# Successful logins are User.last_login and KnownDevice.last_login_at; no row per login.
AXES_DISABLE_ACCESS_LOG = True
# accounts/admin.py registers the failure records (AccessAttempt) without axes' per-row
# "status", which a lock adding up several rows belies; axes' login logs stay empty.
AXES_ENABLE_ADMIN = False

# --- REST API (section owned by the API: processes/api.py, tasks/api.py, accounts/) -------

REST_FRAMEWORK = {
    # Bearer first: an anonymous caller gets 401 with `WWW-Authenticate: Bearer`; the session
    # serves the browsable API and the pages.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["restapi.json_body.StrictJsonParser"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "restapi.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "NUM_PROXIES": NUM_PROXIES,
}
# Dapr's workflow HTTP API (processes/api/dapr.py) serves this workflow component name:
# /v1.0/workflows/<FLOWDESK_DAPR_COMPONENT>/...; any other name is Dapr's
# ERR_WORKFLOW_COMPONENT_NOT_FOUND.
FLOWDESK_DAPR_COMPONENT = os.environ.get("FLOWDESK_DAPR_COMPONENT", "flowdesk")
SIMPLE_JWT = {
    "SIGNING_KEY": SECRET_KEY,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env_float("FLOWDESK_ACCESS_TOKEN_SECONDS", 3600)),
    "REFRESH_TOKEN_LIFETIME": timedelta(
        seconds=env_float("FLOWDESK_REFRESH_TOKEN_SECONDS", 7 * 86400)
    ),
    "AUTH_HEADER_TYPES": ("Bearer",),
    # A password change revokes the tokens issued before it.
    "CHECK_REVOKE_TOKEN": True,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Flowdesk API",
    "DESCRIPTION": (
        "Publish process definitions, start and control instances, work human tasks. "
        "Log in at /api/v1/auth/login and send `Authorization: Bearer <access_token>`."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the installed sidecar package: the docs page loads nothing from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "WebhookDeliveryStatusEnum": "processes.outbox_models.WebhookDelivery.Status",
    },
}

# --- Pages (section owned by the inbox and the admin: templates/, tasks/views.py) --------

# --- Celery -------------------------------------------------------------------------------
BROKER_FOLDER = VAR_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_FOLDER),
        "data_folder_out": str(BROKER_FOLDER),
        "control_folder": str(VAR_DIR / "broker-control"),
        "store_processed": False,
    }
CELERY_TASK_IGNORE_RESULT = True
# A worker reserves only what it can run next: messages it holds are stranded until the
# sweeper re-sends them (FLOWDESK_REDISPATCH_AFTER) if it dies, and a step costs more than
# the broker round trip a bigger prefetch saves.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# A broker that is down must not hang a request: the job row is already committed and the
# sweeper re-dispatches it, so give up publishing quickly.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2

# --- The engine ----------------------------------------------------------------------------
# Modules whose @service functions the web and worker processes load.
SERVICE_MODULES = env_list("SERVICE_MODULES", "processes.demo_services")
FLOWDESK_ENGINE = {
    # How often beat runs the sweeper (dispatches due retries, recovers lost jobs).
    "SWEEP_INTERVAL": env_float("FLOWDESK_SWEEP_INTERVAL", 1.0),
    # A lease lasts the step's timeout plus this grace before the sweeper takes it back.
    "LEASE_GRACE": env_float("FLOWDESK_LEASE_GRACE", 30.0),
    # A dispatched job nobody leased for this long is sent again (lost broker message).
    "REDISPATCH_AFTER": env_float("FLOWDESK_REDISPATCH_AFTER", 60.0),
    # Timeout of a service step whose definition names none.
    "DEFAULT_TIMEOUT": env_float("FLOWDESK_DEFAULT_TIMEOUT", 300.0),
    # Service steps a worker runs in a row when each one's success schedules the next one
    # (0: every step goes through the broker).
    "CHAIN_STEPS": int(os.environ.get("FLOWDESK_CHAIN_STEPS", "20")),
    # Leases lost (worker died) before the attempt counts as a States.Timeout failure.
    "MAX_LEASE_LOSSES": int(os.environ.get("FLOWDESK_MAX_LEASE_LOSSES", "3")),
    # An instance's variables together, as JSON: a case holds references to big documents.
    "MAX_VARIABLES_BYTES": int(os.environ.get("FLOWDESK_MAX_VARIABLES_BYTES", "262144")),
    # How deep subprocesses nest (a definition may call itself): deeper is a step failure.
    "MAX_SUBPROCESS_DEPTH": int(os.environ.get("FLOWDESK_MAX_SUBPROCESS_DEPTH", "10")),
    # How many items a for-each step (or a YAML map) takes: a longer list fails the step.
    "MAX_ITEMS": int(os.environ.get("FLOWDESK_MAX_ITEMS", "1000")),
    # How long a finished instance is kept when its definition says no `retention`: a
    # duration ("90d", "12h", "P30D"); unset or empty keeps them forever.
    "DEFAULT_RETENTION": os.environ.get("FLOWDESK_DEFAULT_RETENTION", "").strip() or None,
    # How often beat runs the purge of expired instances (seconds), and how many instances
    # (with their children) one of its transactions deletes.
    "PURGE_INTERVAL": env_float("FLOWDESK_PURGE_INTERVAL", 3600.0),
    "PURGE_BATCH": int(os.environ.get("FLOWDESK_PURGE_BATCH", "1000")),
}

# --- Talking to other systems (processes/outbound.py, processes/services/outbox.py) --------
# Outbound HTTP (webhooks, http steps) may reach loopback, private and link-local addresses
# only when this is on (tests, a closed network); cloud metadata addresses never.
FLOWDESK_ALLOW_PRIVATE_TARGETS = env_bool("FLOWDESK_ALLOW_PRIVATE_TARGETS", False)
# Lifecycle events go to this RabbitMQ (amqp://user:password@host:5672/vhost) through the
# outbox; unset: no bus (`make run` stays zero-setup). Webhooks work with or without it.
FLOWDESK_EVENT_BUS_URL = os.environ.get("FLOWDESK_EVENT_BUS_URL", "").strip()
# The topic exchange the events are published to (routing key `<definition_key>.<type>`).
FLOWDESK_EVENT_BUS_EXCHANGE = os.environ.get("FLOWDESK_EVENT_BUS_EXCHANGE", "flowdesk.events")
# The CloudEvents `source` of every event: this prefix + "/process-definitions/<key>".
FLOWDESK_EVENT_SOURCE = os.environ.get("FLOWDESK_EVENT_SOURCE", "/flowdesk")
FLOWDESK_OUTBOX = {
    # Events the relay takes per transaction.
    "BATCH": int(os.environ.get("FLOWDESK_OUTBOX_BATCH", "200")),
    # How long a process trusts its answer to "is there a consumer?" (the bus URL is fixed;
    # webhook subscriptions can appear at any time): a new subscription gets the events of
    # changes made this many seconds after it at most.
    "CONSUMERS_CHECK_SECONDS": env_float("FLOWDESK_OUTBOX_CONSUMERS_CHECK_SECONDS", 5.0),
    # Relayed events (and their webhook deliveries and attempts) are deleted after this.
    "KEEP_DAYS": env_float("FLOWDESK_OUTBOX_KEEP_DAYS", 7.0),
    # Webhook POSTs: timeout, first retry delay (doubling, at most an hour apart), and how
    # long after the first attempt retries go on.
    "WEBHOOK_TIMEOUT": env_float("FLOWDESK_WEBHOOK_TIMEOUT", 10.0),
    "WEBHOOK_RETRY_BASE": env_float("FLOWDESK_WEBHOOK_RETRY_BASE", 30.0),
    "WEBHOOK_RETRY_MAX": env_float("FLOWDESK_WEBHOOK_RETRY_MAX", 3600.0),
    "WEBHOOK_RETRY_FOR": env_float("FLOWDESK_WEBHOOK_RETRY_FOR", 86400.0),
}

LOG_FORMAT = os.environ.get("LOG_FORMAT", "plain")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        # One JSON object per line; a record's extra fields (instance_id, step_id, job_id)
        # become keys of their own.
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if LOG_FORMAT == "json" else "plain",
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # One line per task received and succeeded (the sweeper runs every second) is noise.
    # httpx logs every request's full URL at INFO: a webhook URL may carry a token.
    "loggers": {
        name: {"level": "WARNING"}
        for name in ("celery.app.trace", "celery.worker.strategy", "httpx", "httpcore")
    },
}
