"""Which user a request means, per project type, and which calls may create or re-key one.

email-based: email is unique and identifies; userId is a plain, non-unique attribute that a call
  carrying both overwrites; a userId alone finds the first user with it, or creates a user with a
  placeholder email when `preferUserId` is true.
userID-based: userId is unique and identifies; email is a plain, non-unique attribute.
hybrid: both are unique; email is looked up first, then userId; a request whose email and userId
  belong to two different users is a conflict, as is taking an identifier another user holds.
"""
from __future__ import annotations

from typing import Callable

from iterable_sim.exceptions import IterableSimError

from iterable_sim.mock.state import Project, User
from iterable_sim.mock.validation import is_valid_email, is_valid_user_id


class IdentityError(IterableSimError):
    """Why one request (or one bulk item) cannot be attributed to a user."""

    def __init__(self, reason: str, field: str, value: str | None = None) -> None:
        super().__init__(f"{reason} {field} {value!r}")
        self.reason = reason  # invalid, missing, forgotten, notFound, conflict
        self.field = field    # email or userId
        self.value = value

    @property
    def bulk_list(self) -> str | None:
        """The failedUpdates list the identifier goes into, such as 'forgottenEmails'."""
        if self.reason == "missing" or self.value is None:
            return None
        return self.reason + ("Emails" if self.field == "email" else "UserIds")


def check_identifiers(project: Project, email: str | None, user_id: str | None,
                      *more: tuple[str, str | None]) -> None:
    """Syntax, presence and GDPR checks on the request's identifiers (and on `more` new ones)."""
    pairs = (("email", email), ("userId", user_id)) + more
    for field, value in pairs:
        if value is not None and not (is_valid_email(value) if field == "email" else is_valid_user_id(value)):
            raise IdentityError("invalid", field, value)
    if not email and not user_id:
        raise IdentityError("missing", "email")
    if project.project_type == "userId" and not user_id:
        raise IdentityError("missing", "userId", None)
    for field, value in pairs:
        if value and project.is_forgotten(*((value, None) if field == "email" else (None, value))):
            raise IdentityError("forgotten", field, value)


def resolve_for_write(project: Project, email: str | None, user_id: str | None, *, now: float,
                      prefer_user_id: bool = False, create: bool = True,
                      new_email: str | None = None, new_user_id: str | None = None,
                      placeholder: Callable[[], str], userid_moves_email: bool = True) -> User:
    """The user a profile write (update, bulkUpdate, tokens, commerce) addresses, created if allowed.

    `new_email` / `new_user_id` come from dataFields.email / dataFields.userId: re-keying the user.
    `userid_moves_email` (hybrid): a write whose email is unknown but whose userId has a user gives
    that user the new email; when False it is a conflict.
    Call `check_identifiers` first. Every check here runs before anything changes, so a failing
    request leaves the state as it was.
    """
    kind = project.project_type
    if kind == "email":
        new_email = None  # email-based projects change email through users/updateEmail only
        user, set_email, set_user_id = _addressed_by_email(project, email, user_id, new_user_id, now=now,
                                                           prefer_user_id=prefer_user_id, create=create,
                                                           placeholder=placeholder)
    elif kind == "userId":
        user = project.user_by_user_id(user_id)  # type: ignore[arg-type]
        set_email, set_user_id = new_email or email, new_user_id
    else:
        user, set_email, set_user_id = _addressed_in_hybrid(project, email, user_id, new_email, new_user_id,
                                                            userid_moves_email=userid_moves_email)
    if user is None:
        if not create or (kind == "email" and not email):
            raise IdentityError("notFound", *(("email", email) if email else ("userId", user_id)))
        return _new_user(project, new_email or email, new_user_id or user_id, new_email=new_email, now=now)
    _check_free(project, user, set_email, set_user_id)
    if set_email and set_email.lower() != user.email:
        project.set_email(user, set_email)
    if set_user_id and set_user_id != user.user_id:
        project.set_user_id(user, set_user_id)
    return user


Addressed = tuple[User | None, str | None, str | None]  # the user found, and the email and userId to give it


