# suite_ai — one image for the web server, the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim

# SUITE_AI_STATIC_ROOT: the static files (Swagger UI, ReDoc, the admin) are collected into the image
# below and served from there by the app itself (whitenoise): not under /data, where a volume would
# hide them or keep an older release's.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SUITE_AI_DATA_DIR=/data \
    SUITE_AI_STATIC_ROOT=/app/static

WORKDIR /app
# The runtime lock alone first: this layer is rebuilt only when the lock changes, not on every code edit.
COPY requirements.txt ./requirements.txt
RUN pip install --require-hashes -r requirements.txt
COPY pyproject.toml README.md manage.py ./
COPY suite_ai ./suite_ai
# --no-deps: the lock above is the whole dependency set; nothing is resolved here.
RUN pip install --no-deps . && useradd --system --uid 1001 suite_ai && mkdir -p /data && chown suite_ai /data && chmod 0700 /data
# Loading the settings needs a data directory (and, with none configured, makes a secret key in it):
# a throwaway one, so that nothing of it stays in the image. The settings make every file a process
# creates private (umask 077, for the data directory): the collected files are then opened to all,
# since the service runs as another user than this build step.
RUN data="$(mktemp -d)" \
    && SUITE_AI_DATA_DIR="$data" python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf "$data" && chmod -R a+rX "$SUITE_AI_STATIC_ROOT"

USER suite_ai
EXPOSE 8000
# --http: uvicorn's protocol with limits on slow or oversized requests (suite_ai/web_server.py).
CMD ["uvicorn", "suite_ai.asgi:application", "--http", "suite_ai.web_server:LimitedHttpToolsProtocol", "--host", "0.0.0.0", "--port", "8000", "--no-access-log"]
