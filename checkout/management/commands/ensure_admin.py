import os
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """Create the admin's first superuser, once; `admin` / `admin` only on a laptop.

    A fixed password is only safe where nobody else can reach the admin: `make run` on its own
    embedded servers with DEBUG on, which says so with --local. Anywhere else (DEBUG off,
    docker-compose, your own servers) the password is DJANGO_SUPERUSER_PASSWORD, or a random one
    printed here, when the user is created and never again.
    """

    help = (
        "Create a superuser if none exists: DJANGO_SUPERUSER_USERNAME (admin) with DJANGO_SUPERUSER_PASSWORD, "
        "else admin / admin with --local and DEBUG on, else a random password printed once."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--local",
            action="store_true",
            help="make run on its embedded servers: with DEBUG on, the password defaults to admin",
        )

    def handle(self, *args, local: bool = False, **options) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME") or "admin"
        password = os.environ.get("DJANGO_SUPERUSER_PASSWORD")
        if password:
            users.create_superuser(username, "", password)
            self.stdout.write(f"Created superuser {username!r} with the password of DJANGO_SUPERUSER_PASSWORD.")
        elif local and settings.DEBUG:
            users.create_superuser(username, "", "admin")
            self.stdout.write(f"Created superuser {username!r} with the password 'admin' (a local run only).")
        else:
            password = secrets.token_urlsafe(16)
            users.create_superuser(username, "", password)
            self.stdout.write(
                f"Created superuser {username!r} with the password {password} (shown this once: keep it, "
                f"or set another with `python manage.py changepassword {username}`)."
            )
