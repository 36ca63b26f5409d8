"""rudder-server's steps in front of the Iterable transformer, as pure functions over plain dicts.

The gateway's enrichment of each event (rudderId, messageId, receivedAt, request_ip), the processor's
destination filter (the `integrations` object, consent), its time fields, a user transformation, and the
event filter (supported message types, connection mode), in rudder-server's order, each rule citing the
rudder-server file and line it follows (rudder-server f2655fbbe; docs/pipeline.md).

    fates = run_pipeline(events, {"apiKey": "…", "oneTrustCookieCategories": [...]},
                         received_at="2026-01-05T10:00:07.123Z", seed=1)
    [f.events if f.passed else (f.step, f.status, f.text) for f in fates]
"""
from iterable_sim.pipeline.consent import (ConsentInfo, ProviderConsents, consent_allows, consent_info, consent_keeps,
                                           generic_consent_data, ketch_purposes, onetrust_categories)
from iterable_sim.pipeline.eventfilter import (FilterResponse, allow_event_to_dest_transformation,
                                               convert_to_array_of_strings, filter_event,
                                               filter_events_for_hybrid_mode, supported_message_events,
                                               supported_message_types)
from iterable_sim.pipeline.fates import (DESTINATION_FILTER, EVENT_FILTER, GATEWAY, STEPS, USER_TRANSFORMER, Fate,
                                         Passed, Stopped)
from iterable_sim.pipeline.gateway import (GatewayJob, GatewayOptions, GatewayResponse, read_batch, read_request,
                                           request_ip, rudder_id)
from iterable_sim.pipeline.gotime import GoTime, parse_any, parse_rfc3339
from iterable_sim.pipeline.integrations import allows_iterable, filter_client_integrations
from iterable_sim.pipeline.processor import enhance_with_time_fields, time_fields, timestamp_from_event
from iterable_sim.pipeline.router import any_non_terminal_code, is_job_terminated, job_state
from iterable_sim.pipeline.run import (ITERABLE_SUPPORTED_MESSAGE_TYPES, PipelineConfig, PipelineError,
                                       PipelineTypeError, TransformerInput, as_pipeline_config,
                                       events_for_transformer, run_pipeline)
from iterable_sim.pipeline.usertransform import TransformOutcome, UserTransformation, run_user_transformation
from iterable_sim.pipeline.workspace import (IterableDestination, RudderConfig, RudderConfigError, config_kind,
                                             load_rudder_config, read_rudder_config)

__all__ = [
    "run_pipeline", "events_for_transformer", "PipelineConfig", "TransformerInput", "as_pipeline_config",
    "Fate", "Passed", "Stopped", "STEPS", "GATEWAY", "DESTINATION_FILTER", "USER_TRANSFORMER", "EVENT_FILTER",
    "PipelineError", "PipelineTypeError", "ITERABLE_SUPPORTED_MESSAGE_TYPES",
    "GatewayJob", "GatewayOptions", "GatewayResponse", "read_batch", "read_request", "request_ip", "rudder_id",
    "GoTime", "parse_any", "parse_rfc3339", "enhance_with_time_fields", "time_fields", "timestamp_from_event",
    "allows_iterable", "filter_client_integrations",
    "ConsentInfo", "ProviderConsents", "consent_allows", "consent_info", "consent_keeps", "generic_consent_data",
    "ketch_purposes", "onetrust_categories",
    "FilterResponse", "allow_event_to_dest_transformation", "convert_to_array_of_strings", "filter_event",
    "filter_events_for_hybrid_mode", "supported_message_events", "supported_message_types",
    "TransformOutcome", "UserTransformation", "run_user_transformation",
    "any_non_terminal_code", "is_job_terminated", "job_state",
    "IterableDestination", "RudderConfig", "RudderConfigError", "config_kind", "load_rudder_config",
    "read_rudder_config",
]
