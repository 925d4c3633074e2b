#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# Commands that never touch the database; every other one (a new one too) first checks that it
# answers, so a wrong DATABASE_URL gives one line instead of a pool retrying for seconds.
NO_DATABASE = {
    "help", "version", "check", "diffsettings", "makemigrations", "squashmigrations", "optimizemigration",
    "collectstatic", "findstatic", "spectacular", "startapp", "startproject", "makemessages", "compilemessages",
    "shell", "test", "testserver", "sendtestemail",
    "serve",  # checks the database and Redis itself, after taking its lock
}  # fmt: skip


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "suite_ai.settings")
    import django
    from django.core.management import execute_from_command_line

    from suite_ai.startup import database_problem, fail, load_settings, reported

    # A bad variable, or a database that does not answer, ends the command with one line (status 2).
    load_settings()
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    needs_database = command not in NO_DATABASE and not command.startswith("-")
    if needs_database and not {"-h", "--help"} & set(sys.argv[2:]):
        with reported():
            django.setup()  # the apps first: a query before them makes Django warn
        if problem := database_problem():
            fail(problem)
    with reported():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
