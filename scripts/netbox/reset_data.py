"""Delete every IPAM and tenancy object (and the site hierarchy prefixes can be scoped to).

Run by `scripts/netbox_server.sh reset-data` with the NetBox venv's python and NETBOX_ROOT set.
Users, API tokens and custom field definitions are kept, so the env file stays valid and the
`aws_account_id` / `team` prefix custom fields are still there for the next test.

Deletion goes through the ORM (not TRUNCATE) so NetBox's own signal handlers keep the search
cache and related bookkeeping consistent. Models are retried in passes because some relations
are PROTECT (e.g. a tenant still referenced by a prefix cannot go before the prefix).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netbox.settings")
django.setup()

from django.apps import apps  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import ProtectedError, RestrictedError  # noqa: E402

WHOLE_APPS = ("ipam", "tenancy")
# Prefix scopes (scope_type/scope_id) point at these; tests that scope prefixes create them.
EXTRA_MODELS = ("dcim.Location", "dcim.Site", "dcim.SiteGroup", "dcim.Region", "extras.Tag")
MAX_PASSES = 10


def target_models():
    models = [m for label in WHOLE_APPS for m in apps.get_app_config(label).get_models()]
    models += [apps.get_model(label) for label in EXTRA_MODELS]
    return models


def main():
    remaining = target_models()
    deleted_total = 0
    last_error = None
    for _ in range(MAX_PASSES):
        blocked = []
        progress = False
        for model in remaining:
            if not model.objects.exists():
                continue
            try:
                with transaction.atomic():
                    deleted, _ = model.objects.all().delete()
                deleted_total += deleted
                progress = True
            except (ProtectedError, RestrictedError) as exc:
                last_error = exc
                blocked.append(model)
        if not blocked:
            print(f"reset-data: deleted {deleted_total} objects")
            return
        if not progress:
            break
        remaining = blocked
    names = ", ".join(m._meta.label for m in blocked)
    raise SystemExit(f"reset-data: could not delete {names}: {last_error}")


if __name__ == "__main__":
    main()
