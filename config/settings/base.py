"""Switchboard settings, driven by environment variables (django-environ).

Development defaults are safe to run locally; production differs only by environment
values (DEBUG off, a real SECRET_KEY, ALLOWED_HOSTS...). No code path exists only in production.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# The development key is only accepted while DEBUG is on; see the check below.
_DEV_SECRET_KEY = "django-insecure-switchboard-development-key-change-me"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == _DEV_SECRET_KEY:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_htmx",
    "axes",
    "config.apps.SwitchboardConfig",  # project-wide system checks (config.checks)
    "contacts",
    "agents",
    "crm",
    "reporting",
]

MIDDLEWARE = [
    # First: every request gets its id (X-Request-ID) and one access log line, whatever answers it.
    "config.logs.RequestIdMiddleware",
    # Read-your-writes for the read replicas: knows the client, marks it when it wrote (config.replicas).
    "config.replicas.ReplicaMiddleware",
    # Times every request and counts its statements for /metrics (config.metrics).
    "config.metrics.MetricsMiddleware",
    # The providers' inbound calls (/inbound/…) go from here to their view: nothing below is for them.
    "config.api_keys_path.InboundShortcutMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # config.api_keys_path.*: the browser's middleware, stepping aside for API-key requests (/api/ with a Bearer
    # key) and the providers' inbound calls (/inbound/…, authenticated by their URL's token), which need no session,
    # messages, htmx or static files; every other request runs it as before. CSRF stays as it is for all (cheap for
    # the csrf_exempt views; `check --deploy` looks for it by name).
    "config.api_keys_path.WhiteNoiseMiddleware",
    "config.api_keys_path.SessionMiddleware",
    # The browser's language (Accept-Language) until the signed-in user's preference says otherwise.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.api_keys_path.AuthenticationMiddleware",
    # Every request is an audit context: what it changes is on record with who and from where (config.audit); an
    # inbound call (/inbound/…) is nobody's, so it steps aside for those (config.api_keys_path).
    "config.api_keys_path.AuditMiddleware",
    # The user's own language and time zone (agents.preferences), once the user is known.
    "agents.preferences.UserPreferenceMiddleware",
    "config.api_keys_path.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.api_keys_path.HtmxMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into a 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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

# --- Database: PostgreSQL only (routing relies on its row locks). -------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/switchboard"),
}
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("Switchboard runs on PostgreSQL only; DATABASE_URL must be postgres://...")
# psycopg 3's connection pool: no new connection per request (a peer's biggest ingest cost).
_pool_size = env.int("DATABASE_POOL_MAX_SIZE", default=20)
if _pool_size > 0:
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool owns connection lifetime
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
        "max_size": _pool_size,
        "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
    }
# Read replicas (config.replicas): one URL or several, comma-separated; heavy reads (reports, timelines) go there.
DATABASE_REPLICAS: list[str] = []
for _number, _url in enumerate(u.strip() for u in env.str("DATABASE_REPLICA_URL", default="").split(",") if u.strip()):
    _alias = "replica" if _number == 0 else f"replica_{_number + 1}"
    DATABASES[_alias] = {
        **env.db_url_config(_url),
        "CONN_MAX_AGE": DATABASES["default"].get("CONN_MAX_AGE", 0),
        # a replica that is down must not hold a request for long: the primary answers instead
        "OPTIONS": {**DATABASES["default"].get("OPTIONS", {}), "connect_timeout": 2},
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_REPLICAS.append(_alias)
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]
DATABASE_REPLICA_MAX_LAG = env.float("DATABASE_REPLICA_MAX_LAG", default=5.0)
DATABASE_REPLICA_CHECK_SECONDS = env.float("DATABASE_REPLICA_CHECK_SECONDS", default=1.0)
DATABASE_REPLICA_STICKY_SECONDS = env.int("DATABASE_REPLICA_STICKY_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# Names this installation's keys in a shared Redis (cache, Channels groups, the beat lock): two installations on
# one Redis must set different values, or they share one beat and each other's cache.
SWITCHBOARD_INSTANCE = env.str("SWITCHBOARD_INSTANCE", default="switchboard")
# Data protection (crm.privacy): how long an erasure request waits before it runs (unless "immediately"), and how
# long an export's signed download link stays valid.
SWITCHBOARD_ERASURE_GRACE_HOURS = env.int("SWITCHBOARD_ERASURE_GRACE_HOURS", default=72)
SWITCHBOARD_EXPORT_LINK_HOURS = env.int("SWITCHBOARD_EXPORT_LINK_HOURS", default=24)
# Retention (crm.privacy): rows blanked per policy and kind in one transaction of the daily run.
SWITCHBOARD_RETENTION_BATCH_SIZE = env.int("SWITCHBOARD_RETENTION_BATCH_SIZE", default=500)

CACHES = {
    "default": {
        "BACKEND": "config.redis_cache.RedisCache",  # Django's, one redis client per pool (not one per call)
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": SWITCHBOARD_INSTANCE,
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # not a rule: tells the account's address after every password change (docs/security.md)
    {"NAME": "agents.accounts.PasswordChangeNotice"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/console/"

# English, German and Spanish (locale/<lang>/LC_MESSAGES); a user picks theirs under "My preferences", a customer's
# `language` chooses their surveys and e-mails. README "Languages and time zones".
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # English keeps ISO dates and a 24-hour clock
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# Uploaded and received files (message attachments) through the default storage; under ./var/ by default.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True  # serve straight from app static dirs when collectstatic has not run

# --- Email ---------------------------------------------------------------------------------------
# EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587 ; the console backend by default.
# Django 6.1's MAILERS replaces the EMAIL_* settings.
_email = env.email_url("EMAIL_URL", default="consolemail://")
_mailer_options = {}
if _email["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend":
    _mailer_options = {
        "host": _email.get("EMAIL_HOST") or "localhost",
        "port": _email.get("EMAIL_PORT") or 25,
        "username": _email.get("EMAIL_HOST_USER") or "",
        "password": _email.get("EMAIL_HOST_PASSWORD") or "",
        "use_tls": bool(_email.get("EMAIL_USE_TLS")),
        "use_ssl": bool(_email.get("EMAIL_USE_SSL")),
        "timeout": env.int("EMAIL_TIMEOUT", default=10),
    }
elif _email["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
    # filemail:// : each message written to a file (staging, tests with a real worker)
    # (EMAIL_FILE_PATH names the directory: django-environ reads the URL's path as relative)
    _mailer_options = {"file_path": env.str("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail"))}
MAILERS = {"default": {"BACKEND": _email["EMAIL_BACKEND"], "OPTIONS": _mailer_options}}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Switchboard <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Security: strict whenever DEBUG is off --------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the console's htmx reads the token from the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- django-axes: throttle login brute force, keyed on the real client address --------------------
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)  # hours
# Per address *and* username: agents of one call center share their office's address, so locking the
# address alone would lock the whole floor out after one agent's typos.
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_RESET_ON_SUCCESS = True
# How many reverse proxies (load balancer, nginx...) stand in front of the web process; 0 = clients
# connect directly and REMOTE_ADDR is theirs. With N, the client is the N-th X-Forwarded-For entry from
# the right (see config.client_ip). axes' own AXES_IPWARE_* settings need django-ipware, which we do not
# install, so axes is given this callable instead.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"

# A URL in a log line loses its user:password@ and its query values (config.outbound): on the console handler
# for every logger, and on httpx's own logger, whose INFO line names every URL it calls (a webhook's included).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_urls": {"()": "config.outbound.RedactUrlsFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            # LOG_FORMAT=json: one JSON object per line (time, level, logger, request id, actor, path, status...)
            "formatter": env.str("LOG_FORMAT", default="plain"),
            "filters": ["redact_urls"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}, "httpx": {"filters": ["redact_urls"]}},
}

# Third-party blocks, each in its own small module.
from .celery import *  # noqa: E402,F403
from .channels import *  # noqa: E402,F403
from .drf import *  # noqa: E402,F403
from .switchboard import *  # noqa: E402,F403

# DRF's plain throttles key on the whole X-Forwarded-For header without this; ours use config.client_ip
# (config.api.throttling), and this keeps any plain one close to the same rule.
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT  # noqa: F405
