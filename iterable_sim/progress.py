"""How long a run goes before its progress bar shows, for every bar the package draws (sends, mapping
archives, crosschecks): a short run finishes without one."""

PROGRESS_DELAY = 2.0  # seconds
