"""How rudder-server's router reads a per-job status code (after the transformer and Iterable have answered).

`isJobTerminated` (`router/misc.go:23-28`): 408 and 429 are retried; other codes from 200 up to 499 are
terminal (2xx succeeded, 298 filtered, 3xx/4xx aborted); 5xx and codes below 200 are retried
(`router/worker.go:1045-1055`). `anyNonTerminalCode` (`router/worker.go:765-772`).
"""
from __future__ import annotations

from typing import Iterable

RETRIED_4XX = (408, 429)


def is_job_terminated(status: int) -> bool:
    """Whether the router stops retrying a job that got `status`."""
    if status in RETRIED_4XX:
        return False
    return 200 <= status < 500


def job_state(status: int) -> str:
    """The job state a status code leads to (router/worker.go:644-717, 972-1084; pipeline.md section 3.4)."""
    if not is_job_terminated(status):
        return "failed"
    if status == 298:
        return "filtered"
    return "succeeded" if 200 <= status < 300 else "aborted"


def any_non_terminal_code(statuses: Iterable[int] | None) -> bool:
    """Whether any of the codes makes the router retry (`anyNonTerminalCode`)."""
    return any(not is_job_terminated(code) for code in statuses or ())
