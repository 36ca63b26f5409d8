"""Time values as rudder-server holds them: an instant in nanoseconds and the zone offset it is shown in.

rudder-server parses an event's time fields with `dateparse.ParseAny` (`utils/misc/misc.go:719-731`,
github.com/araddon/dateparse v0.0.0-20210429162001-6b43995a97de, `go.mod:30`), does arithmetic on Go
`time.Time` values (nanosecond precision) and writes them with the layout
`2006-01-02T15:04:05.000Z07:00` (`utils/misc/misc.go:53`): milliseconds truncated, `Z` for a zero offset,
otherwise the parsed value's own `+hh:mm`. This module does the same with plain integers, so results do not
depend on Python's datetime range or its microsecond precision.

`parse_any` reproduces a documented subset of dateparse (the numeric ISO-8601 family and the all-digit
forms, see its docstring); a string outside it is treated as unparsable, as rudder-server treats
"malformed timestamp". Read dateparse at that commit for the rest (written month names, US slash dates, ...).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

from iterable_sim.clock import days_from_civil

NS_PER_SECOND = 1_000_000_000
_SECONDS_PER_DAY = 86_400


def _civil_from_days(days: int) -> tuple[int, int, int]:
    days += 719_468
    era = days // 146_097
    doe = days - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (month <= 2), month, day


def days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


@dataclass(frozen=True, order=True)
class GoTime:
    """A Go `time.Time` reduced to what rudder-server's rules read: the instant (`ns`, nanoseconds since
    the Unix epoch) and the offset east of UTC, in seconds, that formatting shows (`offset`)."""

    ns: int
    offset: int = 0

    @classmethod
    def from_civil(cls, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
                   nanosecond: int = 0, offset: int = 0) -> "GoTime":
        local = (days_from_civil(year, month, day) * _SECONDS_PER_DAY + hour * 3600 + minute * 60 + second)
        return cls((local - offset) * NS_PER_SECOND + nanosecond, offset)

    @classmethod
    def from_datetime(cls, value: datetime) -> "GoTime":
        """A datetime as a GoTime; a naive datetime is taken as UTC."""
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        offset = value.utcoffset()
        seconds = int(offset.total_seconds()) if offset is not None else 0
        return cls.from_civil(value.year, value.month, value.day, value.hour, value.minute, value.second,
                              value.microsecond * 1000, seconds)

    @classmethod
    def from_unix(cls, seconds: float) -> "GoTime":
        """Seconds since the epoch (what `Clock.now()` returns), in UTC as rudder-server's clock is
        (`timeutil.Now` = `time.Now().UTC()`, `utils/timeutil/timeutil.go:31-33`). A float holds such a
        time to about a microsecond, so it is read to the microsecond (1767607207.123 is .123, not .122999)."""
        return cls(round(seconds * 1_000_000) * 1000, 0)

    def minus(self, other: "GoTime") -> int:
        """`self.Sub(other)` in nanoseconds."""
        return self.ns - other.ns

    def add(self, nanoseconds: int) -> "GoTime":
        """`self.Add(d)`: the zone of `self` is kept."""
        return GoTime(self.ns + nanoseconds, self.offset)

    def civil(self) -> tuple[int, int, int, int, int, int, int]:
        """(year, month, day, hour, minute, second, nanosecond) as shown in this value's zone."""
        local_ns = self.ns + self.offset * NS_PER_SECOND
        seconds, nanosecond = divmod(local_ns, NS_PER_SECOND)
        days, in_day = divmod(seconds, _SECONDS_PER_DAY)
        year, month, day = _civil_from_days(days)
        return year, month, day, in_day // 3600, in_day // 60 % 60, in_day % 60, nanosecond

    def format_milli(self) -> str:
        """Go's `Format("2006-01-02T15:04:05.000Z07:00")` (misc.RFC3339Milli, `utils/misc/misc.go:53`)."""
        year, month, day, hour, minute, second, nanosecond = self.civil()
        year_text = f"-{-year:04d}" if year < 0 else f"{year:04d}"
        text = f"{year_text}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}.{nanosecond // 1_000_000:03d}"
        if self.offset == 0:
            return text + "Z"
        sign = "-" if self.offset < 0 else "+"
        minutes = abs(self.offset) // 60
        return f"{text}{sign}{minutes // 60:02d}:{minutes % 60:02d}"

    def __str__(self) -> str:
        return self.format_milli()


# --- dateparse.ParseAny, the subset iterable_sim reproduces ---------------------------------------------

_ZONE = r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)"
_ISO = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:"
    r"(?:T| +)(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:[.,](?P<f>\d+))?)?"
    r"(?:" + _ZONE + r"| (?P<wszone>[+-]\d{2}:?\d{2}|UTC|GMT))?"
    r"|(?P<dzone>[+-]\d{2}:?\d{2})"
    r")?"
)
_YEAR_MONTH = re.compile(r"(?P<y>\d{4})-(?P<mo>\d{1,2})")


