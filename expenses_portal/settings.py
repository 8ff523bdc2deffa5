"""Settings for the Expenses Portal: one module, every value from the environment.

Production differs from development only by environment values (see .env.example). Values are
read strictly: a malformed one stops start-up with ImproperlyConfigured naming the variable,
rather than silently falling back to a default.
"""

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A .env beside manage.py is read if present; real environment variables win over it.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    """django-environ maps any unknown word to False; a typo must not switch DEBUG off or on."""
    raw = env.str(name, default="").strip().lower()
    if raw == "":
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of true/false/1/0.")


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = env.str(name, default="").strip()
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}.")
    return value


def env_seconds_list(name: str, default: list[int]) -> list[int]:
    raw = env.str(name, default="").strip()
    if raw == "":
        return default
    try:
        values = [int(part) for part in raw.split(",")]
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={raw!r} must be comma-separated whole seconds."
        ) from None
    if any(v < 0 for v in values):
        raise ImproperlyConfigured(f"{name}={raw!r} must not contain negative delays.")
    return values


def env_url(name: str, default: str, schemes: tuple[str, ...]) -> str:
    raw = env.str(name, default="").strip() or default  # set-but-empty means "use the default"
    parts = urlsplit(raw)
    if parts.scheme not in schemes or (parts.scheme in ("http", "https") and not parts.netloc):
        raise ImproperlyConfigured(
            f"{name} must be a URL starting with one of {', '.join(s + '://' for s in schemes)}."
        )
    return raw


DEBUG = env_bool("DJANGO_DEBUG", default=True)

DEV_SECRET_KEY = "django-insecure-development-only-not-for-production"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",  # sign-in throttling (see AXES_* below)
    "expenses_portal",  # for its system checks (expenses_portal/checks.py)
    "integrations.companies",
    "integrations.ledger",
    "integrations.transactions",
    "integrations.syncs",
    "integrations.webhooks",
    "integrations.demo",
    "integrations.portal",  # the customer's pages
    "integrations.staff",  # sync health for staff, /staff/
    "ninja",  # serves the partner API's docs assets locally (no CDN)
    "integrations.api",  # the partner API, /api/v1/
]

# The embedded Codat sandbox is its own app with its own tables; it is only installed (and so
# only migrated and mounted) when enabled. It defaults to on in development.
CODAT_SANDBOX_ENABLED = env_bool("CODAT_SANDBOX_ENABLED", default=DEBUG)
if CODAT_SANDBOX_ENABLED:
    INSTALLED_APPS.append("codat_sandbox")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "expenses_portal.urls"
WSGI_APPLICATION = "expenses_portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "integrations.portal.context_processors.companies",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# SQLite under var/ by default so a fresh machine needs nothing; PostgreSQL when DATABASE_URL says.
VAR_DIR.mkdir(exist_ok=True)
_db_url = env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
# Only the two databases we test on; django-environ would pass an unknown scheme through as an
# engine name and fail later with a less helpful import error.
if urlsplit(_db_url).scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
    raise ImproperlyConfigured(
        "DATABASE_URL is not a usable database URL: use sqlite:///path or postgres://user@host/db."
    )
DATABASES = {"default": environ.Env.db_url_config(_db_url)}

# Connections are kept between requests (per thread): opening SQLite's file (and its WAL) per
# request cost about 2 ms, a PostgreSQL connection more.
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the Celery worker writes; IMMEDIATE transactions take
    # the write lock up front so two writers queue (for `timeout` seconds) instead of failing.
    # So only writes open a transaction: reads run in autocommit and never wait for that lock
    # (the sandbox gateway runs GET handlers outside atomic(); the portal's reads do not use it).
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and Celery ---------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="").strip()
if REDIS_URL:
    env_url("REDIS_URL", REDIS_URL, ("redis", "rediss", "unix"))
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    # Shared between processes (web and worker), unlike locmem, and needs no server.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

# With no broker configured, kombu's filesystem transport passes messages through files under
# var/celery so `make run` needs no Redis. Redis (or RabbitMQ) when CELERY_BROKER_URL/REDIS_URL say.
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    REDIS_URL or "filesystem://",
    ("filesystem", "redis", "rediss", "amqp", "memory"),
)
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery" / "queue"
    _processed_dir = VAR_DIR / "celery" / "processed"
    # Broadcast (pidbox) messages would otherwise go to ./control in whatever directory the
    # worker was started from.
    _control_dir = VAR_DIR / "celery" / "control"
    # Messages are written here and renamed into the queue whole (expenses_portal/broker.py).
    _staging_dir = VAR_DIR / "celery" / "staging"
    for _d in (_queue_dir, _processed_dir, _control_dir, _staging_dir):
        _d.mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_queue_dir),
        "data_folder_out": str(_queue_dir),
        "processed_folder": str(_processed_dir),
        "control_folder": str(_control_dir),
        "staging_folder": str(_staging_dir),
        "store_processed": False,
    }
