import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "In DEBUG, create a superuser (DJANGO_SUPERUSER_USERNAME/PASSWORD, default admin/admin) if none exists."

    def handle(self, *args, **options) -> None:
        users = get_user_model().objects
        if users.filter(is_superuser=True).exists():
            return
        if not settings.DEBUG:
            self.stdout.write("No superuser yet: create one with `manage.py createsuperuser`.")
            return
        username = os.environ.get("DJANGO_SUPERUSER_USERNAME", "admin")
        users.create_superuser(username, "", os.environ.get("DJANGO_SUPERUSER_PASSWORD", "admin"))
        self.stdout.write(f"Created superuser {username!r} for the admin.")
