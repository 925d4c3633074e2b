"""The plain libraries load no framework; Django processes still publish through suite_ai's Celery app.

Each check runs in a fresh interpreter: this test process has long imported Django and Celery.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("django", "celery", "kombu", "rest_framework")


def run_python(code: str, **env: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_importing_the_libraries_loads_no_framework() -> None:
    loaded = run_python(
        "import suite_ai.blocknote, suite_ai.llm, suite_ai.lasuite_docs; import sys; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {set(FRAMEWORKS)!r}))"
    )
    assert loaded == "[]"


def test_the_libraries_still_work_without_django_settings() -> None:
    """Not only importable: a round trip through each library's entry point needs no configuration."""
    out = run_python(
        "import json, suite_ai.blocknote as bn, suite_ai.llm as llm, suite_ai.lasuite_docs as docs; "
        "update = bn.markdown_to_update('# Titre\\n\\nUn paragraphe.'); "
        "print(json.dumps(bn.update_to_markdown(update).markdown))",
        DJANGO_SETTINGS_MODULE="",
    )
    assert json.loads(out) == "# Titre\n\nUn paragraphe."


def test_a_django_process_enqueues_through_the_suite_ai_celery_app(tmp_path: Path) -> None:
    """Without ``JobsConfig.ready`` loading suite_ai.celery, ``run_job.apply_async`` would publish
    through Celery's default app (AMQP on localhost, default queue) and no worker would see it."""
    out = run_python(
        "import json, django; django.setup(); import sys; "
        "from suite_ai.jobs.tasks import run_job; app = run_job.app; "
        "print(json.dumps([app.main, app.conf.task_default_queue, 'suite_ai.celery' in sys.modules]))",
        DJANGO_SETTINGS_MODULE="suite_ai.settings",
        SUITE_AI_DATA_DIR=str(tmp_path),
        DJANGO_SECRET_KEY="k" * 50,
    )
    assert json.loads(out) == ["suite_ai", "suite_ai", True]