# Work state lives in our own tables (sync rows, push operations); task results are not kept.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves the message to be redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Deployments (and the crash tests' worker processes) sharing one broker keep apart by queue.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {
    "heartbeat": {"task": "expenses_portal.heartbeat", "schedule": 30.0},
    # Sweeps stalled ledger reads and opens the due ones, a bounded batch each time.
    "ledger-refresh": {
        "task": "integrations.ledger.tasks.refresh_due_ledgers",
        "schedule": 300.0,
    },
    # Webhook events whose task was lost or whose worker died (integrations.syncs.events).
    "webhooks-sweep": {"task": "webhooks.sweep_events", "schedule": 60.0},
    # Each company's automatic sync (its own interval, on the company): pre-flight then push.
    "automatic-sync": {"task": "syncs.run_automatic_syncs", "schedule": 60.0},
    # Open syncs polled when their webhook is late, interrupted sends resumed, receipts
    # uploaded, and stuck or lost work handed back or given up (integrations.syncs.services).
    "sync-poller": {"task": "syncs.poll_syncs", "schedule": 30.0},
    # Sync health's summaries (staff pages) recomputed where they drifted from the rows.
    "sync-health-repair": {"task": "syncs.repair_health", "schedule": 300.0},
}
# Simulated card spend for the demo companies every minute (integrations/demo/simulator.py),
# so `make run` shows spend reaching the sandbox's ledger on its own. Only ever against the
# sandbox: on by default when both DEBUG and the sandbox are.
SPEND_SIMULATOR_ENABLED = env_bool(
    "SPEND_SIMULATOR_ENABLED", default=DEBUG and CODAT_SANDBOX_ENABLED
)
if SPEND_SIMULATOR_ENABLED:
    CELERY_BEAT_SCHEDULE["spend-simulator"] = {
        "task": "integrations.demo.tasks.simulate_spend",
        "schedule": 60.0,
    }
CELERY_TIMEZONE = "UTC"
# How old a company's cached ledger may get before the schedule reads it again, and how long a
# read may wait on Codat before it is given up (the next scheduled one tries again).
LEDGER_REFRESH_INTERVAL_HOURS = env_int("LEDGER_REFRESH_INTERVAL_HOURS", default=24, minimum=1)
LEDGER_READ_TIMEOUT_MINUTES = env_int("LEDGER_READ_TIMEOUT_MINUTES", default=60, minimum=1)

