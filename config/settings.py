"""Settings read from the environment.

Nothing set gives the embedded default: SQLite file, in-memory channel layer, and a Celery worker
(started beside the web server by ``make run``) fed through a SQLite file, so no service needs
installing. ``DATABASE_URL`` switches to PostgreSQL, ``REDIS_URL`` to the Redis channel layer and
the Redis broker. Every knob goes through a tiny typed helper that fails loudly on a bad value.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false)")


def _env_number(name: str, default, cast, what: str):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return cast(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not {what}") from exc


def env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "an integer")


def env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


# DEBUG (the environment variable) is development mode: the local fallback key, local hosts, plain
# HTTP. DEBUG_PAGES (default: DEBUG) is Django's technical error pages (tracebacks, settings, the
# URL patterns), which Django shows whenever its DEBUG setting is on, whatever config.urls' handlers
# say. `make run` sets DEBUG_PAGES=false: Django's DEBUG is then off, so a demo shows the product's
# 403, 404 and 500 pages (core/errors.py), while development mode stays on.
DEVELOPMENT = env_bool("DEBUG", True)
DEBUG_PAGES = env_bool("DEBUG_PAGES", DEVELOPMENT)
DEBUG = DEVELOPMENT and DEBUG_PAGES
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEVELOPMENT:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-local-development-only-key-not-for-production-use"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEVELOPMENT else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The public address for links in emails and calendar files; empty: the address the request reached.
SITE_URL = env_str("SITE_URL", "")

# Where the real data lives (see ../shared/data/README.md); never committed to this repo.
SHARED_DATA_DIR = Path(env_str("SHARED_DATA_DIR", str(BASE_DIR.parent / "shared" / "data")))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.forms",
    "channels",
    "django_htmx",
    "template_partials",
    "core",
    "accounts",
    "cycles",
    "workshops",
    "matching",
    "findings",
    "ninja",  # the read API's docs page serves django-ninja's own Swagger UI files (no CDN)
    "api",
    # Personal data rights: above every app, since it reads and erases what each holds about a person.
    "privacy",
]

MIDDLEWARE = [
    # One JSON line per request (core/logs.py), outermost so it times and sees every response.
    "core.logs.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # WhiteNoise: static files from the ASGI processes themselves (services mode, the Dockerfile): after
    # SecurityMiddleware so they get its headers, before everything that would touch a session.
    "core.storage.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns django-ratelimit's Ratelimited into RATELIMIT_VIEW's 429 page (not a bare 403).
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "config.urls"
# Bootstrap markup for every form: templates/forms/div.html and field.html (see core/forms.py).
FORM_RENDERER = "core.forms.FormRenderer"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

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
                "cycles.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0))}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # WAL + a busy timeout let the ASGI server and in-process tasks write side by side.
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
        }
    }

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # redis-py caps a connection pool at 100 connections by default; every live socket's group_add,
    # group_discard and receive takes one, so a room of several hundred failed with "Too many
    # connections" (tests/faults, bench/scale.py). "pubsub" fans a broadcast out once per server
    # process instead of once per socket (see docs/benchmarks.md, Scale).
    _layers = {
        "core": "channels_redis.core.RedisChannelLayer",
        "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
    }
    _layer = env_str("CHANNEL_LAYER", "core")
    if _layer not in _layers:
        raise ImproperlyConfigured(f"CHANNEL_LAYER={_layer!r} is not one of: {', '.join(_layers)}")
    _redis_host = {"address": REDIS_URL, "max_connections": env_int("REDIS_MAX_CONNECTIONS", 5000)}
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": _layers[_layer],
            "CONFIG": {"hosts": [_redis_host], **({"capacity": 1500, "expiry": 10} if _layer == "core" else {})},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery. Long work never runs inside a request: in services mode Redis is the broker; in the
# embedded default kombu's SQLAlchemy transport keeps the queue in a SQLite file of its own
# (var/celery-broker.sqlite3), and `make run` starts the worker beside the web server. Tests run
# tasks in-process (tests/conftest.py); CELERY_TASK_ALWAYS_EAGER=true does the same anywhere.
BROKER_SQLITE_PATH = Path(env_str("CELERY_BROKER_SQLITE", str(BASE_DIR / "var" / "celery-broker.sqlite3")))
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or f"sqla+sqlite:///{BROKER_SQLITE_PATH}")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "default"
# FOP proposals embed occupation texts like a match run: they share its queue, off the default
# queue that Delphi aggregation and emails use.
CELERY_TASK_ROUTES = {"matching.tasks.*": {"queue": "matching"}, "workshops.tasks.propose_fops": {"queue": "matching"}}
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
if CELERY_BROKER_URL.startswith("sqla+"):
    # kombu hands the SQLAlchemy transport's options to create_engine, which takes none of these.
    # The worker polls the queue table every second: a queued job starts within a second.
    BROKER_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Delphi live rooms: seconds between coalesced progress broadcasts, and the database threads that
# take votes off the event loop in each ASGI process.
DELPHI_PROGRESS_INTERVAL = env_float("DELPHI_PROGRESS_INTERVAL", 0.5)
DELPHI_DB_THREADS = env_int("DELPHI_DB_THREADS", 16)
# The asyncio connections on which each ASGI process stores live votes (PostgreSQL, persistent
# connections: workshops/delphi/live_votes.py). A round's votes queue on its row's lock (the
# sequence bump) however many run at once, and PostgreSQL's tuple-lock queue convoys: at 16 per
# process 1,000 voters had a p99 of 0.33-1.06 s, at 4 of 0.13-0.27 s (docs/benchmarks.md, "Live path").
DELPHI_VOTE_CONNECTIONS = env_int("DELPHI_VOTE_CONNECTIONS", 4)
# Servers and workers start loading the embedding model as they start (a background thread), so no
# request waits for it.
MATCHING_PRELOAD = env_bool("MATCHING_PRELOAD", True)
# The sentence encoder (matching/encoders.py): "onnx" (ONNX Runtime on a graph exported once into
# MODEL_CACHE_DIR from the packaged weights; PyTorch if that fails) or "torch".
EMBEDDING_BACKEND = env_str("EMBEDDING_BACKEND", "onnx")
MODEL_CACHE_DIR = Path(env_str("MODEL_CACHE_DIR", str(BASE_DIR / "var" / "models")))
# One warm-up (matching.tasks.warm_up) at a time per machine: a lock on this file.
WARM_UP_LOCK = Path(env_str("WARM_UP_LOCK", str(BASE_DIR / "var" / "warm-up.lock")))
# make run embeds every framework's statements with the demo (minutes), not only the IfATE duties.
MATCHING_DEMO_EMBED_ALL = env_bool("MATCHING_DEMO_EMBED_ALL", False)

# Background jobs (core/jobs.py): a running job's task beats its heartbeat every
# JOB_HEARTBEAT_SECONDS; unheard for JOB_STALE_AFTER_SECONDS it counts as lost, and the sweep that
# marks lost jobs failed runs every JOB_SWEEP_SECONDS.
JOB_HEARTBEAT_SECONDS = env_float("JOB_HEARTBEAT_SECONDS", 30.0)
JOB_STALE_AFTER_SECONDS = env_float("JOB_STALE_AFTER_SECONDS", 180.0)
JOB_SWEEP_SECONDS = env_float("JOB_SWEEP_SECONDS", 60.0)
if JOB_STALE_AFTER_SECONDS < 3 * JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("JOB_STALE_AFTER_SECONDS must be at least three heartbeats (JOB_HEARTBEAT_SECONDS).")

# Scheduled work (services mode: run `celery -A config beat` beside the workers). Pages never do it:
# a Delphi round past its deadline reads as closed at once and its row closes here within a minute;
# a background job whose worker died is marked failed within minutes of going stale.
CELERY_BEAT_SCHEDULE = {
    "close-due-delphi-rounds": {"task": "workshops.tasks.close_due_rounds", "schedule": 60.0},
    "fail-stale-jobs": {"task": "core.tasks.fail_stale_jobs", "schedule": JOB_SWEEP_SECONDS},
    # A worker's sign of life for /healthz: beat sends it through the broker, a worker records it.
    "worker-heartbeat": {"task": "core.tasks.worker_heartbeat", "schedule": JOB_HEARTBEAT_SECONDS},
    # Closed cycles whose retention period has ended lose their personal data (privacy/services.py).
    "erase-due-personal-data": {"task": "privacy.tasks.erase_due_personal_data", "schedule": 3600.0},
    # Delphi reminders before a round's deadline (workshops/delphi/reminders.py): each is claimed by
    # a unique row before it is sent, so overlapping beats or retries never send one twice.
    "send-delphi-reminders": {"task": "workshops.tasks.send_delphi_reminders", "schedule": 300.0},
}
# /healthz (core/health.py): each check's time limit in seconds. The worker counts as alive while
# its last heartbeat is younger than JOB_STALE_AFTER_SECONDS, the same rule as a job's.
HEALTHZ_TIMEOUT = env_float("HEALTHZ_TIMEOUT", 3.0)
# Celery keeps Django's log configuration (LOG_FORMAT) instead of installing its own handlers.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "cycles:dashboard"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Sign-in: passwords and single sign-on (django-allauth) -------------------------------------
# OIDC_PROVIDERS and SAML_PROVIDERS (JSON lists, or paths of JSON files; accounts/sso_config.py and
# the README say what each entry holds) add "Sign in with …" buttons to the login page. A first
# sign-in by SSO is matched to an account or a pending invitation by a verified email only
# (accounts/sso.py). PASSWORD_LOGIN=false leaves single sign-on the only way in.
from accounts.sso_config import socialaccount_providers  # noqa: E402

PASSWORD_LOGIN = env_bool("PASSWORD_LOGIN", True)
SOCIALACCOUNT_PROVIDERS = socialaccount_providers(env_str("OIDC_PROVIDERS"), env_str("SAML_PROVIDERS"))
if not PASSWORD_LOGIN and not any(p["APPS"] for p in SOCIALACCOUNT_PROVIDERS.values()):
    raise ImproperlyConfigured("PASSWORD_LOGIN=false needs OIDC_PROVIDERS or SAML_PROVIDERS: nobody could sign in")
INSTALLED_APPS += [
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
]
# After AuthenticationMiddleware (allauth's middleware reads request.user).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "allauth.account.middleware.AccountMiddleware",
)
# A cycle's single sign-on requirement (cycles.access) answers with a page holding the provider's button.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "accounts.middleware.SignInRequiredMiddleware",
)
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
ACCOUNT_ADAPTER = "accounts.sso.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.sso.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*"]
ACCOUNT_EMAIL_VERIFICATION = "none"  # the provider verified it (accounts/sso.py refuses otherwise)
ACCOUNT_EMAIL_NOTIFICATIONS = False
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # matching by email is accounts/sso.py's, verified only
SOCIALACCOUNT_LOGIN_ON_GET = False  # the login page's buttons POST (with a CSRF token)
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_REQUESTS_TIMEOUT = env_int("SSO_REQUESTS_TIMEOUT", 10)
# --- end of sign-in ------------------------------------------------------------------------------

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if env_str("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "foresight@localhost")

INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 14)
MAX_UPLOAD_BYTES = env_int("MAX_UPLOAD_BYTES", 2 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES + 512 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
# A framework release uploaded on the frameworks page (an O*NET text release zips to ~30 MB).
FRAMEWORK_UPLOAD_MAX_BYTES = env_int("FRAMEWORK_UPLOAD_MAX_BYTES", 200 * 1024 * 1024)

# Rate limits (django-ratelimit) need a shared cache in services mode; locmem is fine embedded.
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_VIEW = "accounts.views.rate_limited"
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.E003", "django_ratelimit.W001"]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
# STATIC_MANIFEST: `collectstatic` writes compressed copies (gzip, Brotli) under content-hashed,
# cache-busted names that WhiteNoise serves with a year's cache lifetime. It needs `collectstatic`
# first (a page naming a file the manifest lacks fails), so it is on where that always runs —
# `make services`, the Dockerfile, DEBUG=false — and off for `make run` (runserver --insecure
# serves the source folders) and the test suite, which render templates without collecting.
STATIC_MANIFEST = env_bool("STATIC_MANIFEST", not DEVELOPMENT)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "core.storage.StaticStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

MESSAGE_TAGS = {40: "danger"}

if not DEVELOPMENT:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_CONTENT_TYPE_NOSNIFF = True

# A stale form's CSRF refusal gets the product's 403 page, saying to reload, not Django's.
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"

# LOG_FORMAT=json: every log line is one JSON object (python-json-logger), for a log collector;
# `text` (the development default) is for a person reading a terminal. Requests (`foresight.request`:
# method, route, status, duration, user id, request id) and background work (`foresight.job`: each
# Celery task's start and end, each BackgroundJob's claim, finish and failure) log at INFO whatever
# LOG_LEVEL says; LOG_REQUESTS=false silences the request lines.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEVELOPMENT else "json")
if LOG_FORMAT not in {"text", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is not one of: text, json")
LOG_REQUESTS = env_bool("LOG_REQUESTS", True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A refused request (403) is the access policy working: one line with its reason, no traceback.
    "filters": {"one_line_refusals": {"()": "core.errors.OneLineRefusals"}},
    "formatters": {
        "text": {"format": "%(levelname)s %(name)s %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "loggers": {
        "django.request": {"filters": ["one_line_refusals"]},
        "foresight.request": {"level": "INFO" if LOG_REQUESTS else "WARNING"},
        "foresight.job": {"level": "INFO"},
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}
