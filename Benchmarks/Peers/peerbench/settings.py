"""Settings of the django-tenants peer (Benchmarks/Peers/run.py): one PostgreSQL database, a schema
per tenant, the tenant app `items` with the two tables Tenanted's side creates.

Reads PEER_DATABASE_URL (postgres://user[:password]@host:port/database). With PEER_NEXT_MIGRATION=1
the `items` app takes its migrations from `items.migrations_next` (0001 plus 0002, one new migration),
so the same project measures migrate-all with nothing to do and with one migration pending.
"""

import os
from urllib.parse import unquote, urlparse

_url = urlparse(os.environ.get("PEER_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))

SECRET_KEY = "peer-benchmark-only"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["*"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

DATABASES = {
    "default": {
        "ENGINE": "django_tenants.postgresql_backend",
        "NAME": _url.path.lstrip("/") or "postgres",
        "USER": unquote(_url.username or "postgres"),
        "PASSWORD": unquote(_url.password or ""),
        "HOST": _url.hostname or "127.0.0.1",
        "PORT": str(_url.port or 5432),
        # One persistent connection, as an application server keeps it.
        "CONN_MAX_AGE": None,
    }
}
DATABASE_ROUTERS = ("django_tenants.routers.TenantSyncRouter",)

SHARED_APPS = ["django_tenants", "customers", "django.contrib.contenttypes"]
TENANT_APPS = ["items"]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]
TENANT_MODEL = "customers.Client"
TENANT_DOMAIN_MODEL = "customers.Domain"

if os.environ.get("PEER_NEXT_MIGRATION") == "1":
    MIGRATION_MODULES = {"items": "items.migrations_next"}

LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
