"""Prepare the provider's state: an RSA signing key, the database, one client and the platform's users.

    OIDC_PROVIDER_DIR=… python -m tests.oidc_provider.bootstrap '<json>'

The JSON gives {"client_id", "client_secret", "redirect_uri", "users": [{"username", "password", "name",
"id_number"}]}.
"""

import json
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def main(config):
    state = Path(os.environ["OIDC_PROVIDER_DIR"])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (state / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.oidc_provider.settings")
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    for person in config["users"]:
        user = User(username=person["username"], first_name=person["name"], last_name=person.get("id_number", ""))
        user.set_password(person["password"])
        user.save()
    Application.objects.create(
        name="Henan e-Services",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=config["redirect_uri"],
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
