"""rudder-server's per-user ordering barrier (`router/internal/eventorder/eventorder.go`), on simulated time.

One barrier per order key (workspace ID, destination ID, job UserID; `router/handle.go:678-682`):

* `enter` (`eventorder.go:143-205`): a key's barrier is created on first entry (threshold > 0); its state moves
  disabled -> half-enabled -> enabled with time (`updateState`, `eventorder.go:354-371`); a disabled barrier
  lets every job in; a key with `threshold` jobs in flight is switched off (`eventorder.go:162-171`); after an
  abort of the failed job the drain limiter lets only `drain_limit` jobs in (`eventorder.go:175-178`); while a
  failed job is the key's barrier only that job may enter (`eventorder.go:180-205`).
* `wait` (`eventorder.go:241-275`): a job taken by its worker must wait when another job of its key failed.
* `failed` is applied at once (`jobFailedCommand`, `eventorder.go:466-496`); `succeeded`, `filtered`,
  `aborted` and the other states are queued and applied at the next pickup's `sync` (`eventorder.go:509-566`,
  `router/handle.go:184-186, 603-622`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

ENABLED, DISABLED, HALF_ENABLED = "enabled", "disabled", "half-enabled"


@dataclass(slots=True)
class _Info:
    state: str = ENABLED
    state_time: float = 0.0
    failed_job: int | None = None
    concurrency: set[int] | None = field(default_factory=set)
    drain: set[int] | None = None

    def enter(self, job: int) -> None:
        if self.concurrency is not None:
            self.concurrency.add(job)
        if self.drain is not None:
            self.drain.add(job)

    def leave(self, job: int) -> None:
        if self.concurrency is not None:
            self.concurrency.discard(job)
        if self.drain is not None:
            self.drain.discard(job)

    def inactive(self) -> bool:  # eventorder.go barrierInfo.Inactive
        return self.state == ENABLED and self.failed_job is None and not self.concurrency and self.drain is None


class Barrier:
    """The partition's barrier: `enter` at pickup, `wait` at the worker, state changes as jobs end."""

    def __init__(self, threshold: int = 200, drain_limit: int = 1, disabled_for: float = 1200.0,
                 half_enabled_for: float = 600.0) -> None:
        self.threshold, self.drain_limit = threshold, drain_limit
        self.disabled_for, self.half_enabled_for = disabled_for, half_enabled_for
        self._barriers: dict[str, _Info] = {}
        self._queued: list[tuple[str, str, int]] = []
        self.disabled_keys: list[tuple[float, str]] = []  # (when, key): ordering switched off, for the report

    def _update(self, info: _Info, now: float) -> None:
        if info.state == DISABLED and now - info.state_time > self.disabled_for:
            info.state, info.state_time = HALF_ENABLED, now
        elif info.state == HALF_ENABLED and now - info.state_time > self.half_enabled_for:
            info.state, info.state_time = ENABLED, now

    def disabled(self, key: str, now: float) -> bool:
        """Whether ordering is switched off for `key` now (`Barrier.Disabled`)."""
        info = self._barriers.get(key)
        if info is None:
            return False
        self._update(info, now)
        return info.state == DISABLED

    def enter(self, key: str, job: int, now: float) -> tuple[bool, int | None]:
        """Whether `job` may be picked up, and the failed job that blocks its key (`Barrier.Enter`)."""
        info = self._barriers.get(key)
        if info is None:
            if self.threshold == 0:
                return True, None
            info = self._barriers[key] = _Info(state_time=0.0)
        self._update(info, now)
        if info.state == DISABLED:
            return True, None
        concurrency = info.concurrency
        if concurrency is not None and job not in concurrency and len(concurrency) >= self.threshold:
            self._barriers[key] = _Info(state=DISABLED, state_time=now)  # eventorder.go:162-171
            self.disabled_keys.append((now, key))
            return True, None
        if info.drain is not None and job not in info.drain and len(info.drain) >= self.drain_limit:
            return False, None
        previous = info.failed_job
        accepted = previous is None or previous == job
        if accepted:
            info.enter(job)
        return accepted, previous

    def wait(self, key: str, job: int) -> int | None:
        """The failed job `job` must wait for, or None (`Barrier.Wait`, eventorder.go:241-275)."""
        info = self._barriers.get(key)
        if info is None or info.state == DISABLED or info.failed_job is None or info.failed_job == job:
            return None
        return info.failed_job

    def failed(self, key: str, job: int) -> None:
        """A job of `key` failed: it becomes the key's barrier (jobFailedCommand, applied at once)."""
        info = self._barriers.get(key)
        if info is None:
            info = self._barriers[key] = _Info(concurrency=None)
        elif info.state == DISABLED:
            return
        info.leave(job)
        if info.failed_job is None:
            info.failed_job = job
        info.drain = None

    def changed(self, key: str, job: int, state: str) -> None:
        """Queue a state change other than `failed`, for the next `sync` (`Barrier.StateChanged`)."""
        if key in self._barriers:  # cmd.enqueue: only keys with a barrier
            self._queued.append((key, state, job))

    def sync(self) -> None:
        """Apply the queued state changes (`Barrier.Sync`, called at each pickup)."""
        queued, self._queued = self._queued, []
        for key, state, job in queued:
            info = self._barriers.get(key)
            if info is None:
                continue
            if state in ("succeeded", "filtered", "aborted"):
                if info.state == DISABLED:
                    continue
                info.leave(job)
                if info.failed_job is not None and info.failed_job != job:
                    continue
                was_failed = info.failed_job == job
                info.failed_job, info.drain = None, None
                if state == "aborted" and self.drain_limit > 0 and was_failed:  # eventorder.go:549-566
                    info.drain = set()
            else:
                info.leave(job)
            if info.inactive():
                del self._barriers[key]

    def __len__(self) -> int:
        return len(self._barriers)