def _addressed_by_email(project: Project, email: str | None, user_id: str | None, new_user_id: str | None, *,
                        now: float, prefer_user_id: bool, create: bool, placeholder: Callable[[], str]) -> Addressed:
    """email-based: the email's user, its userId then a plain attribute to write; without an email, the
    first user holding the userId, or with preferUserId a new one under a placeholder email."""
    if email:
        return project.user_by_email(email), None, new_user_id or user_id
    user = project.user_by_user_id(user_id)  # type: ignore[arg-type]
    if user is None and prefer_user_id and create:
        user = project.add_user(placeholder(), user_id, now)
    return user, None, new_user_id or None


def _addressed_in_hybrid(project: Project, email: str | None, user_id: str | None, new_email: str | None,
                         new_user_id: str | None, *, userid_moves_email: bool) -> Addressed:
    """hybrid: the user holding the email, else the one holding the userId (two different users are a
    conflict). A user found by userId alone takes the write's email when it has none, or, when
    `userid_moves_email`, in place of its own; a user found by email takes the write's userId; the
    new identifiers of dataFields, when given, replace either."""
    by_email = project.user_by_email(email) if email else None
    by_user_id = project.user_by_user_id(user_id) if user_id else None
    if by_email is not None and by_user_id is not None and by_email is not by_user_id:
        raise IdentityError("conflict", "userId", user_id)
    user = by_email or by_user_id
    moves_email = by_email is None and email and user is not None and user.email and not new_email
    if moves_email and not userid_moves_email:
        raise IdentityError("conflict", "email", email)
    set_email = new_email or (email if user is not None and (user.email is None or moves_email) else None)
    set_user_id = new_user_id or (user_id if by_email is not None else None)
    return user, set_email, set_user_id


def _new_user(project: Project, email: str | None, user_id: str | None, *, new_email: str | None,
              now: float) -> User:
    """A user for a write that found none, under the identifiers it gives; a conflict when another user
    holds one that is unique in the project (the userId outside email-based projects, a new email in hybrid)."""
    kind = project.project_type
    if kind != "email" and user_id and project.user_by_user_id(user_id) is not None:
        raise IdentityError("conflict", "userId", user_id)
    if kind == "hybrid" and new_email and project.user_by_email(new_email) is not None:
        raise IdentityError("conflict", "email", new_email)
    return project.add_user(email, user_id, now)


def _check_free(project: Project, user: User, email: str | None, user_id: str | None) -> None:
    """Taking an identifier another user holds is a conflict where that identifier is unique."""
    kind = project.project_type
    if email and kind == "hybrid":
        owner = project.user_by_email(email)
        if owner is not None and owner is not user:
            raise IdentityError("conflict", "email", email)
    if user_id and kind != "email":
        owner = project.user_by_user_id(user_id)
        if owner is not None and owner is not user:
            raise IdentityError("conflict", "userId", user_id)


def resolve_for_event(project: Project, email: str | None, user_id: str | None, *, now: float,
                      create: bool) -> User:
    """The user an event is tracked on. Events never re-key a user: the email (when given)
    identifies, else the userId (in hybrid projects also when nobody holds the email); an unknown user is created when `create` and the project type
    allows making one from what the event carries. Call `check_identifiers` first."""
    kind = project.project_type
    if kind == "userId" or not email:
        user = project.user_by_user_id(user_id)  # type: ignore[arg-type]
        if user is None:
            if not create or kind == "email":
                raise IdentityError("notFound", "userId", user_id)
            user = project.add_user(email if kind == "userId" else None, user_id, now)
        return user
    user = project.user_by_email(email)
    if user is None and kind == "hybrid" and user_id:
        user = project.user_by_user_id(user_id)  # an email nobody holds: the userId still identifies
    if user is None:
        if not create:
            raise IdentityError("notFound", "email", email)
        free_user_id = user_id if kind == "email" or (user_id and project.user_by_user_id(user_id) is None) else None
        user = project.add_user(email, free_user_id, now)
    return user
