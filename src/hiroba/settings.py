"""hiroba settings: one module, driven by the environment.

Every knob an operator may turn is read here through the small typed helpers below,
which raise ImproperlyConfigured on a bad value instead of guessing.
"""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no, not {raw!r}")


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def envstr(name: str, default: str) -> str:
    return os.environ.get(name, default)


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [part.strip() for part in raw.split(",") if part.strip()]


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(envstr("HIROBA_DATA_DIR", str(Path.cwd() / "var"))).resolve()
TESTING = "pytest" in sys.modules or sys.argv[1:2] == ["test"]

DEBUG = envbool("HIROBA_DEBUG", False)
# The key published in this repository: never acceptable outside development and tests.
DEMO_SECRET_KEY = "hiroba-demo-secret-key-never-use-in-production-0123456789"


def _instance_secret_key() -> str:
    """HIROBA_SECRET_KEY, or a random key generated once for this instance in HIROBA_DATA_DIR.

    A single-machine instance thus never runs on a published key; several app servers
    behind a load balancer must share one HIROBA_SECRET_KEY (see docs/operations.md).
    """
    configured = os.environ.get("HIROBA_SECRET_KEY")
    if configured:
        return configured
    if TESTING:
        return DEMO_SECRET_KEY
    key_file = DATA_DIR / "secret_key"
    try:
        if not key_file.exists():
            import secrets

            DATA_DIR.mkdir(parents=True, exist_ok=True)
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(50))
        return key_file.read_text().strip()
    except FileExistsError:
        return key_file.read_text().strip()
    except OSError as exc:
        raise ImproperlyConfigured(
            f"秘密鍵を {key_file} に作成できません。HIROBA_SECRET_KEY を設定してください。 "
            f"/ Cannot create {key_file}: set HIROBA_SECRET_KEY."
        ) from exc


SECRET_KEY = _instance_secret_key()
if SECRET_KEY == DEMO_SECRET_KEY and not (DEBUG or TESTING):
    raise ImproperlyConfigured(
        "本番モード（HIROBA_DEBUG が無効）ではデモ用の秘密鍵で起動できません。"
        "HIROBA_SECRET_KEY に50文字以上の乱数を設定してください。"
        " / Refusing to start in production mode with the demo secret key: set HIROBA_SECRET_KEY."
    )
# The audit chain is keyed separately so that rotating SECRET_KEY never breaks verification.
AUDIT_KEY = envstr("HIROBA_AUDIT_KEY", SECRET_KEY)
# Keys the per-voter ballot codes (proposals); keep it off the database host. See docs/proposals.md.
HIROBA_BALLOT_KEY = envstr("HIROBA_BALLOT_KEY", "")

ALLOWED_HOSTS = envlist("HIROBA_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("HIROBA_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "hiroba.core",
    "hiroba.accounts",
    "hiroba.backoffice",  # the staff shell (/staff/): staff home, departments, audit log, rate limits
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "rules.apps.AutodiscoverRulesConfig",
    "django_tasks",
    "django_tasks_db",
]
# The domain modules, one app each (see docs/decisions/0001-architecture.md). Each app's
# urls.py is served under /<name>/ and its staff_urls.py under /staff/<name>/.
HIROBA_MODULES = ["consultations", "proposals", "workshops", "calendars", "notices", "records", "surveys", "security"]
INSTALLED_APPS += [f"hiroba.{name}" for name in HIROBA_MODULES if importlib.util.find_spec(f"hiroba.{name}")]
# The public REST API and open data (/api/v1/, /opendata/); ninja for its bundled Swagger UI files.
INSTALLED_APPS += ["ninja", "hiroba.api"]
INSTALLED_APPS += ["hiroba.consultations.intake"] if "hiroba.consultations" in INSTALLED_APPS else []  # mail, scans, form service

MIDDLEWARE = [
    # first: the public pages many residents read at once, answered whole to anonymous readers from
    # the shared cache before anything else runs (hiroba.core.pagecache; it counts its hits in /metrics)
    "hiroba.core.pagecache.PageCacheMiddleware",
    # latency and status of every other request for /metrics; the Japanese 503 when the database is away
    "hiroba.core.health.MetricsMiddleware",
    "hiroba.core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # before anything reads the form: input that is not UTF-8 is refused with a Japanese 400
    "hiroba.core.middleware.RejectUndecodableInputMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "hiroba.accounts.middleware.StaffAreaMiddleware",
    "hiroba.core.middleware.StaffNoStoreMiddleware",
    # AxesMiddleware last: it turns a lock-out raised by the backend into the lock-out page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "hiroba.urls"
WSGI_APPLICATION = "hiroba.wsgi.application"
ASGI_APPLICATION = "hiroba.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hiroba.core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_default_sqlite = f"sqlite:///{DATA_DIR / 'hiroba.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", "") or _default_sqlite,
        conn_max_age=envint("HIROBA_DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the writer; IMMEDIATE takes the write lock at BEGIN so two
    # writers queue instead of failing; synchronous=FULL makes a commit durable before we
    # acknowledge a submission.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
        ),
    }
    DATABASES["default"].pop("CONN_HEALTH_CHECKS", None)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "hiroba.accounts.backends.SystemAdminPermissionBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("email", "display_name", "display_name_kana")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
     "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
