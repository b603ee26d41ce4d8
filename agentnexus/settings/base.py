"""Settings shared by every environment. Everything comes from the environment (django-environ).

Defaults serve on one machine with nothing configured: SQLite, a Redis on 127.0.0.1:6379
(started by `make run`), DEBUG off. `DATABASE_URL` / `REDIS_URL` switch to real servers.
The documented variables are listed in `.env.example`.
"""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# A local .env is optional; the process environment always wins.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Local-only fallback key; production.py refuses to start without DJANGO_SECRET_KEY.
SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-only-key-never-use-in-production")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_NAME = "AgentNexus"
SITE_ID = 1

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "allauth",
    "allauth.account",
    "channels",
    "agentnexus.core",
    "accounts",
    "marketplace",
    "agents",
    "payments",
    "compliance",
    "compliance.kyc",
    "compliance.audit",
    "runtime",
]

# WhiteNoise comes last, not second as its docs suggest: it is sync-only, and under ASGI Django
# runs every middleware above a sync-only one in sync mode, so the chain costs one thread
# hand-off per request instead of one per middleware hook (5 hand-offs per request, was 15).
# Static files still never reach the URL resolver or a view; the middleware they now pass
# leave them alone. Measured in docs/benchmarks.md ("Catalog latency work").
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Whole-site geo-fence: blocked countries see /restricted (API: 451); sets request.geo.
    "compliance.middleware.GeoFenceMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
]

ROOT_URLCONF = "agentnexus.urls"
ASGI_APPLICATION = "agentnexus.asgi.application"
WSGI_APPLICATION = "agentnexus.wsgi.application"

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
                "agentnexus.core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # psycopg 3 connection pool: ASGI serves each request on a fresh connection otherwise.
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": env.int("DATABASE_POOL_MIN", default=2),
        "max_size": env.int("DATABASE_POOL_MAX", default=10),
        "timeout": 10,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Services own their transactions (docs/decisions/0001-architecture.md).
ATOMIC_REQUESTS = False

# --- Redis: cache, Celery broker, Channels layer --------------------------------------------
REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "agentnexus.core.cache.SharedRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="agentnexus"),
        "TIMEOUT": 300,
        "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
    }
}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": "agentnexus:channels"},
    }
}
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 40
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 35
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# --- Auth and accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
    # Sign-In with Ethereum (payments/siwe.py); must stay listed or wallet sessions end.
    "payments.auth.WalletBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "marketplace:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env("ACCOUNT_EMAIL_VERIFICATION", default="mandatory")
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,5/5m/key", "signup": "20/m/ip"}
ACCOUNT_DEFAULT_HTTP_PROTOCOL = env("ACCOUNT_DEFAULT_HTTP_PROTOCOL", default="http")

EMAIL_BACKEND = env(
    "DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = env(
    "DJANGO_DEFAULT_FROM_EMAIL", default="AgentNexus <noreply@agentnexus.local>"
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
if env("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))

# --- i18n / time -------------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_ROOT = env("DJANGO_MEDIA_ROOT", default=str(BASE_DIR / "media"))
MEDIA_URL = "/media/"

# --- Security headers that hold everywhere ------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if env.bool("DJANGO_BEHIND_TLS_PROXY", default=False)
    else None
)

# --- REST API ----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "agentnexus.core.api.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "agentnexus.core.api.exceptions.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_THROTTLE_CLASSES": [
        "agentnexus.core.api.throttling.AnonRateThrottle",
        "agentnexus.core.api.throttling.UserRateThrottle",
    ],
    # Reverse proxies in front of the app: the throttle identifies a client by the address the
    # nearest trusted proxy saw. 0 = REMOTE_ADDR only; X-Forwarded-For from a client is ignored.
    "NUM_PROXIES": env.int("API_NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="600/min"),
        "user": env("API_THROTTLE_USER", default="1200/min"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
if DEBUG:
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"].append(
        "rest_framework.renderers.BrowsableAPIRenderer"
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "AgentNexus API",
    "DESCRIPTION": (
        "Versioned REST API of the AgentNexus agent marketplace. Authenticate with a personal "
        "API token (`Authorization: Token <token>`, created on your profile page) or the "
        "browser session. Every error uses one JSON shape: "
        '`{"error": {"code": ..., "message": ..., "fields": {...}}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "runtime.models.RunStatus",
        "AgentStatusEnum": "marketplace.models.Agent.Status",
        "SubmissionStatusEnum": "agents.models.SubmissionStatus",
        "SubmissionStepEnum": "agents.models.SubmissionStep",
        "SmokeResultStatusEnum": "agents.models.SmokeResult.Status",
        # The purchase API's wallet call steps (payments/api/purchases.py CallSerializer): named
        # here so the submission log's `step` does not rename this existing component.
        "StepEnum": ["approve", "purchase"],
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "agentnexus.core.api.schema.add_error_responses",
    ],
}

# --- Logging: one line per event; never log secrets ----------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}

# --- Catalog --------------------------------------------------------------------------------------
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=30)