def _offset_seconds(zone: str | None) -> int | None:
    """Seconds east of UTC of 'Z', '+hh', '+hhmm', '+hh:mm', 'UTC', 'GMT'; None when Go rejects it."""
    if zone is None or zone in ("Z", "UTC", "GMT"):
        return 0
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 24 or minutes > 60:  # Go's time.Parse range check for numeric zones
        return None
    return sign * (hours * 3600 + minutes * 60)


def _checked(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0,
             nanosecond: int = 0, offset: int = 0) -> GoTime | None:
    """Go's time.Parse range checks (month, day of that month, hour, minute, second), then the value."""
    if not (1 <= month <= 12 and 1 <= day <= days_in_month(year, month)
            and hour < 24 and minute < 60 and second < 60):
        return None
    return GoTime.from_civil(year, month, day, hour, minute, second, nanosecond, offset)


def _all_digits(text: str) -> GoTime | None:
    """dateparse's all-digit forms, chosen by length: 19 nanoseconds, 16 microseconds, 13 milliseconds and
    10 seconds since the epoch; 14 yyyyMMddhhmmss, 8 yyyymmdd, 4 yyyy; any other length is an error."""
    n = len(text)
    per_unit = {19: 1, 16: 1_000, 13: 1_000_000, 10: NS_PER_SECOND}.get(n)
    if per_unit is not None:
        value = int(text)
        if value >= 2 ** 63:  # strconv.ParseInt(..., 64) fails: no time, an error
            return None
        # time.Unix gives the local zone; on a UTC host (as rudder-server's tests assume) that is Z.
        return GoTime(value * per_unit, 0)
    if n == 14:
        return _checked(int(text[:4]), int(text[4:6]), int(text[6:8]), int(text[8:10]), int(text[10:12]),
                        int(text[12:14]))
    if n == 8:
        return _checked(int(text[:4]), int(text[4:6]), int(text[6:8]))
    if n == 4:
        return _checked(int(text), 1, 1)
    return None


def parse_any(text: str) -> GoTime | None:
    """`dateparse.ParseAny(text)` for the forms iterable_sim reproduces, else None (unparsable).

    Reproduced: `yyyy`, `yyyy-m[m]`, `yyyy-m[m]-d[d]` (optionally followed directly by `+hh:mm` / `+hhmm`),
    and `yyyy-m[m]-d[d]` + `T` or spaces + `h[h]:mm[:ss[.f…]]` with an optional zone `Z`, `+hh`, `+hhmm`,
    `+hh:mm` (or, after one space, `+hhmm`, `+hh:mm`, `UTC`, `GMT`), except a fraction followed by `+hh` or by
    ` +hh:mm`, whose layout dateparse gets wrong; a `,` before the fraction is read as `.`;
    more than 9 fraction digits are cut to nanoseconds (Go's time.Parse). All-digit strings: see
    `_all_digits`. Strings with no zone are UTC: ParseAny passes no location, so Go's time.Parse returns UTC
    (dateparse `parseany.go` `ParseAny` -> `parse`, 6b43995a); only the epoch forms use the local zone.
    """
    if not isinstance(text, str) or not text.isascii():
        return None
    if text.isdigit():
        return _all_digits(text)
    match = _ISO.fullmatch(text)
    if match:
        if match["f"] is not None and (len(match["zone"] or "") == 3 or ":" in (match["wszone"] or "")):
            # dateparse builds a layout that does not read these zones (a fraction followed by "+hh", or by
            # " +hh:mm"): outside the subset.
            return None
        zone = match["zone"] or match["wszone"] or match["dzone"]
        offset = _offset_seconds(zone)
        if offset is None:
            return None
        fraction = (match["f"] or "")[:9].ljust(9, "0")
        return _checked(int(match["y"]), int(match["mo"]), int(match["d"]), int(match["h"] or 0),
                        int(match["mi"] or 0), int(match["s"] or 0), int(fraction), offset)
    match = _YEAR_MONTH.fullmatch(text)
    if match:
        return _checked(int(match["y"]), int(match["mo"]), 1)
    return None


_RFC3339 = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})T(?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d+))?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2})"
)


def parse_rfc3339(text: object) -> GoTime | None:
    """Go's `time.Time` JSON decoding (RFC 3339, optional fraction), as the processor decodes a gateway job's
    `receivedAt` (`processor/types/types.go:45-50`); None when Go would fail."""
    if not isinstance(text, str):
        return None
    match = _RFC3339.fullmatch(text)
    if not match:
        return None
    zone = match["zone"]
    if zone != "Z" and (int(zone[1:3]) > 23 or int(zone[4:6]) > 59):
        return None
    offset = 0 if zone == "Z" else (-1 if zone[0] == "-" else 1) * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    fraction = (match["f"] or "")[:9].ljust(9, "0")
    return _checked(int(match["y"]), int(match["mo"]), int(match["d"]), int(match["h"]), int(match["mi"]),
                    int(match["s"]), int(fraction), offset)
