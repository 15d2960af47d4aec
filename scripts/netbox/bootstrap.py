"""Idempotent post-migrate setup of natflow's test NetBox.

Run by scripts/netbox_server.sh with the NetBox venv's python, NETBOX_ROOT pointing at the
instance root and the values below in the environment. It:
  * creates/updates the superuser NB_ADMIN_USER (password NB_ADMIN_PASSWORD);
  * (re)creates that user's API tokens with the fixed values from the state dir's secrets.env:
    a v2 token  nbt_<NB_TOKEN_KEY>.<NB_TOKEN_SECRET>  and a legacy v1 token NB_TOKEN_V1,
    so the env file stays valid across restarts and database restores;
  * creates the custom fields the natflow tests set on prefixes (text: aws_account_id, team).
"""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netbox.settings")
django.setup()

from core.models import ObjectType  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from extras.models import CustomField  # noqa: E402
from ipam.models import Prefix  # noqa: E402
from users.models import Token  # noqa: E402

# Custom fields on ipam.prefix that natflow reads: name -> label.
PREFIX_CUSTOM_FIELDS = {
    "aws_account_id": "AWS account ID",
    "team": "Team",
}
TOKEN_DESCRIPTION = "natflow test token (managed by scripts/netbox_server.sh)"


def ensure_superuser(username, password):
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_superuser = True
    user.is_staff = True
    user.is_active = True
    user.set_password(password)
    user.save()
    return user


def ensure_tokens(user, v2_key, v2_secret, v1_plaintext):
    # Delete and recreate instead of checking: the v2 digest depends on the configured pepper, so
    # recreating guarantees the token matches the current configuration.
    Token.objects.filter(key=v2_key).delete()
    Token.objects.filter(plaintext=v1_plaintext).delete()
    # `key` must be passed before `token`: Token.__init__ sets the fields first, then hashes
    # the secret with the newest pepper (see users.models.tokens.Token.token setter).
    Token(version=2, user=user, key=v2_key, token=v2_secret, description=TOKEN_DESCRIPTION).save()
    Token(version=1, user=user, token=v1_plaintext, description=TOKEN_DESCRIPTION + " (v1)").save()


def ensure_prefix_custom_fields():
    prefix_type = ObjectType.objects.get_for_model(Prefix)
    for name, label in PREFIX_CUSTOM_FIELDS.items():
        field, created = CustomField.objects.get_or_create(
            name=name, defaults={"type": "text", "label": label}
        )
        if field.type != "text":
            raise SystemExit(
                f"custom field {name!r} exists with type {field.type!r}, expected text"
            )
        if not field.object_types.filter(pk=prefix_type.pk).exists():
            field.object_types.add(prefix_type)
        print(f"custom field {name}: {'created' if created else 'present'}")


def main():
    env = os.environ
    with transaction.atomic():
        user = ensure_superuser(env["NB_ADMIN_USER"], env["NB_ADMIN_PASSWORD"])
        ensure_tokens(user, env["NB_TOKEN_KEY"], env["NB_TOKEN_SECRET"], env["NB_TOKEN_V1"])
    ensure_prefix_custom_fields()
    print(f"superuser {user.username} and tokens ready")


if __name__ == "__main__":
    main()