# --- Chain (docs/decisions/0005-chain-deployment.md) -----------------------------------------------
# The node the platform talks to; CHAIN_ID guards against signing for another network.
CHAIN_RPC_URL = env("CHAIN_RPC_URL", default="http://127.0.0.1:8545")
CHAIN_ID = env.int("CHAIN_ID", default=31337)
# Keys are secrets: from the environment only, never logged. On a local chain (31337/1337) left
# empty, chain_deploy falls back to anvil's public development accounts.
CHAIN_DEPLOYER_KEY = env("CHAIN_DEPLOYER_KEY", default="")
CHAIN_ORCHESTRATOR_KEY = env("CHAIN_ORCHESTRATOR_KEY", default="")
# Or an encrypted JSON keystore (geth/eth-account format) and its password.
CHAIN_ORCHESTRATOR_KEYSTORE = env("CHAIN_ORCHESTRATOR_KEYSTORE", default="")
CHAIN_ORCHESTRATOR_KEYSTORE_PASSWORD = env("CHAIN_ORCHESTRATOR_KEYSTORE_PASSWORD", default="")
CHAIN_ADMIN_ADDRESS = env("CHAIN_ADMIN_ADDRESS", default="")
CHAIN_FEE_RECIPIENT = env("CHAIN_FEE_RECIPIENT", default="")
CHAIN_STABLECOIN_ADDRESS = env("CHAIN_STABLECOIN_ADDRESS", default="")
CHAIN_FEE_BPS = env.int("CHAIN_FEE_BPS", default=3000)
CHAIN_PAYMENT_TTL_SECONDS = env.int("CHAIN_PAYMENT_TTL_SECONDS", default=30 * 24 * 3600)
CHAIN_METADATA_BASE_URI = env("CHAIN_METADATA_BASE_URI", default="")

# --- Runtime (docs/agent-protocol.md, docs/decisions/0006-run-execution.md) -------------------------
RUNTIME_BACKEND = env("RUNTIME_BACKEND", default="runtime.backends.docker.DockerBackend")
# Per-run directories (0700, one per run, removed after it); must be on the Docker host.
RUNTIME_SOCKET_ROOT = env("RUNTIME_SOCKET_ROOT", default="/tmp/agentnexus-runs")  # noqa: S108
RUNTIME_MAX_RUNS_PER_AGENT = env.int("RUNTIME_MAX_RUNS_PER_AGENT", default=10)
RUNTIME_MAX_RUNS_PER_USER = env.int("RUNTIME_MAX_RUNS_PER_USER", default=5)
RUNTIME_MAX_OUTPUT_BYTES = env.int("RUNTIME_MAX_OUTPUT_BYTES", default=1_000_000)
RUNTIME_MAX_LOG_BYTES = env.int("RUNTIME_MAX_LOG_BYTES", default=5_000_000)
RUNTIME_HEARTBEAT_SECONDS = env.float("RUNTIME_HEARTBEAT_SECONDS", default=2.0)
RUNTIME_WORKER_LOST_SECONDS = env.int("RUNTIME_WORKER_LOST_SECONDS", default=30)
# Encrypts run secrets while they wait for a worker; default: derived from DJANGO_SECRET_KEY.
RUNTIME_SECRETS_KEY = env("RUNTIME_SECRETS_KEY", default="")
CELERY_TASK_ROUTES = {"runtime.execute_run": {"queue": "runs"}}
CELERY_BEAT_SCHEDULE = {
    "reap-runs": {"task": "runtime.reap_runs", "schedule": 10.0},
    # Settlements are sent as runs end; this picks up retries that are due.
    "settle-due": {"task": "payments.settle_due", "schedule": 2.0},
    "prepare-run-refs": {"task": "payments.prepare_run_refs", "schedule": 300.0},
    "index-chain": {"task": "payments.index_chain", "schedule": 3.0},
    "reconcile-payments": {"task": "payments.reconcile", "schedule": 60.0},
    "purge-access-log": {"task": "compliance.access_log_purge", "schedule": 86400.0},
    # Submission steps whose task or worker was lost (agents.services.submissions_recover).
    "recover-submissions": {"task": "agents.recover_submissions", "schedule": 60.0},
}
CHAIN_CONFIRMATIONS = env.int("CHAIN_CONFIRMATIONS", default=1)
# The indexer stays this many blocks behind the head (docs/decisions/0008-...). 0 suits a local
# chain that mines only on demand; public chains want their reorg depth.
CHAIN_INDEXER_LAG = env.int("CHAIN_INDEXER_LAG", default=2)
# A submitted settlement the chain does not know after this long is sent again.
CHAIN_SETTLEMENT_RESEND_AFTER = env.int("CHAIN_SETTLEMENT_RESEND_AFTER", default=300)
# A development faucet for linked wallets (local chains only; local settings turn it on).
DEV_FAUCET_ENABLED = env.bool("DEV_FAUCET_ENABLED", default=False)

# --- Compliance (docs/decisions/0010-geo-fencing.md, 0011-kyc.md) ----------------------------------
# MaxMind GeoIP2/GeoLite2 Country or City .mmdb; empty = the bundled RIR data (iptocc).
GEOIP_MMDB_PATH = env("GEOIP_MMDB_PATH", default="") or None
# Country for private and loopback addresses (e.g. US in development); empty = unknown.
GEOIP_LOCAL_COUNTRY = env("GEOIP_LOCAL_COUNTRY", default="") or None
# CIDRs of our reverse proxies: X-Forwarded-For is believed only when they send it.
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=[])
COMPLIANCE_UNKNOWN_COUNTRY = env("COMPLIANCE_UNKNOWN_COUNTRY", default="allow")
COMPLIANCE_RESTRICTED_CATEGORIES = env.list("COMPLIANCE_RESTRICTED_CATEGORIES", default=["crypto"])
COMPLIANCE_ACCESS_LOG_DAYS = env.int("COMPLIANCE_ACCESS_LOG_DAYS", default=90)
COMPLIANCE_ACCESS_LOG_ALLOW_SAMPLE = env.float("COMPLIANCE_ACCESS_LOG_ALLOW_SAMPLE", default=0.0)
