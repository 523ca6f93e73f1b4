"""The ceilings for ``bench/api_ingest.py`` and ``bench/email_ingest.py``: the least a Django view on this stack does.

One view runs a bare ``INSERT INTO bench_ceiling … RETURNING id``, the other a bare ``SELECT … LIMIT 50``
of queued interactions (the query at the heart of the list endpoint), ``/ingest-raw`` a bare INSERT of a raw
e-mail's bytes into ``bench_email_ceiling`` (what an e-mail endpoint must do at least). Same ASGI server, DEBUG off, the same
database and the same psycopg pool settings as ``config.settings.base``, but no middleware, no auth, no
serializers: what the API costs beyond these numbers is our code and its queries.

Serve: ``DATABASE_URL=… SECRET_KEY=… uvicorn bench.ceiling_app:application`` (the benchmark does it), or
``gunicorn bench.ceiling_app:wsgi_application`` for WSGI.
"""

import json

import environ
from django.conf import settings

env = environ.Env()

if not settings.configured:
    database = env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/bench_api_ingest")
    pool_size = env.int("DATABASE_POOL_MAX_SIZE", default=20)
    database["CONN_MAX_AGE"] = 0
    if pool_size > 0:
        database.setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=2),
            "max_size": pool_size,
            "timeout": env.int("DATABASE_POOL_TIMEOUT", default=10),
        }
    settings.configure(
        DEBUG=False,
        SECRET_KEY=env.str("SECRET_KEY"),
        ALLOWED_HOSTS=env.list("ALLOWED_HOSTS", default=["127.0.0.1"]),
        ROOT_URLCONF=__name__,
        DATABASES={"default": database},
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        USE_TZ=True,
    )

from django.core.asgi import get_asgi_application  # noqa: E402  (needs the settings above)
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402


def ingest(request: HttpRequest) -> JsonResponse:
    if request.method != "POST":
        return JsonResponse({"detail": "POST only."}, status=405)
    try:
        payload = json.loads(request.body)
    except ValueError:
        return JsonResponse({"detail": "JSON body expected."}, status=400)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_ceiling (payload, created_at) VALUES (%s, now()) RETURNING id", [json.dumps(payload)]
        )
        (new_id,) = cursor.fetchone()
    return JsonResponse({"id": new_id}, status=201)


def ingest_raw(request: HttpRequest) -> JsonResponse:
    """The e-mail ceiling (``bench/email_ingest.py``): the raw message stored as it came, nothing read from it."""
    if request.method != "POST":
        return JsonResponse({"detail": "POST only."}, status=405)
    raw = request.read()
    if not raw:
        return JsonResponse({"detail": "The body is empty."}, status=400)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_email_ceiling (raw, received_at) VALUES (%s, now()) RETURNING id", [raw])
        (new_id,) = cursor.fetchone()
    return JsonResponse({"id": new_id}, status=201)


def listing(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, subject, status, priority, created_at FROM crm_interaction"
            " WHERE status = 'queued' ORDER BY id DESC LIMIT 50"
        )
        rows = cursor.fetchall()
    results = [
        {"id": i, "subject": subject, "status": status, "priority": priority, "created_at": created.isoformat()}
        for i, subject, status, priority, created in rows
    ]
    return JsonResponse({"next": None, "previous": None, "results": results})


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [path("ingest", ingest), path("ingest-raw", ingest_raw), path("list", listing), path("healthz", healthz)]

application = get_asgi_application()
# the same views for a WSGI server (bench/create_vs_helpdesk.py compares ASGI and WSGI)
wsgi_application = get_wsgi_application()
