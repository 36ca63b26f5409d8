"""JSON values as rudder-server's gateway reads and re-encodes them, and the string clean-up it applies.

* A request body is checked with `gjson.ValidBytes` and read with gjson `Value()` (`gateway/handle.go:331-346,
  366`): every JSON number becomes a float64 (gjson `Result.Value`, tidwall/gjson v1.19.0). `decode_body` and
  `as_gateway_values` give the same values: integers stay Python ints while a float64 holds them exactly,
  otherwise they become the float64 Go holds.
* `stringify_any` is rudder-go-kit's `stringify.Any` (go-kit@`stringify/stringify.go:9-23`): strings as they
  are, nil as "", anything else as Go's `encoding/json` writes it (sorted keys, `<>&` and U+2028/2029
  escaped, Go's float format).
* `sanitize_unicode` is go-kit@`sanitize/sanitize.go:73-80`; `trim_space` is Go's `strings.TrimSpace`.
"""
from __future__ import annotations

import json
import math
import re
import unicodedata
from decimal import Decimal
from typing import Any

from iterable_sim.exceptions import IterableSimError

# go-kit@sanitize/sanitize.go:12-61: invisible runes removed besides the ones unicode.IsPrint rejects.
INVISIBLE_RUNES = frozenset(
    "\u0000\u0009\u00a0\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u200b\u200c\u200d\u200e\u200f"
    "\u202f\u205f\u2060\u2061\u2062\u2063\u2064\u206a\u206b\u206c\u206d\u206e\u206f"
    "\u3000\u2800\u3164\ufeff\uffa0"
)


def _go_is_print(char: str) -> bool:
    """Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    (Python's Unicode tables may be a version behind Go's for newly assigned characters.)"""
    return char == " " or unicodedata.category(char)[0] in "LMNPS"


def sanitize_unicode(text: str) -> str:
    """go-kit `sanitize.Unicode`: drop invisible and non-printable characters (the ASCII space stays)."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(ch for ch in text if ch not in INVISIBLE_RUNES and _go_is_print(ch))


_GO_SPACE = " \t\n\v\f\r\u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"


def trim_space(text: str) -> str:
    """Go's strings.TrimSpace (Unicode White_Space at both ends)."""
    return text.strip(_GO_SPACE)


def clean_identifier(value: Any) -> str:
    """`strings.TrimSpace(sanitize.Unicode(stringify.Any(v)))`: how the gateway reads `anonymousId` and
    `userId` (`gateway/handle.go:372-373`)."""
    return trim_space(sanitize_unicode(stringify_any(value)))


def go_float(value: float) -> str:
    """A float64 as Go's encoding/json writes it: shortest digits, `f` format for 1e-6 <= |x| < 1e21,
    otherwise `e` format with a one-digit negative exponent kept short (e-7, not e-07)."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    magnitude = abs(value)
    if magnitude < 1e-6 or magnitude >= 1e21:
        text = repr(value)
        mantissa, _, exponent = text.partition("e")
        sign = exponent[0] if exponent[0] in "+-" else "+"
        digits = exponent.lstrip("+-")
        if sign == "-" and len(digits) == 2 and digits[0] == "0":
            digits = digits[1:]
        return f"{mantissa}e{sign}{digits}"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


_GO_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f",
               "<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_NEEDS_ESCAPE = re.compile('["\\\\\x00-\x1f<>&\u2028\u2029]')


def _go_string(text: str) -> str:
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _GO_ESCAPES.get(m[0], f"\\u{ord(m[0]):04x}"), text) + '"'


def go_json(value: Any) -> str:
    """Go's `json.Marshal` of a value decoded from JSON (Go 1.26: `\\b` and `\\f` short escapes)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _go_string(value)
    if isinstance(value, (int, float)):
        return go_float(float(value))
    if isinstance(value, dict):
        return "{" + ",".join(f"{_go_string(str(k))}:{go_json(v)}" for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(go_json(v) for v in value) + "]"
    return _go_string(str(value))


def stringify_any(value: Any) -> str:
    """go-kit `stringify.Any`."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return go_json(value)


def float64_number(value: int) -> int | float:
    """An integer as the float64 gjson gives: exact ints stay ints, others become that float64 (shown as an
    int while Go would write it without an exponent)."""
    if -(2 ** 53) <= value <= 2 ** 53:
        return value
    as_float = float(value)
    return int(as_float) if abs(as_float) < 1e21 else as_float


_SURROGATE = re.compile("[\ud800-\udfff]")


def _go_text(text: str) -> str:
    # An unpaired \\ud800-\\udfff escape decodes to U+FFFD in Go; Python keeps the lone surrogate.
    return _SURROGATE.sub("\ufffd", text) if not text.isascii() else text


def as_gateway_values(value: Any) -> Any:
    """A deep copy of a JSON-like value holding what the gateway's decoding would hold (numbers as float64,
    whole ones as ints since that is how they are written again, lone surrogates as U+FFFD, tuples as
    lists); other Python objects are kept as they are."""
    if isinstance(value, str):  # the commonest first
        return _go_text(value)
    if isinstance(value, dict):
        return {(_go_text(k) if isinstance(k, str) else k): as_gateway_values(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_gateway_values(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return float64_number(value)
    if isinstance(value, float):
        # A whole float64 is written without a fraction when the event is stored again (sonnet, as Go):
        # 1.0 reaches the transformer as 1.
        negative_zero = value == 0 and math.copysign(1.0, value) < 0
        if value.is_integer() and abs(value) < 1e21 and not negative_zero:
            return int(value)
        return value
    return value


class InvalidJSON(IterableSimError, ValueError):
    """The body is not JSON as gjson.ValidBytes accepts it."""


def _reject_constant(name: str) -> Any:
    raise InvalidJSON(f"{name} is not JSON")


def decode_body(body: bytes | str) -> Any:
    """A request body decoded as the gateway holds it; raises InvalidJSON where `gjson.ValidBytes` fails
    (NaN/Infinity are not JSON; an empty body is not JSON)."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    try:
        decoded = json.loads(body, parse_constant=_reject_constant, parse_int=lambda s: float64_number(int(s)))
    except (ValueError, RecursionError) as error:
        raise InvalidJSON(str(error)) from None
    return as_gateway_values(decoded)
