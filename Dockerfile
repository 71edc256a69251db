# One image for every process of the stack (see docker-compose.yml and the Procfile).
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# The code stays root-owned and read-only to the app; only collectstatic's target is its own
# (a named volume mounted there starts with this ownership).
RUN useradd --create-home --uid 1000 app \
    && mkdir -p /app/staticfiles \
    && chown app:app /app/staticfiles

ENV DJANGO_SETTINGS_MODULE=config.settings.base PYTHONUNBUFFERED=1

USER app

EXPOSE 8088

CMD ["gunicorn", "-c", "python:config.gunicorn", "config.wsgi", "--bind", "0.0.0.0:8088", "--workers", "2", "--threads", "128", "--graceful-timeout", "5"]