ACCOUNT_ADAPTER = "hiroba.accounts.adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "hiroba.accounts.forms.LoginForm",
    "signup": "hiroba.accounts.forms.SignupForm",
    "add_email": "hiroba.accounts.forms.AddEmailForm",
    "change_email": "hiroba.accounts.forms.ChangeEmailForm",
    "reset_password": "hiroba.accounts.forms.ResetPasswordForm",
}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[hiroba] "
MFA_ADAPTER = "hiroba.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_TOTP_ISSUER = envstr("HIROBA_MFA_ISSUER", "hiroba")
# One 30-second step either side (RFC 6238 §5.2): a code typed as its window turns, or read off a
# phone whose clock is a few seconds out, is still accepted. The replay guard covers all three
# steps, so an accepted code is refused for its whole validity.
MFA_TOTP_TOLERANCE = 1
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or TESTING

# Staff sessions: idle expiry (sliding) and an absolute limit per login.
STAFF_SESSION_IDLE_SECONDS = envint("HIROBA_STAFF_SESSION_IDLE_SECONDS", 30 * 60)
STAFF_SESSION_MAX_SECONDS = envint("HIROBA_STAFF_SESSION_MAX_SECONDS", 9 * 60 * 60)
SESSION_COOKIE_AGE = envint("HIROBA_SESSION_COOKIE_AGE", 14 * 24 * 60 * 60)

