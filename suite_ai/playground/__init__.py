"""The playground (``/playground/``): suite_ai's BlockNote extension (``editor/``) on a real editor,
signed in as a development user, for a newcomer to try every action after ``make run``."""
