#!/usr/bin/env python
"""The django-tenants peer of `scripts/bench --peers`: measures, on the PostgreSQL server at
PEER_DATABASE_URL, what `postgres-figures --only peers` measures for Tenanted, and writes the
figures as JSON (`--output`, default results/peers-django.json under Benchmarks/).

    run.py [--tenants 200] [--switch-tenants 20] [--selects 10000] [--output PATH]

Phases, each in a process of its own (Django reads its settings once), timed inside the process
(Django's start-up is not timed):

- `setup`: drops what an earlier run left, `migrate_schemas --shared` (the public schema).
- `create`: creates `--tenants` tenants one at a time: `Client(schema_name=…).save()` creates
  the schema and runs the tenant app's migration (the two tables) in it. Times each create.
- `select`: seeds 100 items in each of the first `--switch-tenants` tenants, then times
  `connection.set_tenant(t)` + `Item.objects.get(pk=…)` rotating over them (`--selects` calls after
  a warm-up), on one persistent connection, in autocommit.
- `migrate`: times `migrate_schemas --tenant` over every tenant with nothing to do, then (a new
  process with PEER_NEXT_MIGRATION=1) with one new migration (a column and an index on `items`);
  django-tenants' standard executor, one tenant after the other.
- `teardown`: drops the schemas and the public tables.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PREFIX = "peer_dj_"


def setup_django():
    sys.path.insert(0, HERE)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peerbench.settings")
    import django

    django.setup()


def summary(samples_ns):
    """Median, p99 and mean in µs of per-call times in ns."""
    ordered = sorted(samples_ns)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return {
        "count": len(ordered),
        "medianMicros": statistics.median(ordered) / 1000,
        "p99Micros": p99 / 1000,
        "meanMicros": statistics.fmean(ordered) / 1000,
    }


def phase_setup(args):
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [PREFIX])
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
        for table in ("customers_domain", "customers_client", "django_content_type", "django_migrations"):
            cursor.execute(f'DROP TABLE IF EXISTS public."{table}" CASCADE')
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0)
    from customers.models import Client

    Client(schema_name="public", name="public").save()
    return {}


def phase_create(args):
    setup_django()
    from customers.models import Client

    samples = []
    for index in range(args.tenants):
        started = time.perf_counter_ns()
        Client(schema_name=f"{PREFIX}t{index:04d}", name=f"t{index}").save()
        samples.append(time.perf_counter_ns() - started)
    return {"create_tenant": summary(samples)}


def phase_select(args):
    setup_django()
    from customers.models import Client
    from django.db import connection
    from items.models import Item

    tenants = list(Client.objects.filter(schema_name__startswith=PREFIX).order_by("schema_name")[: args.switch_tenants])
    for tenant in tenants:
        connection.set_tenant(tenant)
        Item.objects.bulk_create([Item(id=i, title=f"item {i}") for i in range(1, 101)])
    samples = []
    warmup = 200
    for index in range(warmup + args.selects):
        tenant = tenants[index % len(tenants)]
        started = time.perf_counter_ns()
        connection.set_tenant(tenant)
        item = Item.objects.get(pk=index % 100 + 1)
        elapsed = time.perf_counter_ns() - started
        if item.id != index % 100 + 1:
            raise SystemExit(f"select returned item {item.id}, expected {index % 100 + 1}")
        if index >= warmup:
            samples.append(elapsed)
    connection.set_schema_to_public()
    return {"switch_pk_select": summary(samples)}


def phase_migrate(args):
    setup_django()
    from django.core.management import call_command

    started = time.perf_counter_ns()
    call_command("migrate_schemas", tenant=True, interactive=False, verbosity=0)
    elapsed = (time.perf_counter_ns() - started) / 1e6
    name = "migrate_all_one" if os.environ.get("PEER_NEXT_MIGRATION") == "1" else "migrate_all_noop"
    return {name: {"millis": elapsed}}


def phase_teardown(args):
    setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s)", [PREFIX])
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
        for table in ("customers_domain", "customers_client", "django_content_type", "django_migrations"):
            cursor.execute(f'DROP TABLE IF EXISTS public."{table}" CASCADE')
    return {}


PHASES = {
    "setup": phase_setup,
    "create": phase_create,
    "select": phase_select,
    "migrate": phase_migrate,
    "teardown": phase_teardown,
}


def run_phase(name, args, extra_env=None):
    env = dict(os.environ, **(extra_env or {}))
    command = [sys.executable, os.path.abspath(__file__), "--phase", name,
               "--tenants", str(args.tenants), "--switch-tenants", str(args.switch_tenants),
               "--selects", str(args.selects)]
    output = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phase", choices=sorted(PHASES))
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--switch-tenants", type=int, default=20)
    parser.add_argument("--selects", type=int, default=10_000)
    parser.add_argument("--output", default=os.path.join(HERE, "..", "results", "peers-django.json"))
    args = parser.parse_args()
    if "PEER_DATABASE_URL" not in os.environ:
        raise SystemExit("run.py: PEER_DATABASE_URL is not set")
    if args.phase:
        print(json.dumps(PHASES[args.phase](args)))
        return

    import django
    import django_tenants

    report = {"peer": "django-tenants", "django": django.get_version(),
              "djangoTenants": getattr(django_tenants, "__version__", None) or _version("django-tenants"),
              "tenants": args.tenants, "switchTenants": args.switch_tenants, "selects": args.selects,
              "affinity": sorted(os.sched_getaffinity(0))}
    try:
        run_phase("setup", args)
        for phase, env in (("create", None), ("select", None), ("migrate", None),
                           ("migrate", {"PEER_NEXT_MIGRATION": "1"})):
            figures = run_phase(phase, args, env)
            report.update(figures)
            print(f"django-tenants {phase}{' (one new migration)' if env else ''}: {json.dumps(figures)}", file=sys.stderr)
    except subprocess.CalledProcessError as error:
        sys.stderr.write(error.stderr or "")
        raise SystemExit(f"run.py: the {error.cmd[3]} phase failed")
    finally:
        try:
            run_phase("teardown", args)
        except subprocess.CalledProcessError as error:
            sys.stderr.write(error.stderr or "")
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as file:
        json.dump(report, file, indent=2, sort_keys=True)
    print(f"django-tenants figures written to {args.output}", file=sys.stderr)


def _version(distribution):
    from importlib.metadata import version

    return version(distribution)


if __name__ == "__main__":
    main()
