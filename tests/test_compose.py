"""docker-compose.yml's suite_ai services, run as compose would run them, without Docker.

The migrate, web, worker and beat services run their exact ``command`` with the environment the
container gets (the Dockerfile's ``ENV``, then the service's ``environment``, interpolated as
compose does) and their volume, after the image's build step that collects the static files. Only
what Docker itself would provide is stood in for, each rewrite named below:

- the ``postgres`` and ``redis`` services: DATABASE_URL, CELERY_BROKER_URL and REDIS_URL point at
  this machine's Postgres (a database created and dropped here) and Redis (two DB numbers);
- the container's filesystem: ``/data`` (the named volume) and ``/app/static`` (the image's
  collected files) are temporary directories, ``/app`` (WORKDIR) is this checkout;
- the network: the web listens on a free loopback port instead of 0.0.0.0:8000;
- the image's executables (python, celery, uvicorn): this virtualenv's, first on PATH.

Then a job is submitted through the web service and run by the worker, /metrics answers, the web's
healthcheck passes, and Swagger UI loads its assets from the image's collected static files.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import psycopg
import pytest
import redis
import yaml  # PyYAML: installed with uvicorn[standard] (requirements.txt), a runtime dependency

from tests.support.processes import ROOT, ManagedProcess, free_port
from tests.support.waiting import wait_for

pytestmark = pytest.mark.e2e

COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SUITE_AI_SERVICES = ("migrate", "web", "worker", "beat")

POSTGRES = "postgres://postgres@127.0.0.1:5432"
DATABASE = "suite_ai_compose_test"
REDIS = "redis://127.0.0.1:6379"
BROKER_DB, REDIS_DB = 13, 14
CONTAINER_PORT = 8000
# Without MISTRAL_API_KEY (compose's default is empty) summarize runs on the offline extractive engine.
MINUTES = (
    "# Conseil municipal\n\n"
    "La séance est ouverte à 10 heures par la présidente, qui rappelle l'ordre du jour.\n\n"
    "Le budget de la commune pour 2025 est adopté à l'unanimité des membres présents.\n\n"
    "La prochaine réunion du conseil aura lieu le 3 mars à la mairie.\n\n"
    "La séance est levée à midi après l'examen des questions diverses."
)
VENV_BIN = Path(sys.executable).parent


# --- Reading the compose file and the Dockerfile ---------------------------------------------------

_VARIABLE = re.compile(r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})")


class MissingVariable(Exception):
    pass


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's interpolation: ``$$``, ``${NAME}``, ``${NAME:-default}`` (unset or empty),
    ``${NAME-default}`` (unset), ``${NAME:?error}`` (unset or empty), ``${NAME?error}`` (unset)."""

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"] or ""
        present = name in variables
        value = variables.get(name, "")
        missing = not present or (op is not None and op.startswith(":") and value == "")
        if op in (":-", "-"):
            return arg if missing else value
        if op in (":?", "?"):
            if missing:
                raise MissingVariable(f"required variable {name} is missing a value: {arg}")
            return value
        return value

    return _VARIABLE.sub(substitute, value)


def interpolated(node: Any, variables: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, list):
        return [interpolated(item, variables) for item in node]
    if isinstance(node, dict):
        return {key: interpolated(value, variables) for key, value in node.items()}
    return node


def load_compose(variables: Mapping[str, str]) -> dict[str, Any]:
    """The compose file as compose sees it: YAML anchors and merge keys resolved, then every value
    interpolated (compose refuses the whole file when a required variable is missing)."""
    return interpolated(yaml.safe_load(COMPOSE_FILE.read_text()), variables)


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments left out."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, arguments = full.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    return instructions


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, arguments in dockerfile_instructions():
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def image_workdir() -> str:
    return next(arguments for keyword, arguments in dockerfile_instructions() if keyword == "WORKDIR")


def collectstatic_step() -> str:
    (step,) = [
        arguments
        for keyword, arguments in dockerfile_instructions()
        if keyword == "RUN" and "collectstatic" in arguments
    ]
    return step


# --- Standing in for Docker ------------------------------------------------------------------------


