"""Django settings, read from the environment.

Environment variables:
    DATABASE_URL   database URL (default: SQLite file ``var/xiaokang.sqlite3`` under XIAOKANG_HOME)
    XIAOKANG_HOME  folder for the embedded database and collected static files (default: ./var)
    SECRET_KEY     required when DEBUG is off
    DEBUG          "1"/"true" to enable debug mode (default off)
    ALLOWED_HOSTS  comma-separated host names (default "127.0.0.1,localhost")
    XIAOKANG_IMPORT_RETENTION_DAYS  days the stored import files are kept after their batch ended (default 90)
    XIAOKANG_CACHE_URL  Redis URL for the shared cache and sessions (default: files under XIAOKANG_HOME/cache)
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
# The folder of the embedded database, caches, collected static files and import files. Default: ``var/``
# of the source checkout the package runs from (so ``xiaokang`` finds the same database from any working
# directory), else ``var/`` of the working directory (an installed package).
_CHECKOUT = BASE_DIR.parent.parent
HOME = Path(os.environ.get(
    "XIAOKANG_HOME", (_CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else Path.cwd()) / "var")).resolve()


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int, minimum: int) -> int:
    """A whole-number setting from the environment; ImproperlyConfigured (naming it) when not one or too small."""
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number (at least {minimum}), got {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


DEBUG = _env_bool("DEBUG", False)
# Without SECRET_KEY a development key is used so that a fresh machine works;
# `manage.py check --deploy` reports it, and production must set SECRET_KEY.
SECRET_KEY = os.environ.get("SECRET_KEY") or "django-insecure-development-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h.strip()]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "xiaokang.core",
    "xiaokang.accounts",
    "xiaokang.areas",
    "xiaokang.registry",
    "xiaokang.policy",
    "xiaokang.exits",
    "xiaokang.workflow",
    "xiaokang.monitoring",
    "xiaokang.imports",
    "xiaokang.quality",
    "xiaokang.supervision",
    "xiaokang.dashboards",
    "xiaokang.demo",
    "simple_history",
    "axes",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # ID and mobile numbers masked in every admin answer (after every other middleware's response work)
    "xiaokang.core.admin.AdminMaskingMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "xiaokang.core.cache.DataVersionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "xiaokang.accounts.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "xiaokang.core.audit.AuditChannelMiddleware",
    # Login throttling (django-axes): must be last.
    "axes.middleware.AxesMiddleware",
]

# Login throttling: after 5 failed logins for one user name from one IP address, that pair is locked
# for 30 minutes (also with the right password). The axes backend must come first.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "xiaokang.accounts.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=30)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"

ROOT_URLCONF = "xiaokang.urls"
WSGI_APPLICATION = "xiaokang.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "xiaokang.core.views.assets_context",
            ],
        },
    },
]

# Cached summaries (dashboard figures, list counts, rendered list pages; xiaokang.core.cache) and the
# sessions, shared by the server's processes: files under XIAOKANG_HOME/cache by default, so no cache server
# is needed on an intranet machine; XIAOKANG_CACHE_URL=redis://host:6379/N puts them in Redis instead
# (Django's RedisCache; an atomic "add" for the compute-once lock, no file-system work per request).
CACHE_URL = os.environ.get("XIAOKANG_CACHE_URL", "").strip()
if CACHE_URL:
    if not CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"XIAOKANG_CACHE_URL must be a Redis URL (redis://host:port/db, rediss://… or unix://…), got {CACHE_URL!r}")
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "TIMEOUT": 600,
            "KEY_PREFIX": "xiaokang",
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(HOME / "cache"),
            "TIMEOUT": 600,
            "OPTIONS": {"MAX_ENTRIES": 20000},
        }
    }

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{HOME / 'xiaokang.sqlite3'}",
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not _env_bool("XIAOKANG_PLAIN_STATIC", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

# Import files (uploads and error workbooks under XIAOKANG_IMPORT_DIR, default XIAOKANG_HOME/imports) hold full
# ID and phone numbers: `xiaokang imports purge` removes those of batches that ended (applied, failed, dry
# run) more than this many days ago (xiaokang.imports.retention; at least 1).
XIAOKANG_IMPORT_RETENTION_DAYS = _env_int("XIAOKANG_IMPORT_RETENTION_DAYS", 90, 1)
# An upload larger than FILE_UPLOAD_MAX_MEMORY_SIZE is spooled to a file while it arrives: under XIAOKANG_HOME,
# not the system's temporary folder, since it holds full ID numbers; one left by a worker killed mid-upload
# is removed by the purge a day later.
FILE_UPLOAD_TEMP_DIR = str(HOME / "imports" / ".incoming")
try:
    Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
except OSError:  # a read-only installation: Django then reports the folder when an upload needs it
    pass

SESSION_COOKIE_AGE = 8 * 3600
# Signed out after this long without a request (xiaokang.accounts.middleware); the last-request time is
# written to the session at most once a minute.
SESSION_IDLE_SECONDS = _env_int("XIAOKANG_SESSION_IDLE_MINUTES", 30, 1) * 60
SESSION_IDLE_WRITE_SECONDS = 60
CSRF_FAILURE_VIEW = "xiaokang.core.views.csrf_failure"  # JSON on the API, the Chinese 403 page elsewhere
# Sessions are read from the shared cache (CACHES above) and written through to the database: one query
# less on every request; a session evicted from the cache is read back from the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
# Behind HTTPS (XIAOKANG_HTTPS=1): secure cookies, redirect to HTTPS, HSTS; `check --deploy` is then clean.
HTTPS = _env_bool("XIAOKANG_HTTPS", False)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = False
# Intranet host names cannot be on the browsers' public HSTS preload list.
SILENCED_SYSTEM_CHECKS = ["security.W021"]
if HTTPS and _env_bool("XIAOKANG_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# ID numbers and mobile numbers are masked in every log record (xiaokang.core.logmask) on every handler:
# the root console, and Django's own handlers (redefined here with the filter added).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_personal": {"()": "xiaokang.core.logmask.MaskPersonalDataFilter"},
        "no_traceback": {"()": "xiaokang.core.logmask.NoTracebackFilter"},
        "require_debug_true": {"()": "django.utils.log.RequireDebugTrue"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {
        "django.server": {"()": "django.utils.log.ServerFormatter", "format": "[{server_time}] {message}",
                          "style": "{"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["mask_personal"]},
        "django_console": {"level": "INFO", "class": "logging.StreamHandler",
                           "filters": ["require_debug_true", "mask_personal"]},
        "django.server": {"level": "INFO", "class": "logging.StreamHandler", "formatter": "django.server",
                          "filters": ["mask_personal"]},
        "mail_admins": {"level": "ERROR", "class": "django.utils.log.AdminEmailHandler",
                        "filters": ["require_debug_false", "mask_personal"]},
        # Errors (a 500 answer's traceback) on standard error in production too — the server's log — not
        # only to the administrators' mail, which an intranet server usually cannot send.
        "error_console": {"level": "ERROR", "class": "logging.StreamHandler",
                          "filters": ["require_debug_false", "mask_personal"]},
        "security_console": {"class": "logging.StreamHandler", "filters": ["no_traceback", "mask_personal"]},
    },
    "loggers": {
        "django": {"handlers": ["django_console", "error_console", "mail_admins"], "level": "INFO"},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # 403/404 answers are expected (scoping, roles) and are in the access log: no traceback per refusal.
        "django.request": {"handlers": ["django_console", "error_console", "mail_admins"], "level": "ERROR",
                           "propagate": False},
        # a refused request (a lookup the admin does not offer, a bad host): one line, no traceback
        "django.security": {"handlers": ["security_console"], "level": "WARNING", "propagate": False},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
