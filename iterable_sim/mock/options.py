"""The mock's answers to what Iterable's documentation leaves open (api-notes §8), as settings.

Every default is the choice described in docs/mock.md; change one with
`MockIterable(options=MockOptions(events_create_users=False))`.
"""
from __future__ import annotations

from dataclasses import dataclass

from iterable_sim.limits import MAX_BODY_BYTES, MAX_BULK_ITEMS


@dataclass(frozen=True, slots=True)
class MockOptions:
    # §8.1/§8.2: a key may also come as an `api_key` query parameter (legacy clients send it so).
    accept_query_api_key: bool = True
    # §8.3: seconds to put in a Retry-After header on 429 answers; None sends no header.
    retry_after_seconds: int | None = None
    # Rate limits admit a burst of this many seconds' worth of requests, then the documented rate.
    rate_limit_burst_seconds: float = 1.0
    # §8.4: cap on users/events per bulk call (400 BatchTooLarge above it); None = only the body limit.
    bulk_item_limit: int | None = MAX_BULK_ITEMS
    # §8.5: the 4 MB body limit (4,000,000 bytes, as RudderStack reads it) applies to every endpoint.
    max_body_bytes: int = MAX_BODY_BYTES
    # §8.6: events/track and trackBulk create a user they cannot find (when the project type allows
    # creating one from what the event carries); False answers UnknownEmail/UserIdError or notFound*.
    events_create_users: bool = True
    # §8.7: status of updateEmail when newEmail already belongs to someone (code EmailAlreadyExists).
    email_exists_status: int = 400
    # §8.8/§8.12: status of an email/userId conflict on single-user endpoints (code Conflict).
    conflict_status: int = 409
    # §8.12 (hybrid): a write whose email is unknown but whose userId belongs to a user with another
    # email moves that user to the new email; False answers 409 Conflict instead.
    userid_moves_email: bool = True
    # Project setting "allow unrecognized fields"; a request's createNewFields overrides it.
    create_new_fields: bool = True
