"""Settings, all from the environment; the defaults are the embedded single-machine setup."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from caremgr.env import env_bool, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    # A per-checkout key so that a fresh `make run` works; production sets SECRET_KEY.
    _key_file = BASE_DIR / ".secret_key"
    if not _key_file.exists():
        import secrets

        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
# Earlier keys: sessions signed with them stay valid, credentials encrypted with them readable.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CAREMGR_PUBLIC_URL = env_str("CAREMGR_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [CAREMGR_PUBLIC_URL])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "sentiment",
    "security",
    "inbox",
    "cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "security.headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "caremgr.urls"
ASGI_APPLICATION = "caremgr.asgi.application"
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
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        # Connections stay open between requests: a new one costs milliseconds (on SQLite
        # its pragmas, schema read, and the WAL checkpoint when the last one closes);
        # health checks drop one the server has closed.
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers work while the intake writes; IMMEDIATE avoids lock upgrades failing.
    # A writer waits up to SQLITE_BUSY_SECONDS for the lock, then the webhook answers 503.
    _busy = env_int("SQLITE_BUSY_SECONDS", 20)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": _busy,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            f"PRAGMA busy_timeout={_busy * 1000};"
        ),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A server that hangs instead of refusing must not hang every request with it: after
    # DATABASE_CONNECT_TIMEOUT seconds the webhook answers 503 and the platform retries.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env_int("DATABASE_CONNECT_TIMEOUT", 5)
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # channels_redis's layer, with a receive that always ends when its socket closes
            "BACKEND": "caremgr.channel_layer.RedisChannelLayer",
            "CONFIG": {
                # A socket's receive is a blocking pop that Redis answers after 5 s when
                # nothing came; redis-py 8 also gives up reading after 5 s by default, so
                # under load the client won the race, the consumer died and the browser's
                # socket closed (1011). The read waits longer than the pop now, and a
                # Redis that stops answering is still noticed.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 30}],
                "capacity": 1500,
                "expiry": 30,
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # one pool per process, not a new connection per request (caremgr.redis_pool)
            "OPTIONS": {
                "pool_class": "caremgr.redis_pool.SharedConnectionPool",
                # A cache call runs on the thread the requests' database work shares: a
                # Redis that stops answering must fail it soon, not hold that thread.
                "socket_timeout": 5,
                "socket_connect_timeout": 2,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work: inline after commit by default, Celery on Redis when REDIS_URL is set.
CAREMGR_TASKS_INLINE = env_bool("CAREMGR_TASKS_INLINE", not REDIS_URL)
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = CAREMGR_TASKS_INLINE
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 4
CELERY_TASK_IGNORE_RESULT = True
# Tasks keep their database connections as requests do (caremgr.celery); the Django
# fixup's own closing after this many tasks is put out of reach.
CELERY_DB_REUSE_MAX = 10**9
CELERY_BEAT_SCHEDULE = {
    "sla-monitor": {"task": "cases.tasks.sla_monitor_tick", "schedule": 15.0},
    "waiting-priority": {"task": "cases.tasks.waiting_priority_tick", "schedule": 15.0},
    "outbox-drain": {"task": "inbox.tasks.drain_outbox", "schedule": 10.0},
    "redeliver-stale": {"task": "inbox.tasks.redeliver_stale", "schedule": 60.0},
    # Wakes the intake queue should a drain have died holding its flag.
    "intake-drain": {"task": "inbox.tasks.drain_intake", "schedule": 5.0},
}
# Deliveries a worker takes from the intake queue and files in one transaction.
CAREMGR_INTAKE_BATCH = env_int("CAREMGR_INTAKE_BATCH", 100)

# The one seam between inbox and cases: a stored delivery is handed to this function.
CAREMGR_DELIVERY_HANDLER = "cases.intake.process_delivery"
# ...and a batch of parsed messages (bulk import) to this one.
CAREMGR_BATCH_HANDLER = "cases.intake.intake_messages"
# ...with what an import's scoring workers also work out for each text (urgency words), and
# where the filing finds it.
CAREMGR_IMPORT_TEXT_AHEAD = ("cases.priority.urgency_words", "cases.priority.words_found_ahead")
# ...and many stored deliveries at once (a worker draining the intake queue) to this one.
CAREMGR_DELIVERIES_HANDLER = "cases.intake_batch.process_deliveries"
# ...and the outbox reports a reply's sending status (sent, failed) to this one.
CAREMGR_SEND_STATUS_HANDLER = "cases.send_status.send_status_changed"
CAREMGR_MAX_WEBHOOK_BYTES = env_int("CAREMGR_MAX_WEBHOOK_BYTES", 5 * 1024 * 1024)
# How long a process keeps a webhook account it read (inbox.account_cache).
CAREMGR_ACCOUNT_CACHE_SECONDS = env_int("CAREMGR_ACCOUNT_CACHE_SECONDS", 5)
DATA_UPLOAD_MAX_MEMORY_SIZE = CAREMGR_MAX_WEBHOOK_BYTES + 1024
# Outbound platform APIs; tests and self-hosted gateways point these elsewhere.
CAREMGR_API_BASE = {
    "meta": env_str("CAREMGR_META_API_BASE", "https://graph.facebook.com/v21.0"),
    "x": env_str("CAREMGR_X_API_BASE", "https://api.x.com/2"),
    "telegram": env_str("CAREMGR_TELEGRAM_API_BASE", "https://api.telegram.org"),
    "generic": env_str("CAREMGR_GENERIC_API_BASE", ""),
}

# Counts failed sign-ins per username and address (security.login_limit).
AUTHENTICATION_BACKENDS = ["security.login_limit.RateLimitedModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS: list = []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an anonymous request then gets 401 with WWW-Authenticate, not 403.
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "caremgr API",
    "DESCRIPTION": "Cases, messages, contacts and SLA reports of caremgr.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs page's assets are served from the package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cases.api.schema.document_refusals",
    ],
    # A case's status and a message's sending status are both `status`: name them apart.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.Status",
        "SendStatusEnum": "inbox.models.SendStatus",
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A working day rather than Django's two weeks.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
CSRF_COOKIE_SAMESITE = "Lax"
# Pages read the token from the form field, so scripts never need the cookie.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# TLS: on when the public URL is https (or CAREMGR_TLS says so). Then plain HTTP is
# redirected, browsers are told to come back over HTTPS only (HSTS) and cookies never
# travel unencrypted. Behind a proxy that ends TLS, the server must learn the scheme:
# daphne --proxy-headers does, or SECURE_PROXY_SSL_HEADER=X-Forwarded-Proto,https.
CAREMGR_TLS = env_bool("CAREMGR_TLS", CAREMGR_PUBLIC_URL.startswith("https://"))
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", CAREMGR_TLS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600 if CAREMGR_TLS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", CAREMGR_TLS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", CAREMGR_TLS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", CAREMGR_TLS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", CAREMGR_TLS)
_proxy_ssl_header = env_list("SECURE_PROXY_SSL_HEADER", [])
if _proxy_ssl_header:
    if len(_proxy_ssl_header) != 2:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must be HEADER,VALUE")
    _header = _proxy_ssl_header[0].upper().replace("-", "_").removeprefix("HTTP_")
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _header, _proxy_ssl_header[1])

# Content-Security-Policy of every response (security.headers); `off` leaves it out.
_csp = env_str(
    "CAREMGR_CSP",
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
)
CAREMGR_CSP = "" if _csp == "off" else _csp

# Credentials at rest (security.encryption): Fernet keys, the first encrypts, all decrypt.
# Empty: a key derived from SECRET_KEY.
CAREMGR_SECRET_KEYS = env_list("CAREMGR_SECRET_KEYS", [])

# Rate limits in the cache (shared through Redis when REDIS_URL is set), as COUNT/SECONDS or
# off; CAREMGR_RATE_LIMITS=false switches all of them off (benchmarks). Webhooks count per
# account and only signed deliveries, so forged requests cannot use up a platform's budget;
# over it a platform gets 429 with Retry-After and delivers again later.
CAREMGR_RATE_LIMITS = env_bool("CAREMGR_RATE_LIMITS", True)
CAREMGR_WEBHOOK_RATE_LIMIT = env_rate("CAREMGR_WEBHOOK_RATE_LIMIT", "30000/60")
CAREMGR_LOGIN_RATE_LIMIT = env_rate("CAREMGR_LOGIN_RATE_LIMIT", "5/900")

# Seconds between hand-backs of freed C-heap memory to the system (caremgr.heap_release) by
# `manage.py serve`; 0 is off.
CAREMGR_HEAP_RELEASE_SECONDS = env_int("CAREMGR_HEAP_RELEASE_SECONDS", 30)
# Seconds between memory-growth reports of `manage.py serve` (caremgr.memory_watch); 0 is off.
CAREMGR_MEMORY_WATCH_SECONDS = env_int("CAREMGR_MEMORY_WATCH_SECONDS", 0)
# Frames of each traced allocation; 0 reports memory by owner and object counts, untraced.
CAREMGR_MEMORY_WATCH_FRAMES = env_int("CAREMGR_MEMORY_WATCH_FRAMES", 4)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.channels.server": {"level": "WARNING"},
        # Request lines of outbound API calls can carry tokens in their URLs.
        "httpx": {"level": "WARNING"},
        "httpcore": {"level": "WARNING"},
        # Asked for with CAREMGR_MEMORY_WATCH_SECONDS; shown whatever LOG_LEVEL says.
        "caremgr.memory": {"level": "INFO"},
    },
}
