"""JavaScript value semantics that RudderStack's Node.js mapping relies on.

RudderStack's Iterable destination is JavaScript: which values count as present (truthiness),
how `get-value` walks a path, what `String()`, `parseInt`, `parseFloat` and `new Date().getTime()`
make of odd input. Matching its output on events nobody listed means reproducing these rules, so
they live here, in one place, each as a small pure function over plain JSON values.

`NAN` stands for a JavaScript NaN or Infinity: a value RudderStack keeps in a payload and that
`JSON.stringify` writes as `null`. `UNDEFINED` stands for a JavaScript `undefined`: a key that
`JSON.stringify` leaves out.
"""
from __future__ import annotations

import calendar
import json
import math
import re
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_tz
from typing import Any, Callable

from iterable_sim.clock import days_from_civil
from iterable_sim.exceptions import IterableSimError


class JavaScriptTypeError(IterableSimError, TypeError):
    """JavaScript's own TypeError, with its message, where RudderStack's Node.js code would throw one.
    map_event answers it as RudderStack does: a MappingError with status 500 and the same text."""


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Marker("undefined")
NAN: Any = _Marker("NaN")

MAX_DATE_MS = 8.64e15
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_ONE_MS = timedelta(milliseconds=1)
MAX_SAFE_INTEGER = 2**53 - 1


def truthy(value: Any) -> bool:
    """JavaScript truthiness: "", 0, NaN, null and undefined are false; [] and {} are true."""
    if value is None or value is UNDEFINED or value is NAN or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, str):
        return value != ""
    if isinstance(value, (int, float)):
        return value != 0 and value == value
    return True


def present(value: Any) -> bool:
    """What RudderStack's `constructPayload` keeps: truthy values, and also 0 and false."""
    return truthy(value) or value is False or (type(value) in (int, float) and value == 0)


