"""Run by tests/test_sentry.py in a process of its own, with SENTRY_DSN in its environment: the
settings initialise Sentry as in production, then a view and a job crash on document text.
Prints what the caller and the job's owner were told, as JSON."""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import uuid
from wsgiref.simple_server import WSGIRequestHandler, make_server

import django

SECRET_TEXT = "Rapport confidentiel : la préfecture ferme le site de Brest."
SECRET_TOKEN = "sai_do-not-report-this-token"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    django.setup()

    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.test.utils import override_settings, setup_test_environment
    from django.utils import timezone

    import suite_ai.urls  # noqa: F401  (every view and what it imports, as a web process has them)
    from suite_ai import error_reporting
    from suite_ai.accounts.models import User
    from suite_ai.jobs import runner
    from suite_ai.jobs.models import Job

    setup_test_environment()
    outcome: dict[str, object] = {"enabled": error_reporting.enabled(), "sdk_imported": "sentry_sdk" in sys.modules}

    # Through Django's WSGI handler on a real socket, as the web process serves the API (Sentry
    # hooks that handler: the test client would bypass what it records of the request).
    with override_settings(ROOT_URLCONF="tests.support.crash_urls"):
        server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=QuietHandler)
        threading.Thread(target=server.handle_request, daemon=True).start()
        connection = http.client.HTTPConnection("127.0.0.1", server.server_port, timeout=30)
        connection.request(
            "POST",
            "/crash/?document=42",
            body=json.dumps({"markdown": SECRET_TEXT}).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {SECRET_TOKEN}",
                "Cookie": f"sessionid={SECRET_TOKEN}",
                "X-Suite-AI-User-Email": "agent@interieur.gouv.fr",
                "User-Agent": "probe",
            },
        )
        response = connection.getresponse()
        outcome["view"] = {"status": response.status, "body": json.loads(response.read())}
        server.server_close()

    # A job crashing in a worker on its document.
    call_command("migrate", verbosity=0)
    owner = User.objects.create(sub="agent", email="agent@interieur.gouv.fr")
    job = Job.objects.create(
        owner=owner,
        enqueued_at=timezone.now(),
        document_id=uuid.uuid4(),
        action="summarize",
        input={"markdown": SECRET_TEXT},
        input_hash="h",
    )

    def crash(context: object) -> None:
        raise ValueError(f"unexpected block in {SECRET_TEXT!r}")

    runner.execute = crash  # type: ignore[assignment]
    outcome["job"] = {"outcome": runner.run(str(job.id), "probe-worker")}
    job.refresh_from_db()
    outcome["job"]["error"] = {"code": job.error_code, "message": job.error_message}  # type: ignore[index]

    import sentry_sdk

    sentry_sdk.flush(timeout=10)
    json.dump(outcome, sys.stdout)


if __name__ == "__main__":
    main()