class Container:
    """Maps container paths to host directories and builds a service's environment."""

    def __init__(self, tmp: Path, volumes: list[str]) -> None:
        self.paths: dict[str, Path] = {image_workdir(): ROOT}
        static_root = image_env().get("SUITE_AI_STATIC_ROOT")
        if static_root:  # the image's collected files, not this checkout
            self.paths[static_root] = tmp / "image-static"
        for volume in volumes:
            source, target = volume.split(":")[:2]
            self.paths[target] = tmp / f"volume-{source}" if not source.startswith((".", "/")) else ROOT / source
            self.paths[target].mkdir(parents=True, exist_ok=True)

    def host_path(self, value: str) -> str:
        for container_path in sorted(self.paths, key=len, reverse=True):
            if value == container_path or value.startswith(container_path + "/"):
                return str(self.paths[container_path]) + value[len(container_path) :]
        return value

    def command(self, args: list[str]) -> list[str]:
        return [self.host_path(arg) for arg in args]

    def build_environment(self) -> dict[str, str]:
        """What a RUN step of the Dockerfile sees: the image's ENV, nothing of compose's."""
        env = {name: self.host_path(value) for name, value in image_env().items()}
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}"
        return env

    def environment(self, service_env: Mapping[str, Any]) -> dict[str, str]:
        """What a service's container sees: the image's ENV, then the service's environment."""
        env = self.build_environment()
        for name, value in service_env.items():
            env[name] = self.host_path("" if value is None else str(value))
        env.update(
            DATABASE_URL=f"{POSTGRES}/{DATABASE}",
            CELERY_BROKER_URL=f"{REDIS}/{BROKER_DB}",
            REDIS_URL=f"{REDIS}/{REDIS_DB}",
        )
        return env


def published(command: list[str], port: int) -> list[str]:
    """The command listening on loopback at ``port`` instead of the container's 0.0.0.0:8000."""
    rewritten = []
    for arg in command:
        local = arg.replace("0.0.0.0", "127.0.0.1")
        rewritten.append(
            str(port) if local == str(CONTAINER_PORT) else local.replace(f":{CONTAINER_PORT}/", f":{port}/")
        )
    return rewritten


# --- The machine's Postgres and Redis --------------------------------------------------------------