# django-axes: lock out repeated failures (wrong passwords and wrong MFA codes alike) of one
# account *from one address*: a stranger who knows a staff member's e-mail can lock it out only
# for their own address, while the staff member signs in from the ward's network as usual.
# The trade-off (guessing spread over many addresses) and what limits it: docs/operations.md §6.
AXES_FAILURE_LIMIT = envint("HIROBA_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("HIROBA_LOGIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Failures per address across all accounts (allauth, in the shared cache): password spraying
# from one address is slowed whatever accounts it names. No per-account limit independent of
# the address: that would again let anyone lock anyone out.
LOGIN_FAILURES_PER_ADDRESS = [rate.strip() for rate in envstr("HIROBA_LOGIN_FAILURES_PER_ADDRESS", "30/m,300/h")
                              .split(",") if rate.strip()]
if not LOGIN_FAILURES_PER_ADDRESS or not all(re.fullmatch(r"\d+/\d*[smhd]", r) for r in LOGIN_FAILURES_PER_ADDRESS):
    raise ImproperlyConfigured("HIROBA_LOGIN_FAILURES_PER_ADDRESS must be rates such as 30/m,300/h (count/period)")
ACCOUNT_RATE_LIMITS = {
    "login_failed": ",".join(f"{rate}/ip" for rate in LOGIN_FAILURES_PER_ADDRESS),
    "login": "60/m/ip",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip,5/m/key",
}
if envbool("HIROBA_SCAN_WITHOUT_ALLAUTH_RATE_LIMITS", False):
    # scripts/wapiti-scan.sh only: its attacks would otherwise be answered 429 part-way through, and a
    # scanner comparing responses reads the changing answers as an injection.
    ACCOUNT_RATE_LIMITS = False  # type: ignore[assignment]  # allauth accepts False: no limits
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_CALLABLE = "hiroba.accounts.lockout.username_from_request"
AXES_LOCKOUT_CALLABLE = "hiroba.accounts.lockout.lockout_response"
# One notion of the client's address for the lock-out, the rate limits and the audit log.
AXES_CLIENT_IP_CALLABLE = "hiroba.core.middleware.client_ip"
AXES_RESET_ON_SUCCESS = True
# Masked in the attempts axes stores (the posted e-mail, and a wrong MFA code).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "login", "code"]
AXES_VERBOSE = False
# Reverse proxies in front of hiroba that append to X-Forwarded-For (nginx: 1). 0: REMOTE_ADDR.
HIROBA_PROXY_COUNT = envint("HIROBA_PROXY_COUNT", 0)
if HIROBA_PROXY_COUNT < 0:
    raise ImproperlyConfigured("HIROBA_PROXY_COUNT must be 0 or more")

# Account review defaults (hiroba accounts review).
ACCOUNT_REVIEW_INACTIVE_DAYS = envint("HIROBA_ACCOUNT_REVIEW_INACTIVE_DAYS", 90)

# --- Security headers -----------------------------------------------------------------------
HTTPS = envbool("HIROBA_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "hiroba.core.views.csrf_failure"
# The language choice is a cookie like the others: HTTPS only (when served over TLS), no script access.
LANGUAGE_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# The address residents and staff reach hiroba at (https://hiroba.example.lg.jp), from which every
# link in a mail is built (hiroba.core.links). Empty: the scheme HIROBA_HTTPS says and the host of
# the request (outside a request, the first of HIROBA_ALLOWED_HOSTS).
HIROBA_BASE_URL = envstr("HIROBA_BASE_URL", "").strip().rstrip("/")
if HIROBA_BASE_URL and not re.fullmatch(r"https?://[^/\s]+(/[^\s]*)?", HIROBA_BASE_URL):
    raise ImproperlyConfigured(f"HIROBA_BASE_URL must be an http:// or https:// address, not {HIROBA_BASE_URL!r}")
# allauth's links (sign-up confirmation, password reset) follow the same scheme.
ACCOUNT_DEFAULT_HTTP_PROTOCOL = HIROBA_BASE_URL.partition(":")[0] if HIROBA_BASE_URL else ("https" if HTTPS else "http")
SECURE_HSTS_SECONDS = envint("HIROBA_HSTS_SECONDS", 0)  # set to 31536000 once TLS is in place
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("HIROBA_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = False
SECURE_SSL_REDIRECT = envbool("HIROBA_SSL_REDIRECT", False)
if envbool("HIROBA_BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}

# --- I18N -----------------------------------------------------------------------------------
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Tokyo"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files --------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = DATA_DIR / "media"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = envint("HIROBA_MAX_REQUEST_BYTES", 25 * 1024 * 1024)  # beyond: 413 (core.views)
DATA_UPLOAD_MAX_NUMBER_FIELDS = envint("HIROBA_MAX_REQUEST_FIELDS", 1000)  # beyond: 400 in Japanese

# --- Mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = envstr(
    "HIROBA_EMAIL_BACKEND",
    "django.core.mail.backends.filebased.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = envstr("HIROBA_EMAIL_HOST", "localhost")
EMAIL_PORT = envint("HIROBA_EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("HIROBA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = envstr("HIROBA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = envbool("HIROBA_EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = 10
DEFAULT_FROM_EMAIL = envstr("HIROBA_FROM_EMAIL", "hiroba <no-reply@hiroba.localhost>")

# --- Background work ------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
#: A mail claimed (送信中) longer ago than this was being sent by a worker that died: the next
#: `hiroba notifications deliver` (the requeue timer runs it every minute) takes it again.
HIROBA_NOTIFY_CLAIM_TIMEOUT = timedelta(seconds=envint("HIROBA_NOTIFY_CLAIM_TIMEOUT", 600))

# --- Cache: shared by every process ------------------------------------------------------------
# The TOTP replay guard (a code once accepted is refused for its whole validity window) and the
# rate limits live in the cache, so every app server process must see the same one. Default:
# Django's database cache (the table `hiroba_cache`, created by core's migrations), shared by all
# processes on the one database with no server to run; `HIROBA_CACHE_URL=redis://…` for Redis.
CACHE_TABLE = "hiroba_cache"


def _caches() -> dict[str, dict[str, object]]:
    url = envstr("HIROBA_CACHE_URL", "").strip()
    prefix = envstr("HIROBA_CACHE_KEY_PREFIX", "hiroba")
    if not url:
        return {"default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": CACHE_TABLE, "KEY_PREFIX": prefix,
            # Culling deletes live entries once the table holds more than this (after the
            # expired ones): far above what sign-ins and rate limits keep alive at once.
            "OPTIONS": {"MAX_ENTRIES": envint("HIROBA_CACHE_MAX_ENTRIES", 200_000)},
        }}
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"HIROBA_CACHE_URL must be a redis://, rediss:// or unix:// URL, not {url!r}")
    # Django's RedisCache, with one redis-py client per pool instead of one per call (hiroba.core.rediscache)
    return {"default": {"BACKEND": "hiroba.core.rediscache.RedisCache", "LOCATION": url,
                        "KEY_PREFIX": prefix}}


CACHES = _caches()

# Whole public pages (results, drafts, calendar feeds, vote results) kept in that cache for
# anonymous readers: seconds an entry lives (0 turns the page cache off; a publication replaces
# it at once whatever this says) and the max-age browsers are told (0: a browser asks again each
# time, so a reader never sees a page older than the last publication; the shared cache answers).
HIROBA_PAGECACHE_SECONDS = envint("HIROBA_PAGECACHE_SECONDS", 300)
HIROBA_PAGECACHE_MAX_AGE = envint("HIROBA_PAGECACHE_MAX_AGE", 0)

# --- hiroba ---------------------------------------------------------------------------------
HIROBA_SITE_NAME = envstr("HIROBA_SITE_NAME", "広場 hiroba")
HIROBA_MUNICIPALITY = envstr("HIROBA_MUNICIPALITY", "千代田区")

# Rate limits on public writes (hiroba.core.throttle), counted in the shared cache: per client
# address ("ip") and per identity the form names ("key": e-mail address, account, recipient).
# COUNT/PERIOD/ip|key, PERIOD = s, m, h or d with an optional number (10m). Override any scope with
# HIROBA_RATE_LIMITS="consultations.submit=60/10m/ip,20/h/key;workshops.apply=40/h/ip".
DEFAULT_RATE_LIMITS = {
    "consultations.submit": "20/10m/ip,10/h/key",  # an opinion (the final 送信)
    "consultations.report": "10/h/ip,3/h/key",  # なりすまし申告
    "proposals.submit": "30/h/ip,20/h/key",  # saving or sending a proposal
    "proposals.vote": "120/10m/ip,30/10m/key",
    "workshops.apply": "20/h/ip,5/h/key",
    "workshops.consent_mail": "3/d/key",  # consent requests mailed to one guardian address
    "workshops.consent": "30/h/ip",
    "accounts.signup": "10/h/ip,3/h/key",
    "accounts.password_reset": "10/h/ip,3/h/key",
    "security.report": "10/h/ip,3/h/key",  # セキュリティに関するご連絡; key: the e-mail address given
    "api.public": "600/10m/ip",  # the public read API (/api/v1/), per address
    "api.staff": "1200/10m/ip,600/10m/key",  # the staff API; key: the token
}


def _rate_limits(defaults: dict[str, str]) -> dict[str, str]:
    limits = dict(defaults)
    for part in (p.strip() for p in os.environ.get("HIROBA_RATE_LIMITS", "").split(";") if p.strip()):
        scope, sep, spec = part.partition("=")
        if not sep or scope.strip() not in defaults:
            raise ImproperlyConfigured(
                f"HIROBA_RATE_LIMITS: {part!r} must be SCOPE=RATES with SCOPE one of {', '.join(defaults)}")
        limits[scope.strip()] = spec.strip()
    for scope, spec in limits.items():
        if not all(re.fullmatch(r"\d+/\d*[smhd]/(ip|key)", r.strip()) for r in spec.split(",")):
            raise ImproperlyConfigured(f"HIROBA_RATE_LIMITS: {scope}={spec!r}; write rates as 20/10m/ip,5/h/key")
    return limits


HIROBA_RATE_LIMITS = _rate_limits(DEFAULT_RATE_LIMITS)
# Public forms sent sooner than this after they were shown are refused as a bot's (0 turns it off).
HIROBA_FORM_MIN_FILL_SECONDS = envint("HIROBA_FORM_MIN_FILL_SECONDS", 3)

# 大量送信対策 (hiroba.core.pow, switched on per case by staff): the browser searches numbers up
# to this for its proof of work (about 1 s on an ordinary PC at 100,000); a challenge lives this long.
HIROBA_POW_MAX_NUMBER = envint("HIROBA_POW_MAX_NUMBER", 100_000)
HIROBA_POW_TTL_SECONDS = envint("HIROBA_POW_TTL_SECONDS", 600)

# /metrics (Prometheus) answers only these networks (the client as hiroba.core.middleware.client_ip
# sees it); nginx refuses the path from elsewhere too. Figures of each worker under HIROBA_METRICS_DIR.
HIROBA_METRICS_NETWORKS = envlist("HIROBA_METRICS_NETWORKS", ["127.0.0.0/8", "::1/128"])
HIROBA_METRICS_DIR = envstr("HIROBA_METRICS_DIR", "")

# HIROBA_LOG_FORMAT=json: one JSON object a line (hiroba.core.logjson); every line, plain or JSON,
# carries the id of the request it was written in (X-Request-ID, set by nginx or made here).
HIROBA_LOG_FORMAT = envstr("HIROBA_LOG_FORMAT", "plain")
if HIROBA_LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured("HIROBA_LOG_FORMAT must be plain or json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "hiroba.core.logjson.RequestContextFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
                   "json": {"()": "hiroba.core.logjson.JsonFormatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": HIROBA_LOG_FORMAT,
                             "filters": ["request"]}},
    "root": {"handlers": ["console"], "level": envstr("HIROBA_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