def split_path(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def js_get(target: Any, segments: tuple[str, ...]) -> Any:
    """The `get-value` package: walk `segments`, joining segments where a key holds a dot.

    A target that is not an object or array is returned as it is (get-value's own rule), so
    `get("abc", "name")` is "abc". Missing keys give UNDEFINED.
    """
    if not isinstance(target, (dict, list)):
        return target
    if len(segments) > 1:
        joined = ".".join(segments)
        if isinstance(target, dict) and joined in target:
            return target[joined]
    index, count = 0, len(segments)
    while True:
        prop = segments[index]
        if _has(target, prop):
            target = _item(target, prop)
        else:
            found = False
            n = index + 1
            while n < count:
                prop = prop + "." + segments[n]
                n += 1
                if _has(target, prop):
                    target = _item(target, prop)
                    index = n - 1
                    found = True
                    break
            if not found:
                return UNDEFINED
        index += 1
        if index >= count or not isinstance(target, (dict, list)):
            break
    return target if index == count else UNDEFINED


def _has(target: dict[str, Any] | list[Any], key: str) -> bool:
    if isinstance(target, dict):
        return key in target
    if key == "length":
        return True
    return key.isdigit() and (key == "0" or not key.startswith("0")) and int(key) < len(target)


def _item(target: dict[str, Any] | list[Any], key: str) -> Any:
    if isinstance(target, dict):
        return target[key]
    return len(target) if key == "length" else target[int(key)]


def path_getter(segments: tuple[str, ...]) -> Callable[[Any], Any]:
    """A compiled `js_get(target, segments)` for hot paths: plain dict walks, js_get for anything else.

    As get-value does, a key that is the whole dotted path ("context.traits") wins over the nesting,
    and where a key is missing, a key joining it with the next ones ("traits.email") is looked for.
    """
    if len(segments) == 1:
        (a,) = segments

        def get1(m: Any) -> Any:
            return m.get(a, UNDEFINED) if type(m) is dict else js_get(m, segments)
        return get1
    joined = ".".join(segments)
    count = len(segments)
    # for a key missing at position i (i > 0), the dotted keys get-value would try there instead
    joins = tuple(tuple(".".join(segments[i:j]) for j in range(i + 2, count + 1)) for i in range(count))
    if count == 2:
        a, b = segments

        def get2(m: Any) -> Any:
            if type(m) is not dict or joined in m:
                return js_get(m, segments)
            n = m.get(a, UNDEFINED)
            if type(n) is dict:
                return n.get(b, UNDEFINED)
            return js_get(m, segments) if type(n) is list else UNDEFINED
        return get2

    def get_deep(m: Any) -> Any:
        if type(m) is not dict or joined in m:
            return js_get(m, segments)
        node: Any = m
        for index, seg in enumerate(segments):
            if type(node) is dict:
                if seg in node:
                    node = node[seg]
                    continue
                for key in joins[index]:
                    if key in node:
                        return js_get(m, segments)
                return UNDEFINED
            return js_get(m, segments) if type(node) is list else UNDEFINED
        return node
    return get_deep


# ---------------------------------------------------------------- String(), numbers


def number_to_string(value: float | int) -> str:
    """`String(number)` as ECMAScript formats it (shortest round-trip digits)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if abs(value) <= 2**53:  # exactly a double: JS prints every digit
            return str(value)
        value = float(value)  # JS only ever held the nearest double
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) <= 2**53:
        return str(int(value))
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest_digits(abs(value))
    k, n = len(digits), exponent
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exp = n - 1
    exp_text = f"+{exp}" if exp >= 0 else str(exp)
    if k == 1:
        return f"{sign}{digits}e{exp_text}"
    return f"{sign}{digits[0]}.{digits[1:]}e{exp_text}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """Digits and decimal exponent n such that value = 0.d1d2... x 10^n."""
    mantissa, _, exp = f"{value!r}".partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    point = len(whole) + (int(exp) if exp else 0)
    leading_zeros = len(whole + frac) - len((whole + frac).lstrip("0"))
    digits = digits.rstrip("0") or "0"
    return digits, point - leading_zeros


def js_string(value: Any) -> str:
    """`String(value)` for JSON values."""
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if value is NAN:
        return "NaN"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return number_to_string(value)
    if isinstance(value, list):
        return ",".join("" if v is None or v is UNDEFINED else js_string(v) for v in value)
    return "[object Object]"


_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_INT_PREFIX = re.compile(r"[+-]?\d+")
_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def as_json_number(value: float) -> Any:
    """A float as JSON.stringify would write it: integral values without a fraction, NaN/Infinity as NAN."""
    if value != value or math.isinf(value):
        return NAN
    if value.is_integer() and abs(value) <= MAX_SAFE_INTEGER:
        return int(value)
    return value


def parse_int(value: Any) -> Any:
    """`parseInt(value, 10)`: an int, or NAN."""
    if type(value) is int and abs(value) < 10**21:
        return value
    match = _INT_PREFIX.match(js_string(value).lstrip(_JS_SPACE))
    if not match:
        return NAN
    return as_json_number(float(int(match.group()))) if len(match.group()) > 15 else int(match.group())


def parse_float(value: Any) -> Any:
    """`parseFloat(value)`: a number (int when integral), or NAN."""
    if type(value) is int:
        return value
    if type(value) is float:
        return as_json_number(value)
    match = _FLOAT_PREFIX.match(js_string(value).lstrip(_JS_SPACE))
    if not match:
        return NAN
    text = match.group()
    return as_json_number(float(text.replace("Infinity", "inf")))


# ---------------------------------------------------------------- new Date(value).getTime()

_ISO_DATE = re.compile(
    r"(?P<year>[+-]\d{6}|\d{4})(?:-(?P<month>\d\d)(?:-(?P<day>\d\d))?)?"
    r"(?:[T ](?P<hour>\d\d):(?P<minute>\d\d)(?::(?P<second>\d\d)(?:\.(?P<fraction>\d+))?)?"
    r"(?P<zone>Z|[+-]\d\d:?\d\d)?)?\s*$",
    re.IGNORECASE,
)


def date_ms(value: Any) -> Any:
    """`new Date(value).getTime()` in a UTC process: epoch milliseconds, or NAN.

    Strings are read as ECMAScript's ISO format (a date-time without an offset counts as UTC, as on
    RudderStack's servers) or as an RFC 2822 date; other strings V8 would guess at are NAN here.
    """
    if type(value) is str and len(value) == 24 and value[23] == "Z" and value[10] == "T" and value[19] == ".":
        try:  # the shape RudderStack's SDKs send, "2020-08-28T16:26:06.468Z": the fast way
            return int((datetime.fromisoformat(value) - _EPOCH) // _ONE_MS)
        except ValueError:
            pass
    if value is UNDEFINED or value is NAN:
        return NAN
    if value is None or value is False:
        return 0
    if value is True:
        return 1
    if isinstance(value, (int, float)):
        return _time_clip(float(value))
    text = js_string(value).strip()
    match = _ISO_DATE.match(text)
    if match:
        return _iso_ms(match)
    parsed = parsedate_tz(text)
    if parsed is None:
        return NAN
    offset = parsed[9] or 0
    return _time_clip(calendar.timegm(parsed[:6] + (0, 0, 0)) * 1000.0 - offset * 1000.0)


def _iso_ms(match: re.Match[str]) -> Any:
    """Epoch milliseconds of a date-time `_ISO_DATE` matched (without an offset: UTC), or NAN where
    V8 reads none: the year -000000, a month or day out of range, a time or an offset out of range."""
    g = match.groupdict()
    if g["year"] == "-000000":
        return NAN
    month = int(g["month"] or 1)
    day = int(g["day"] or 1)
    if not (1 <= month <= 12 and 1 <= day <= 31):  # V8 takes Feb 30 as Mar 1: days past the month's end roll over
        return NAN
    time = _time_of_day_ms(g["hour"], g["minute"], g["second"], g["fraction"])
    offset = _zone_offset_ms(g["zone"])
    if time is None or offset is None:
        return NAN
    return _time_clip(float(days_from_civil(int(g["year"]), month, day) * 86_400_000 + time - offset))


def _time_of_day_ms(hour: str | None, minute: str | None, second: str | None, fraction: str | None) -> int | None:
    """Milliseconds since midnight, or None out of range; 24:00 (nothing after it) is the next midnight,
    and digits of a fraction past milliseconds are dropped."""
    h, m, s = int(hour or 0), int(minute or 0), int(second or 0)
    if h > 24 or m > 59 or s > 59 or (h == 24 and (m or s or fraction)):
        return None
    return (h * 3600 + m * 60 + s) * 1000 + int((fraction or "0")[:3].ljust(3, "0"))


def _zone_offset_ms(zone: str | None) -> int | None:
    """How far ahead of UTC an offset ("+02:00", "-0530", "Z", none) is, in milliseconds; None out of range."""
    if not zone or zone.upper() == "Z":
        return 0
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        return None
    return (1 if zone[0] == "+" else -1) * (hours * 60 + minutes) * 60_000


def _time_clip(ms: float) -> Any:
    if ms != ms or math.isinf(ms) or abs(ms) > MAX_DATE_MS:
        return NAN
    return int(ms)


# ---------------------------------------------------------------- setValue (set-value, via integrations-lib)

_UNSAFE_KEYS = frozenset({"__proto__", "constructor", "prototype"})
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_RADIX = re.compile(r"0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+")
_HOLE: Any = None  # an array hole: JSON.stringify writes null


def _path_part(text: str) -> Any:
    """set-value keeps a path part that Number() reads as an integer as that number (an array index)."""
    trimmed = text.strip(_JS_SPACE)
    if _DECIMAL.fullmatch(trimmed):
        number = float(trimmed)
        if not math.isinf(number) and number.is_integer():
            return int(number)
    elif _RADIX.fullmatch(trimmed):
        return int(trimmed, 0)
    return text


def set_value_parts(path: Any) -> list[Any] | None:
    """The keys `setValue(obj, path, value)` walks, or None where it sets nothing (a falsy, numeric
    or boolean path). A path that is an object, or a list holding one, is JavaScript's TypeError."""
    if path is None or path is UNDEFINED or path is False or path == "" or isinstance(path, (int, float)):
        return None
    if isinstance(path, list):
        if any(isinstance(p, (dict, list)) for p in path):
            raise JavaScriptTypeError("Object keys must be strings or symbols")
        return list(path)
    if not isinstance(path, str):
        raise JavaScriptTypeError("Object keys must be strings or symbols")
    if "/" in path:  # preservePaths: a path holding a slash is one key
        return [path]
    parts, part, i = [], "", 0
    while i < len(path):
        char = path[i]
        if char == "\\":
            i += 1
            part += path[i] if i < len(path) else "undefined"
        elif char == ".":
            parts.append(_path_part(part))
            part = ""
        else:
            part += char
        i += 1
    if part:
        parts.append(_path_part(part))
    return parts


def _key(part: Any) -> str:
    return part if isinstance(part, str) else js_string(part)


def set_value(target: Any, path: Any, value: Any) -> Any:
    """`setValue(target, path, value)` (@rudderstack/integrations-lib over set-value) on a copy:
    the objects along the path are copied, `target` itself is never changed. Setting UNDEFINED
    deletes the key. Returns `target` unchanged where setValue sets nothing; raises TypeError where
    JavaScript does (with its message)."""
    unsafe = _unsafe_parts(path)
    if unsafe is not None:
        # integrations-lib defines such a path as one own property, named by the joined parts
        if not isinstance(target, (dict, list)):
            raise JavaScriptTypeError("Object.defineProperty called on non-object")
        if isinstance(target, list):
            return target  # a named property of an array: JSON.stringify does not write it
        root: dict[str, Any] | list[Any] = dict(target)
        _assign(root, ".".join(_key(p) for p in unsafe), value)
        return root
    if not truthy(path) or not isinstance(target, (dict, list)):
        return target
    parts = set_value_parts(path)
    if not parts:
        return target
    root = copy_container(target)
    node = root
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if last:
            _assign(node, part, value)
            break
        child = _read(node, part)
        if type(parts[index + 1]) is int and not isinstance(child, list):
            child = []
        elif not isinstance(child, (dict, list)):
            child = {}
        else:
            child = copy_container(child)
        _assign(node, part, child)
        node = child
    return root


def _unsafe_parts(path: Any) -> list[Any] | None:
    """The path's parts when integrations-lib's setValue finds a reserved key among them (__proto__,
    constructor, prototype), else None."""
    if isinstance(path, str):
        parts = set_value_parts(path) or []
    elif isinstance(path, list):
        parts = path
    else:
        return None
    return parts if any(isinstance(p, str) and p in _UNSAFE_KEYS for p in parts) else None


def copy_container(value: dict[str, Any] | list[Any]) -> dict[str, Any] | list[Any]:
    return dict(value) if isinstance(value, dict) else list(value)


def _read(node: dict[str, Any] | list[Any], part: Any) -> Any:
    if isinstance(node, dict):
        return node.get(_key(part), UNDEFINED)
    if type(part) is int and 0 <= part < len(node):
        return node[part]
    return UNDEFINED


def _assign(node: dict[str, Any] | list[Any], part: Any, value: Any) -> None:
    if isinstance(node, dict):
        if value is UNDEFINED:
            node.pop(_key(part), None)
        else:
            node[_key(part)] = value
        return
    if type(part) is not int or part < 0:
        return  # a named property of an array: JSON.stringify does not write it
    if value is UNDEFINED:
        if part < len(node):
            node[part] = _HOLE
        return
    if part >= len(node):
        node.extend([_HOLE] * (part + 1 - len(node)))
    node[part] = value


def js_json(value: Any) -> str:
    """JSON.stringify(value) for a parsed JSON value: compact, non-ASCII kept, numbers and key order as JavaScript has them."""
    parts: list[str] = []
    _write(value, parts)
    return "".join(parts)


def _write(value: Any, out: list[str]) -> None:
    if value is None or value is True or value is False:
        out.append("null" if value is None else "true" if value else "false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value) if abs(value) <= MAX_SAFE_INTEGER else number_to_string(float(value)))
    elif isinstance(value, float):
        out.append("null" if math.isnan(value) or math.isinf(value) else number_to_string(value))
    elif isinstance(value, dict):
        out.append("{")
        for index, key in enumerate(sorted(value, key=_js_key_order)):
            if index:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False) + ":")
            _write(value[key], out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        out.append(json.dumps(str(value), ensure_ascii=False))


def _js_key_order(key: Any) -> tuple[int, int]:
    """JavaScript writes an object's array-index keys first, ascending, then the others as they came."""
    text = str(key)
    if text.isdigit() and text.isascii() and (text == "0" or text[0] != "0") and int(text) < 2**32 - 1:
        return (0, int(text))
    return (1, 0)
