"""RudderStack's delivery to Iterable: rudder-server's router (worker batching, retries, aborts, per-user
ordering) as a discrete-event simulation against the in-process mock, on its simulated clock.

    report = deliver_like_rudderstack(events, settings)   # to a fresh MockIterable on a ManualClock
    report.summary(); report.steps(0); report.timeline()

See docs/delivery.md.
"""
from iterable_sim.rudder_router.config import RouterConfig, RouterConfigError
from iterable_sim.rudder_router.report import DeliveryReport, JobRecord, JobStep
from iterable_sim.rudder_router.rudderstack import DeliverySetupError, RudderStackRouter, Timing, deliver_like_rudderstack

__all__ = ["DeliveryReport", "DeliverySetupError", "JobRecord", "JobStep", "RouterConfig", "RouterConfigError",
           "RudderStackRouter", "Timing", "deliver_like_rudderstack"]
