"""Who ran which action on which document, with which model and prompt, and what it cost: one
record per finished job, without any text, kept after the job and its text are purged."""
