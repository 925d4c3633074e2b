"""CPU per job of the job engine's frequent writes: hand-written SQL against the ORM, on Postgres.

The statements measured are the ones a job writes on every run (the atomic claim is not among
them: it stays one ``UPDATE … RETURNING`` whatever this says):

- the submitted job (web): ``INSERT`` of a ``Job`` row, in autocommit as a submission runs it;
- a job event, four per job (``running``, first delta, last delta, done): ``INSERT`` of a ``JobEvent``;
- the job's model call (one per single-call job): ``INSERT`` of a ``ModelCall`` row;
- the success: one conditional ``UPDATE`` of the job (status, result, usage, full progress);
- two reads, timed for turning a row into a model instance: the claimed job's row (worker; the
  bench reads it with a ``SELECT`` of the columns the claim's ``RETURNING`` gives, so that it can
  read the same row again), and the user of an API token (web, every request with a local token);
  ``suite_ai.prebuilt_sql`` against ``Model.objects.raw()`` and the ORM's ``select_related`` join.

Both variants of each statement are defined here: the hand-written SQL (as
``suite_ai/jobs/services.py`` has it for events and the success, and had it for the two inserts
that went back to the ORM) and the ORM call it stands for. The bench first checks that both write
the same rows. Then every round runs each (statement, variant) once, in a shuffled order, as a
batch of ``--batch`` statements (worker statements inside one transaction, as the worker's final
transaction holds them), and the figure is the median over rounds of the CPU of this process per
statement (Django + psycopg: the client side, what the service pays).

Usage: .venv/bin/python bench/db_bench.py [--database-url postgres://…/suite_ai_bench_sql] [--rounds 15]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.performance_doc import sql_block  # noqa: E402

# Statements per job, to turn a difference per statement into a difference per job.
PER_JOB = {
    "job insert (web)": 1, "event insert": 4, "model call insert": 1, "success update": 1,
    "claimed job read (worker)": 1, "token user read (web)": 1,
}  # fmt: skip
RESULT = {"markdown": "Le comité a validé l'ouverture à trois ministères. " * 8, "blocks": [{"type": "paragraph"}] * 3}
USAGE = {"model": "mistral-small-latest", "prompt_tokens": 412, "completion_tokens": 96, "calls": 1}


def setup_django(database_url: str) -> None:
    base, name = database_url.rsplit("/", 1)
    subprocess.run(["psql", base + "/postgres", "-qc", f"create database {name}"], check=False, capture_output=True)
    env = {
        "DJANGO_SETTINGS_MODULE": "suite_ai.settings",
        "DJANGO_SECRET_KEY": "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        "SUITE_AI_DATA_DIR": str(ROOT / "var" / "bench" / "db-data"),
        "DATABASE_URL": database_url,
        "SUITE_AI_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=dict(os.environ), cwd=ROOT, check=True)
    import django

    django.setup()


def variants() -> dict[str, dict[str, Callable[..., Any]]]:
    """{statement: {"raw SQL": …, "ORM": …}}, every function taking the same arguments."""
    from django.db import connection
    from django.db.models import F, Model
    from django.db.models.fields import AutoFieldMixin
    from django.db.models.functions import Greatest
    from django.utils import timezone

    from suite_ai import prebuilt_sql
    from suite_ai.accounts.models import ApiToken, User, hash_token
    from suite_ai.accounts.services import user_for_api_token
    from suite_ai.jobs.models import Job, JobEvent, JobStatus, ModelCall

    @functools.cache
    def job_read_sql() -> str:
        quote = connection.ops.quote_name
        owner = f"(SELECT {{}} FROM {quote(User._meta.db_table)} AS u WHERE u.id = {quote('owner_id')})"
        return (
            f"SELECT {prebuilt_sql.columns(Job)}, {owner.format('sub')} AS owner_sub, {owner.format('email')}"
            f" AS owner_email FROM {quote(Job._meta.db_table)} WHERE id = %s"
        )

    def raw_job_read(job_id: uuid.UUID) -> Any:
        with connection.cursor() as cursor:
            cursor.execute(job_read_sql(), [job_id])
            row = cursor.fetchone()
        job = prebuilt_sql.from_row(Job, row)
        job.owner = User.from_db(connection.alias, ["id", "sub", "email"], [job.owner_id, *row[-2:]])
        return job

    def orm_job_read(job_id: uuid.UUID) -> Any:
        job = next(iter(Job.objects.raw(job_read_sql(), [job_id])))
        owner = [job.owner_id, getattr(job, "owner_sub"), getattr(job, "owner_email")]  # noqa: B009
        job.owner = User.from_db(connection.alias, ["id", "sub", "email"], owner)
        return job

    def orm_token_user(token: str) -> Any:
        api_token = ApiToken.objects.select_related("user").filter(token_hash=hash_token(token)).first()
        return api_token.user if api_token is not None else None

    @functools.cache
    def insert_sql(table: str, columns: tuple[str, ...]) -> str:
        quote = connection.ops.quote_name
        names = ", ".join(quote(column) for column in columns)
        return f"INSERT INTO {quote(table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"

    def raw_insert_rows(rows: Sequence[Model]) -> None:
        meta = rows[0]._meta
        fields = [f for f in meta.local_concrete_fields if not (f.primary_key and isinstance(f, AutoFieldMixin))]
        sql = insert_sql(meta.db_table, tuple(f.column for f in fields))
        params = [[f.get_db_prep_save(f.pre_save(row, True), connection) for f in fields] for row in rows]
        with connection.cursor() as cursor:
            if len(params) == 1:
                cursor.execute(sql, params[0])
            else:
                cursor.executemany(sql, params)
        for row in rows:
            row._state.adding = False
            row._state.db = connection.alias

    def raw_emit(job_id: uuid.UUID, kind: str, data: dict[str, Any]) -> None:
        values = [
            JobEvent._meta.get_field("job").get_db_prep_value(job_id, connection),
            kind,
            JobEvent._meta.get_field("data").get_db_prep_value(data, connection),
            connection.ops.adapt_datetimefield_value(timezone.now()),
        ]
        with connection.cursor() as cursor:
            cursor.execute(insert_sql(JobEvent._meta.db_table, ("job_id", "kind", "data", "created_at")), values)

    @functools.cache
    def succeed_sql() -> str:
        quote = connection.ops.quote_name
        at_least_one = f"CASE WHEN {quote('progress_total')} > 1 THEN {quote('progress_total')} ELSE 1 END"
        assignments = ", ".join(
            [f"{quote(column)} = %s" for column in ("status", "result", "usage", "prompt_version", "finished_at")]
            + [f"{quote('credentials')} = ''", f"{quote('progress_total')} = {at_least_one}"]
            + [f"{quote('progress_done')} = {at_least_one}"]
        )
        return (
            f"UPDATE {quote(Job._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s AND {quote('status')} = %s"
        )

    def raw_succeed(job_id: uuid.UUID) -> bool:
        params = [
            JobStatus.SUCCEEDED,
            Job._meta.get_field("result").get_db_prep_save(RESULT, connection),
            Job._meta.get_field("usage").get_db_prep_save(USAGE, connection),
            "rephrase@3",
            connection.ops.adapt_datetimefield_value(timezone.now()),
            Job._meta.get_field("id").get_db_prep_save(job_id, connection),
            JobStatus.RUNNING,
        ]
        with connection.cursor() as cursor:
            cursor.execute(succeed_sql(), params)
            return cursor.rowcount == 1

    def orm_succeed(job_id: uuid.UUID) -> bool:
        at_least_one = Greatest(F("progress_total"), 1)
        return (
            Job.objects.filter(id=job_id, status=JobStatus.RUNNING).update(
                status=JobStatus.SUCCEEDED,
                result=RESULT,
                usage=USAGE,
                prompt_version="rephrase@3",
                finished_at=timezone.now(),
                credentials="",
                progress_total=at_least_one,
                progress_done=at_least_one,
            )
            == 1
        )

    return {
        "job insert (web)": {
            "raw SQL": lambda fields: raw_insert_rows([Job(**fields)]),
            "ORM": lambda fields: Job.objects.create(**fields),
        },
        "event insert": {
            "raw SQL": raw_emit,
            "ORM": lambda job_id, kind, data: JobEvent.objects.create(job_id=job_id, kind=kind, data=data),
        },
        "model call insert": {
            "raw SQL": lambda fields: raw_insert_rows([ModelCall(**fields)]),
            "ORM": lambda fields: ModelCall.objects.create(**fields),
        },
        "success update": {"raw SQL": raw_succeed, "ORM": orm_succeed},
        "claimed job read (worker)": {"raw SQL": raw_job_read, "ORM": orm_job_read},
        "token user read (web)": {"raw SQL": user_for_api_token, "ORM": orm_token_user},
    }


class Fixtures:
    """Rows the statements need, made outside the timed part."""

    def __init__(self) -> None:
        from suite_ai.accounts.models import User
        from suite_ai.accounts.services import create_api_token

        self.owner, _ = User.objects.get_or_create(sub="db-bench", defaults={"email": "bench@example.gouv.fr"})
        self.tokens = [create_api_token(f"db-bench-{index}") for index in range(50)]

    def job_fields(self) -> dict[str, Any]:
        from django.utils import timezone

        return {
            "owner": self.owner,
            "document_id": uuid.uuid4(),
            "action": "rephrase",
            "options": {},
            "input": {"markdown": "Texte à reformuler. " * 10},
            "input_hash": "0" * 64,
            "idempotency_key": None,
            "note_id": None,
            "credentials": "",
            "enqueued_at": timezone.now(),
        }

    def running_jobs(self, count: int) -> list[uuid.UUID]:
        from django.utils import timezone

        from suite_ai.jobs.models import Job, JobStatus

        now = timezone.now()
        jobs = [Job(**self.job_fields(), status=JobStatus.RUNNING, started_at=now, attempts=1) for _ in range(count)]
        Job.objects.bulk_create(jobs)
        return [job.id for job in jobs]

    def model_call_fields(self, job_id: uuid.UUID) -> dict[str, Any]:
        return {
            "job_id": job_id,
            "owner_id": self.owner.id,
            "document_id": uuid.uuid4(),
            "model": "mistral-small-latest",
            "prompt_tokens": 412,
            "completion_tokens": 96,
            "latency_ms": 2004,
            "ttft_ms": 2001,
        }


def check_same_rows(table: dict[str, dict[str, Callable[..., Any]]], fixtures: Fixtures) -> None:
    """Both variants of each statement write the same row (ids and times aside)."""
    from django.forms.models import model_to_dict

    from suite_ai.jobs.models import Job, JobEvent, ModelCall

    ignored = {"id", "created_at", "finished_at", "document_id", "enqueued_at", "started_at", "job"}

    def row(instance: Any) -> dict[str, Any]:
        return {k: v for k, v in model_to_dict(instance).items() if k not in ignored}

    jobs, events, calls, succeeded = [], [], [], []
    for variant in ("raw SQL", "ORM"):
        fields = fixtures.job_fields()
        table["job insert (web)"][variant](fields)
        jobs.append(row(Job.objects.get(document_id=fields["document_id"])))
        (job_id,) = fixtures.running_jobs(1)
        table["event insert"][variant](job_id, "delta", {"text": "Bonjour « à tous »"})
        events.append(row(JobEvent.objects.get(job_id=job_id)))
        table["model call insert"][variant](fixtures.model_call_fields(job_id))
        calls.append(row(ModelCall.objects.get(job_id=job_id)))
        assert table["success update"][variant](job_id)
        succeeded.append(row(Job.objects.get(id=job_id)))
    for name, pair in (("job", jobs), ("event", events), ("model call", calls), ("success", succeeded)):
        assert pair[0] == pair[1], f"{name}: {pair[0]} != {pair[1]}"

    def columns(instance: Any) -> dict[str, Any]:
        values = {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}
        return {name: (type(value), value) for name, value in values.items()}

    (job_id,) = fixtures.running_jobs(1)
    for statement, argument in (("claimed job read (worker)", job_id), ("token user read (web)", fixtures.tokens[0])):
        read = [table[statement][variant](argument) for variant in ("raw SQL", "ORM")]
        assert columns(read[0]) == columns(read[1]), f"{statement}: {read[0]} != {read[1]}"


def timed_batch(statement: str, function: Callable[..., Any], fixtures: Fixtures, batch: int) -> float:
    """CPU milliseconds of this process per statement, over one batch."""
    from django.db import transaction

    arguments: list[tuple[Any, ...]]
    if statement == "job insert (web)":
        arguments = [(fixtures.job_fields(),) for _ in range(batch)]
    elif statement == "token user read (web)":
        arguments = [(fixtures.tokens[index % len(fixtures.tokens)],) for index in range(batch)]
    else:
        job_ids = fixtures.running_jobs(batch)
        if statement == "event insert":
            arguments = [(job_id, "delta", {"text": "Le comité a validé. "}) for job_id in job_ids]
        elif statement == "model call insert":
            arguments = [(fixtures.model_call_fields(job_id),) for job_id in job_ids]
        else:
            arguments = [(job_id,) for job_id in job_ids]
    started = time.process_time()
    if statement.endswith("(web)"):  # a request: autocommit, no transaction around it
        for args in arguments:
            function(*args)
    else:  # the worker's final transaction
        with transaction.atomic():
            for args in arguments:
                function(*args)
    return (time.process_time() - started) / batch * 1000


def measure(rounds: int, batch: int, seed: int) -> dict[str, Any]:
    from suite_ai.jobs.models import Job

    table = variants()
    fixtures = Fixtures()
    check_same_rows(table, fixtures)
    configs = [(statement, variant) for statement, pair in table.items() for variant in pair]
    for statement, variant in configs:  # warm-up
        timed_batch(statement, table[statement][variant], fixtures, 20)
    samples: dict[tuple[str, str], list[float]] = {config: [] for config in configs}
    rng = random.Random(seed)
    for _ in range(rounds):
        rng.shuffle(configs)
        for statement, variant in configs:
            samples[(statement, variant)].append(timed_batch(statement, table[statement][variant], fixtures, batch))
        Job.objects.filter(owner=fixtures.owner).delete()  # the table stays small, as after a purge
    results: dict[str, Any] = {}
    for statement in table:
        raw, orm = samples[(statement, "raw SQL")], samples[(statement, "ORM")]
        ratios = [o / r for o, r in zip(orm, raw, strict=True)]
        results[statement] = {
            "raw_ms": statistics.median(raw),
            "orm_ms": statistics.median(orm),
            "orm_over_raw_median": statistics.median(ratios),
            "orm_over_raw_min": min(ratios),
            "orm_over_raw_max": max(ratios),
            "per_job": PER_JOB[statement],
            "orm_extra_ms_per_job": statistics.median(
                [(o - r) * PER_JOB[statement] for o, r in zip(orm, raw, strict=True)]
            ),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/suite_ai_bench_sql")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    setup_django(args.database_url)
    results = measure(args.rounds, args.batch, args.seed)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print()
    print(sql_block(results))


if __name__ == "__main__":
    main()