def _servers_answer() -> str | None:
    try:
        with psycopg.connect(f"{POSTGRES}/postgres", connect_timeout=3):
            pass
    except psycopg.Error as error:
        return f"no Postgres at {POSTGRES} ({type(error).__name__})"
    try:
        redis.Redis.from_url(f"{REDIS}/0", socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        return f"no Redis at {REDIS} ({type(error).__name__})"
    return None


def _reset_servers() -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    for number in (BROKER_DB, REDIS_DB):
        redis.Redis.from_url(f"{REDIS}/{number}").flushdb()


@pytest.fixture
def servers() -> Iterator[None]:
    missing = _servers_answer()
    if missing:
        pytest.fail(missing)
    _reset_servers()
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{DATABASE}"')
    yield
    _reset_servers()


# --- Tests -----------------------------------------------------------------------------------------


def test_compose_refuses_to_start_without_a_secret_key():
    with pytest.raises(MissingVariable, match="DJANGO_SECRET_KEY is missing a value: set DJANGO_SECRET_KEY"):
        load_compose({})
    with pytest.raises(MissingVariable, match="DJANGO_SECRET_KEY"):
        load_compose({"DJANGO_SECRET_KEY": ""})
    services = load_compose({"DJANGO_SECRET_KEY": "k" * 50})["services"]
    for name in SUITE_AI_SERVICES:
        assert services[name]["environment"]["DJANGO_SECRET_KEY"] == "k" * 50


def test_the_interpolation_reads_as_compose_does():
    variables = {"SET": "value", "EMPTY": ""}
    assert interpolate("${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} $${SET}", variables) == "value d  d ${SET}"
    with pytest.raises(MissingVariable, match="UNSET is missing a value: why"):
        interpolate("${UNSET?why}", variables)
    assert interpolate("${EMPTY?why}", variables) == ""


def test_the_compose_services_run_as_written(servers, tmp_path):
    variables = {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    services = load_compose(variables)["services"]
    container = Container(tmp_path, services["web"]["volumes"])
    for name in SUITE_AI_SERVICES:  # one image, one environment, one volume
        assert services[name]["volumes"] == services["web"]["volumes"]
    env = container.environment(services["web"]["environment"])
    assert env["PROMETHEUS_MULTIPROC_DIR"].startswith(str(tmp_path))
    assert not Path(env["PROMETHEUS_MULTIPROC_DIR"]).exists()  # nothing creates it before the services

    # The image's build step, with the image's environment.
    build_env = container.build_environment()
    built = subprocess.run(
        ["sh", "-c", collectstatic_step()], env=build_env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    static_root = Path(build_env["SUITE_AI_STATIC_ROOT"])
    assert (static_root / "staticfiles.json").is_file()

    processes: list[ManagedProcess] = []

    def run(name: str, command: list[str]) -> ManagedProcess:
        service_env = container.environment(services[name]["environment"])
        process = ManagedProcess(name, container.command(command), service_env, tmp_path)
        processes.append(process)
        return process

    try:
        migrate = run("migrate", services["migrate"]["command"])
        assert migrate.process.wait(timeout=300) == 0, migrate.log()[-4000:]  # service_completed_successfully

        port = free_port()
        web = run("web", published(services["web"]["command"], port))
        run("worker", services["worker"]["command"])
        beat = run("beat", services["beat"]["command"])
        url = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                return httpx.get(f"{url}/health/live", timeout=2).status_code == 200
            except httpx.HTTPError:
                assert web.process.poll() is None, web.log()[-4000:]
                return False

        wait_for(answers, timeout=120, interval=0.2)

        # The web's healthcheck (its CMD, as Docker runs it) passes once the worker beats.
        healthcheck = services["web"]["healthcheck"]["test"]
        assert healthcheck[0] == "CMD"
        check_env = container.environment(services["web"]["environment"])

        def healthy() -> bool:
            return (
                subprocess.run(published(healthcheck[1:], port), env=check_env, cwd=ROOT, check=False).returncode == 0
            )

        wait_for(healthy, timeout=120, interval=0.5)

        token = subprocess.run(
            ["python", "manage.py", "create_token", "alice"],
            env=container.environment(services["web"]["environment"]),
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        submitted = httpx.post(
            f"{url}/api/v1.0/documents/1b0b5a9e-3f3c-4a57-9f44-5b1f2a0a7e11/actions/",
            json={"action": "summarize", "input": {"markdown": MINUTES}},
            headers=headers,
            timeout=30,
        )
        assert submitted.status_code == 202, submitted.text

        def finished() -> dict[str, Any] | None:
            job = httpx.get(submitted.json()["links"]["self"], headers=headers, timeout=10).json()
            return job if job["status"] in {"succeeded", "failed", "cancelled"} else None

        job = wait_for(finished, timeout=120, interval=0.2)
        assert job["status"] == "succeeded", job["error"]
        assert "budget de la commune" in job["result"]["markdown"]  # the offline engine's summary

        scrape = httpx.get(f"{url}/metrics", timeout=10)
        assert scrape.status_code == 200
        assert 'suite_ai_jobs_submitted_total{action="summarize"} 1.0' in scrape.text
        assert 'suite_ai_jobs_finished_total{action="summarize",status="succeeded"} 1.0' in scrape.text

        swagger = httpx.get(f"{url}/api/v1.0/swagger/", timeout=10)
        assert swagger.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', swagger.text)
        assert len(assets) >= 4
        for asset in assets:
            response = httpx.get(urljoin(f"{url}/api/v1.0/swagger/", asset), timeout=10)
            assert response.status_code == 200, asset
            assert not urlsplit(asset).netloc
            # Hashed names from the image's manifest: browsers may keep them for good.
            assert "immutable" in response.headers["cache-control"], (asset, response.headers["cache-control"])

        ready = httpx.get(f"{url}/health/ready", timeout=10).json()
        assert ready["checks"] == {"database": "ok", "broker": "ok", "worker": "ok"}
        beat.wait_for_log("beat: Starting")
        for process in processes[1:]:
            assert process.process.poll() is None, f"{process.name} exited:\n{process.log()[-4000:]}"
    finally:
        for process in reversed(processes):
            process.stop()
