"""Test settings: the production settings, with state in a throwaway data directory.

Environment defaults are set before the real settings load, so the worker processes the
end-to-end tests start (which inherit this environment) see the same configuration.
"""

import os
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent
# One data directory per test session, so two sessions on one machine never share a database.
os.environ.setdefault("SUITE_AI_DATA_DIR", str(_ROOT / "var" / "test" / str(os.getpid())))
os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("SUITE_AI_LOG_LEVEL", "WARNING")

from suite_ai.settings import *  # noqa: E402,F403
from suite_ai.settings import DATA_DIR, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not ":memory:", so that worker processes share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test-db.sqlite3")}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
