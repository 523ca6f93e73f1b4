# syntax=docker/dockerfile:1
# Switchboard: one image for every process role (web, worker, beat, migrate); the command picks the role.
# No secret is baked in: SECRET_KEY, DATABASE_URL, REDIS_URL... come from the environment at run time.

FROM python:3.12-slim-bookworm AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements.txt .
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --requirement requirements.txt
COPY . /app
WORKDIR /app
# collectstatic only imports the settings: a throwaway key for this one command, not kept in the image.
RUN SECRET_KEY=collectstatic-only DEBUG=false ALLOWED_HOSTS=localhost \
    /opt/venv/bin/python manage.py collectstatic --noinput \
    && if find . -name '*.po' -not -path './.venv/*' | grep -q .; then \
         /opt/venv/bin/python manage.py compilemessages; fi

FROM python:3.12-slim-bookworm AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 DEBUG=false
RUN groupadd --system --gid 10001 switchboard \
    && useradd --system --uid 10001 --gid switchboard --home-dir /app switchboard
COPY --from=build /opt/venv /opt/venv
COPY --from=build --chown=10001:10001 /app /app
WORKDIR /app
RUN mkdir -p /app/var && chown 10001:10001 /app/var
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# SIGTERM: uvicorn stops accepting, lets requests in flight finish for up to 30 s, then exits.
# 4 workers: two per core of a 2-core host (README "Processes and scaling out": each runs Django's synchronous code
# on one thread, so a second process per core keeps the sockets moving while the first waits on PostgreSQL).
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", \
     "--timeout-graceful-shutdown", "30", "--proxy-headers", "--no-access-log"]
