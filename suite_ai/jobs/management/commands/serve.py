"""``manage.py serve``: the web server, a Celery worker and beat, in the foreground, stopped together.

This is what ``make run`` starts. In production each part runs in its own container instead
(see docker-compose.yml), with the same commands this one spawns.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


def worker_command(concurrency: int) -> list[str]:
    # Threads: a job waits on the model >99% of its time, so one process holds hundreds of calls.
    return [
        sys.executable, "-m", "celery", "-A", "suite_ai.celery", "worker",
        "--pool", "threads", "--concurrency", str(concurrency),
        "--queues", settings.CELERY_TASK_DEFAULT_QUEUE,
        "--without-gossip", "--without-mingle", "--loglevel", "INFO",
    ]  # fmt: skip


def beat_command() -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "suite_ai.celery", "beat",
        "--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME, "--loglevel", "INFO",
    ]  # fmt: skip


def web_command(host: str, port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "uvicorn", "suite_ai.asgi:application",
        "--host", host, "--port", str(port), "--workers", str(workers),
        "--no-access-log", "--timeout-graceful-shutdown", "5",
    ]  # fmt: skip


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and Celery beat together in the foreground."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "1")))
        parser.add_argument("--concurrency", type=int, default=settings.SUITE_AI_WORKER_CONCURRENCY)

    def handle(self, *args: Any, **options: Any) -> None:
        env = dict(os.environ)
        metrics_dir = env.get("PROMETHEUS_MULTIPROC_DIR") or str(settings.DATA_DIR / "metrics")
        shutil.rmtree(metrics_dir, ignore_errors=True)
        os.makedirs(metrics_dir, exist_ok=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        commands = {
            "web": web_command(options["host"], options["port"], options["web_workers"]),
            "worker": worker_command(options["concurrency"]),
            "beat": beat_command(),
        }
        children = {name: subprocess.Popen(command, env=env) for name, command in commands.items()}
        self.stdout.write(f"suite_ai on http://{options['host']}:{options['port']}/api/v1.0/ (Ctrl-C stops)")

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, child in children.items():
                if child.poll() is not None:
                    self.stderr.write(f"{name} exited with status {child.returncode}; stopping the others")
                    exit_code = child.returncode or 1
                    stopping = True
            time.sleep(0.2)
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for child in children.values():
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        sys.exit(exit_code)
