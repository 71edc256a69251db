import os

from django.core.wsgi import get_wsgi_application

from config.door import Door

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = Door(get_wsgi_application())  # saga starts the web cannot answer in time are turned away first

from config.checks import fail_on_saga_errors  # noqa: E402 - needs the application's settings loaded

fail_on_saga_errors()
