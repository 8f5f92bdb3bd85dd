"""The tenant registry in the public schema, as django-tenants wants it."""

from django.db import models
from django_tenants.models import DomainMixin, TenantMixin


class Client(TenantMixin):
    """One tenant: its schema (`schema_name`, from TenantMixin) and a name."""

    name = models.CharField(max_length=100)
    # Creating a tenant creates its schema and runs the tenant apps' migrations in it.
    auto_create_schema = True


class Domain(DomainMixin):
    """The host names that resolve to a tenant (required by django-tenants, unused here)."""