# --- Auth, i18n, static -------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Axes first: it refuses a locked-out username+address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username
# from one address, that pair is refused for the cool-off; a success clears the count. Keyed on
# the pair so a stranger guessing cannot lock a colleague out from the office's address.
# Behind a proxy the address is the proxy's (REMOTE_ADDR), so the lock then acts per username.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", default=15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Our page (429): how long the pause lasts, and the way out through a password reset.
AXES_LOCKOUT_CALLABLE = "integrations.portal.views.auth.locked_out"
# Every sign-in would otherwise add a row to axes' access log; failures are what we need.
AXES_DISABLE_ACCESS_LOG = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Where people reach the portal: the links in invitation and password-reset emails start here.
PORTAL_BASE_URL = env_url("PORTAL_BASE_URL", "http://127.0.0.1:8000", ("http", "https")).rstrip("/")
# Development prints email (invitations, password resets) to the console; production names SMTP.
# (Set but empty, as in .env.example, means the default.)
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="").strip() or (
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend"
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Expenses Portal <portal@localhost>")
# The SMTP server, when EMAIL_BACKEND is SMTP (production's default).
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env_int("EMAIL_PORT", default=25, minimum=1)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", default=10, minimum=1)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))

# --- Security ------------------------------------------------------------------------------------
# Secure by default whenever DEBUG is off; each can still be tuned by environment.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if not DEBUG else None
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

from django.utils.csp import CSP  # noqa: E402  (needs nothing from above; kept with its use)

# Everything is served from our own origin: htmx is vendored, no CDN, no inline scripts.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Partner API ---------------------------------------------------------------------------------
# A key that works out of the box in development only (documented in .env.example); real keys are
# created in the admin. Ignored unless DEBUG, and `check --deploy` refuses it (partner_api.E001).
DEV_PARTNER_API_KEY = "epk_dev_expenses-portal-development-key"
PARTNER_API_DEV_KEY = env.str("PARTNER_API_DEV_KEY", default=DEV_PARTNER_API_KEY if DEBUG else "")

# --- Codat ---------------------------------------------------------------------------------------
# The portal talks to Codat (or the embedded sandbox) over HTTP only. The client refuses any base
# URL other than real Codat or the configured sandbox, so a typo cannot send the key elsewhere.
CODAT_PRODUCTION_URL = "https://api.codat.io"
CODAT_SANDBOX_URL = env_url(
    "CODAT_SANDBOX_URL", "http://127.0.0.1:8000/codat-sandbox", ("http", "https")
).rstrip("/")
CODAT_BASE_URL = env_url("CODAT_BASE_URL", CODAT_SANDBOX_URL, ("http", "https")).rstrip("/")

# Origins a connection's Link URL may send the person to (the connect page redirects there after
# a form POST, and CSP's form-action must allow that redirect). Empty: Codat's own Link hosts
# with real Codat, the sandbox's origin with the sandbox (integrations/portal/links.py).
CODAT_LINK_ORIGINS = env.list("CODAT_LINK_ORIGINS", default=[])
if CODAT_BASE_URL not in (CODAT_PRODUCTION_URL, CODAT_SANDBOX_URL):
    raise ImproperlyConfigured(
        f"CODAT_BASE_URL must be {CODAT_PRODUCTION_URL} or CODAT_SANDBOX_URL ({CODAT_SANDBOX_URL})."
    )
DEV_CODAT_API_KEY = "sandbox-dev-key"
CODAT_API_KEY = env.str("CODAT_API_KEY", default=DEV_CODAT_API_KEY if DEBUG else "")
if CODAT_BASE_URL == CODAT_PRODUCTION_URL and CODAT_API_KEY in ("", DEV_CODAT_API_KEY):
    raise ImproperlyConfigured("CODAT_API_KEY must be set to a real key when using real Codat.")
# A Standard Webhooks secret (whsec_ + base64). The default is for the sandbox in development.
DEV_WEBHOOK_SECRET = "whsec_c2FuZGJveC1kZXZlbG9wbWVudC13ZWJob29rLXNlY3JldA=="
CODAT_WEBHOOK_SECRET = env.str("CODAT_WEBHOOK_SECRET", default=DEV_WEBHOOK_SECRET if DEBUG else "")
# During a secret rotation Codat signs with both; list the previous secret here until it is gone.
CODAT_WEBHOOK_PREVIOUS_SECRETS = env.list("CODAT_WEBHOOK_PREVIOUS_SECRETS", default=[])
CODAT_WEBHOOK_SECRETS = [s for s in [CODAT_WEBHOOK_SECRET, *CODAT_WEBHOOK_PREVIOUS_SECRETS] if s]
if any(not secret.startswith("whsec_") for secret in CODAT_WEBHOOK_SECRETS):
    raise ImproperlyConfigured(
        "CODAT_WEBHOOK_SECRET and CODAT_WEBHOOK_PREVIOUS_SECRETS must be Standard Webhooks "
        "secrets (whsec_...)."
    )
CODAT_TIMEOUT_SECONDS = env_int("CODAT_TIMEOUT_SECONDS", default=30, minimum=1)

# The sync pipeline: how long webhooks get to close a sync before the poller looks (then
# backing off, doubling up to the maximum), and the backoff of a write to resend or check.
SYNC_POLL_DELAY_SECONDS = env_int("SYNC_POLL_DELAY_SECONDS", default=60)
SYNC_POLL_MAX_SECONDS = env_int("SYNC_POLL_MAX_SECONDS", default=900, minimum=1)
SYNC_RETRY_BASE_SECONDS = env_int("SYNC_RETRY_BASE_SECONDS", default=5)
SYNC_RETRY_MAX_SECONDS = env_int("SYNC_RETRY_MAX_SECONDS", default=300, minimum=1)
# After this long a worker's claim on a send, a poll or an upload is taken to be a dead
# worker's; it must outlast the slowest Codat request (CODAT_TIMEOUT_SECONDS).
SYNC_CLAIM_LEASE_SECONDS = env_int("SYNC_CLAIM_LEASE_SECONDS", default=300, minimum=1)
# Sends of one sync (or syncs carrying one transaction) after which the sweeper gives up and
# fails the transactions with the last error; with the backoff above, about an hour and a half.
SYNC_MAX_ATTEMPTS = env_int("SYNC_MAX_ATTEMPTS", default=20, minimum=1)
# Codat's limits, kept by integrations.syncs.limits across every process (Redis when REDIS_URL
# is set, the database otherwise). Codat allows 10 requests in flight per company.
CODAT_CONCURRENCY_PER_COMPANY = env_int("CODAT_CONCURRENCY_PER_COMPANY", default=10, minimum=1)
# A slot held longer than this is taken to belong to a dead worker and is handed out again.
CODAT_SLOT_LEASE_SECONDS = env_int(
    "CODAT_SLOT_LEASE_SECONDS", default=max(120, 2 * CODAT_TIMEOUT_SECONDS), minimum=1
)
# How long a request waits for a free slot before giving up with a retryable error.
CODAT_SLOT_WAIT_SECONDS = env_int("CODAT_SLOT_WAIT_SECONDS", default=5)
# The part of the daily quota background work leaves for people: a count ("500") or a share
# of X-Rate-Limit-Limit ("5%").
CODAT_QUOTA_RESERVE = env.str("CODAT_QUOTA_RESERVE", default="5%").strip()
if not re.fullmatch(r"\d+%?", CODAT_QUOTA_RESERVE) or (
    CODAT_QUOTA_RESERVE.endswith("%") and int(CODAT_QUOTA_RESERVE[:-1]) > 100
):
    raise ImproperlyConfigured(
        f"CODAT_QUOTA_RESERVE={CODAT_QUOTA_RESERVE!r} must be a count (500) or a percentage (5%)."
    )

# Webhook events not finished this long after being queued or claimed are sent again by the
# sweeper; an event is marked failed after this many attempts.
WEBHOOK_SWEEP_AFTER_SECONDS = env_int("WEBHOOK_SWEEP_AFTER_SECONDS", default=900, minimum=60)
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", default=8, minimum=1)
# Transactions queued longer than this had their push task lost (a worker killed before it
# acknowledged, a broker restart); the poller starts their company's push again.
SYNC_STALE_QUEUE_SECONDS = env_int("SYNC_STALE_QUEUE_SECONDS", default=300, minimum=1)

# The sandbox's own settings (only read by codat_sandbox; the portal never imports them).
CODAT_SANDBOX_API_KEYS = env.list("CODAT_SANDBOX_API_KEYS", default=[DEV_CODAT_API_KEY])
CODAT_SANDBOX_WEBHOOK_URL = env.str(
    "CODAT_SANDBOX_WEBHOOK_URL", default="http://127.0.0.1:8000/webhooks/codat/"
)
CODAT_SANDBOX_WEBHOOK_SECRET = env.str("CODAT_SANDBOX_WEBHOOK_SECRET", default=DEV_WEBHOOK_SECRET)
CODAT_SANDBOX_REDIRECT_URL = env.str(
    "CODAT_SANDBOX_REDIRECT_URL",
    default="http://127.0.0.1:8000/link/return/?companyId={companyId}&connectionId={connectionId}"
    "&statusCode={statusCode}&errorMessage={errorMessage}&platform={platform}",
)
CODAT_SANDBOX_DAILY_QUOTA = env_int("CODAT_SANDBOX_DAILY_QUOTA", default=100000, minimum=1)
CODAT_SANDBOX_CONCURRENCY = env_int("CODAT_SANDBOX_CONCURRENCY", default=10, minimum=1)
# Syncs, push operations and webhook retries move on in a daemon thread of the web process;
# reading a sync's status also moves it on, so switching the thread off loses nothing.
CODAT_SANDBOX_BACKGROUND = env_bool("CODAT_SANDBOX_BACKGROUND", default=True)
CODAT_SANDBOX_SYNC_DELAY = env_int("CODAT_SANDBOX_SYNC_DELAY_SECONDS", default=1)
# Codat retries for about 28 hours; the sandbox keeps the shape of that schedule, shortened.
CODAT_SANDBOX_WEBHOOK_RETRY_SCHEDULE = env_seconds_list(
    "CODAT_SANDBOX_WEBHOOK_RETRY_SCHEDULE", default=[0, 5, 30, 120, 600]
)

# --- Logging -------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
}
