"""rudder-server's router settings, under rudder-server's own configuration keys and with its code's defaults.

Every default is the one in rudder-server's code at f2655fbbe (the shipped `config/config.yaml` sets the same
values, `config/config.yaml:18-31, 92-116`); paths below are rudder-server's (see
../shared/rudderstack/server/pipeline.md section 5). RudderStack Cloud's production values are not in the
source: these are what a default deployment runs with.

`RouterConfig.from_keys({"Router.noOfJobsToBatchInAWorker": 100, "Router.ITERABLE.jobsBatchTimeout": "2s"})`
reads them as rudder-server does: for a `Router.*` key the destination-type key `Router.ITERABLE.<key>` wins
over `Router.<key>` (`router/config.go:34-36`); durations are Go durations ("5s", "180m", "720h") or seconds.
"""
from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, Mapping

from iterable_sim.exceptions import IterableSimError

DEST_TYPE = "ITERABLE"


class RouterConfigError(IterableSimError, ValueError):
    """An unknown rudder-server key, or a value of the wrong kind for it."""


@dataclass(frozen=True, slots=True)
class RouterConfig:
    """The router's settings that decide an ITERABLE job's fate (field name: the key's last part, snake case)."""

    # Router.noOfWorkers, router/handle_lifecycle.go:106 (partition workers, router/partition_worker.go:36)
    no_of_workers: int = 64
    # Router.noOfJobsToBatchInAWorker, router/handle_lifecycle.go:345
    no_of_jobs_to_batch_in_a_worker: int = 20
    # Router.jobsBatchTimeout, router/handle_lifecycle.go:360
    jobs_batch_timeout: float = 5.0
    # Router.transformerProxy (Router.ITERABLE.transformerProxy), router/handle_lifecycle.go:352
    transformer_proxy: bool = False
    # Router.minRetryBackoff / maxRetryBackoff, router/handle_lifecycle.go:362-363
    min_retry_backoff: float = 10.0
    max_retry_backoff: float = 300.0
    # Router.retryTimeWindow / maxFailedCountForJob, router/handle_lifecycle.go:346, 349
    retry_time_window: float = 180 * 60.0
    max_failed_count_for_job: int = 3
    # Router.jobRetention, router/utils/utils.go:176
    job_retention: float = 720 * 3600.0
    # Router.guaranteeUserEventOrder, router/handle_lifecycle.go:105
    guarantee_user_event_order: bool = True
    # Router.eventOrderKeyThreshold, ...DisabledStateDuration, ...HalfEnabledStateDuration, router/handle_lifecycle.go:124-126
    event_order_key_threshold: int = 200
    event_order_disabled_state_duration: float = 20 * 60.0
    event_order_half_enabled_state_duration: float = 10 * 60.0
    # Router.eventOrderDrainedConcurrencyLimit, router/handle_lifecycle.go:123
    event_order_drained_concurrency_limit: int = 1
    # Router.readSleep (the main loop's sleep between pickups), router/handle_lifecycle.go:358, 425
    read_sleep: float = 1.0
    # Router.jobQueryBatchSize (jobs read per pickup), router/handle_lifecycle.go:355
    job_query_batch_size: int = 10_000
    # Router.noOfJobsPerChannel (a worker's queue of picked jobs), router/handle_lifecycle.go:108
    no_of_jobs_per_channel: int = 1000
    # Router.httpTimeout (a direct request's timeout), router/handle_lifecycle.go:372-375
    http_timeout: float = 10.0

    def __post_init__(self) -> None:
        for name in ("no_of_workers", "no_of_jobs_to_batch_in_a_worker", "no_of_jobs_per_channel",
                     "job_query_batch_size"):
            if getattr(self, name) < 1:
                raise RouterConfigError(f"{name} must be at least 1")
        if self.read_sleep <= 0 or self.jobs_batch_timeout <= 0:
            raise RouterConfigError("read_sleep and jobs_batch_timeout must be positive")

    @classmethod
    def from_keys(cls, keys: Mapping[str, Any]) -> RouterConfig:
        """A config from rudder-server keys ("Router.noOfWorkers" or "Router.ITERABLE.noOfWorkers")."""
        values: dict[str, Any] = {}
        ranked: dict[str, int] = {}
        for key, value in keys.items():
            parts = key.split(".")
            if len(parts) == 3 and parts[0] == "Router" and parts[1] == DEST_TYPE:
                name, rank = parts[2], 1
            elif len(parts) == 2 and parts[0] == "Router":
                name, rank = parts[1], 0
            else:
                raise RouterConfigError(f"{key!r} is not a Router key this model reads; known: {sorted(KEYS)}")
            field_name = KEYS.get(f"Router.{name}")
            if field_name is None:
                raise RouterConfigError(f"{key!r} is not a Router key this model reads; known: {sorted(KEYS)}")
            if ranked.get(field_name, -1) <= rank:  # Router.ITERABLE.<key> wins (router/config.go:34-36)
                values[field_name], ranked[field_name] = _typed(field_name, value, key), rank
        return cls(**values)

    def keys(self) -> dict[str, Any]:
        """The settings under their rudder-server keys."""
        return {key: getattr(self, name) for key, name in KEYS.items()}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_FIELDS = {f.name: f for f in dataclasses.fields(RouterConfig)}
_CAMEL = {"noOfWorkers", "noOfJobsToBatchInAWorker", "jobsBatchTimeout", "transformerProxy", "minRetryBackoff",
          "maxRetryBackoff", "retryTimeWindow", "maxFailedCountForJob", "jobRetention", "guaranteeUserEventOrder",
          "eventOrderKeyThreshold", "eventOrderDisabledStateDuration", "eventOrderHalfEnabledStateDuration",
          "eventOrderDrainedConcurrencyLimit", "readSleep", "jobQueryBatchSize", "noOfJobsPerChannel", "httpTimeout"}
KEYS: dict[str, str] = {f"Router.{name}": _snake(name) for name in sorted(_CAMEL)}
assert set(KEYS.values()) == set(_FIELDS), "every field has its key"

_GO_DURATION = re.compile(r"(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> float:
    """Go's `time.ParseDuration` for the forms config files use ("5s", "1h30m", "100ms"), in seconds."""
    text = text.strip()
    if not text or not re.fullmatch(r"(?:\d+(?:\.\d*)?(?:ns|us|µs|ms|s|m|h))+", text):
        raise RouterConfigError(f"{text!r} is not a Go duration")
    return sum(float(number) * _UNITS[unit] for number, unit in _GO_DURATION.findall(text))


def _typed(name: str, value: Any, key: str) -> Any:
    kind = _FIELDS[name].type
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value)
    elif kind == "float":
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            return go_duration(value)
    raise RouterConfigError(f"{key}: {value!r} is not a {kind}")
