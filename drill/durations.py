"""Durations as people write them in plans: ``90s``, ``15m``, ``1h30m``, ``7d``, ``500ms``;
and moments as messages name them."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainSerializer, WithJsonSchema

_UNITS_S = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PATTERN = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
# What parse_duration accepts, for JSON Schema (ECMA 262 and Python regexes alike): units in
# order, at least one, around optional blanks. tests/plan/test_schema.py holds the two together.
DURATION_PATTERN = r"^\s*(?=\d)(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?\s*$"
_BARE_SECONDS_PATTERN = r"^\s*\d+\s*$"
# The labels a plan's JSON Schema gives these types (its "title", what editors show on hover
# and `drill explain` prints as the type), and how each is written.
DURATION_LABEL = "duration"
WHOLE_SECONDS_LABEL = "duration in whole seconds"
DURATION_UNIT = "a whole number and a unit (ms, s, m, h, d), largest first: 500ms, 90s, 1h30m, 7d"
WHOLE_SECONDS_UNIT = "whole seconds, as a duration (60s, 5m) or a bare number of seconds (60)"
_HOW_TO_WRITE = "write a number with a unit, like 90s, 15m, 1h30m or 7d"
# The longest duration drill takes: a hundred years. Longer ones are typos, and past about 292
# years a wait on them no longer fits the platform's timeouts (nor a datetime, past 9999).
MAX_DURATION_S = 36500 * 86400.0
_TOO_LONG = f"is too long a duration to be meant (at most {MAX_DURATION_S / 86400:.0f}d)"


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError with a message fit for a user."""
    cleaned = text.strip()
    match = _PATTERN.match(cleaned)
    if not cleaned or match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration; {_HOW_TO_WRITE}")
    try:
        seconds = sum(
            int(value) * _UNITS_S[unit]
            for value, unit in zip(match.groups(), ("d", "h", "m", "s", "ms"), strict=True)
            if value
        )
    except (OverflowError, ValueError):  # more digits than a float (or int parsing) takes
        seconds = math.inf
    if not seconds <= MAX_DURATION_S:
        raise ValueError(f"{text!r} {_TOO_LONG}")
    return seconds


def format_moment(moment: datetime) -> str:
    """A moment as messages name it, in UTC, to the millisecond when it has a fraction:
    ``2026-01-02 03:04:05.250Z``."""
    utc = moment.astimezone(UTC)
    fraction = f".{utc.microsecond // 1000:03d}" if utc.microsecond else ""
    return f"{utc:%Y-%m-%d %H:%M:%S}{fraction}Z"


def format_duration(seconds: float) -> str:
    """Short human form: ``850ms``, ``12.3s``, ``4m05s``, ``2h03m``, ``3d04h``."""
    sign = "-" if seconds < 0 else ""
    s = abs(seconds)
    if s < 1:
        return f"{sign}{s * 1000:.0f}ms"
    if s < 60:
        return f"{sign}{s:.1f}s"
    whole = round(s)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d{hours:02d}h"
    if hours:
        return f"{sign}{hours}h{minutes:02d}m"
    return f"{sign}{minutes}m{secs:02d}s"


def _coerce_duration(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError("expected a duration such as 90s, 15m or 1h30m")
    if isinstance(value, int):
        like = [f"{value}s", f"{value}m"]
    elif math.isfinite(value):  # durations are whole numbers of a unit: 1.5 is 1s500ms
        like = [duration_text(value), duration_text(value * 60)]
    else:
        like = []
    meant = [text for text in like if _meant(text, value)]
    if meant:
        hint = " or ".join(dict.fromkeys(meant))
        raise ValueError(f"{value!r} has no unit; write it like {hint}")
    if value >= 1:
        raise ValueError(f"{value!r} {_TOO_LONG}")
    raise ValueError("expected a duration such as 90s, 15m or 1h30m")


def _meant(text: str, value: float) -> bool:
    """Whether ``text`` is a duration drill takes, and zero only where ``value`` is."""
    try:
        seconds = parse_duration(text)
    except ValueError:
        return False
    return seconds > 0 or value == 0


def duration_text(seconds: float) -> str:
    """The plan form of ``seconds`` in whole milliseconds, largest units first ("1h30m",
    "500ms"): a journaled plan validates again, and reads as a plan author writes it."""
    whole, millis = divmod(round(seconds * 1000), 1000)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, whole = divmod(whole, size)
        parts += [f"{count}{unit}"] if count else []
    parts += [f"{millis}ms"] if millis else []
    return "".join(parts) or "0s"


_DURATION_SCHEMA = {
    "title": DURATION_LABEL,
    "type": "string",
    "pattern": DURATION_PATTERN,
    # Shown by editors (VS Code, yaml-language-server) in place of the bare pattern.
    "patternErrorMessage": f"not a duration; {_HOW_TO_WRITE}",
}

# A plan field holding a duration: written "1h30m", held as seconds, written back as "5400s".
Duration = Annotated[
    float,
    BeforeValidator(_coerce_duration),
    PlainSerializer(duration_text, return_type=str, when_used="json"),
    WithJsonSchema(_DURATION_SCHEMA),
]


def _longer_than_zero(seconds: float) -> float:
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return seconds


# A duration of zero means nothing here: a target no run can meet, a backup no age can pass,
# a writer that never waits between writes.
PositiveDuration = Annotated[Duration, AfterValidator(_longer_than_zero)]


def _whole_seconds(value: object) -> object:
    """``60s``, ``5m`` or a bare integer (seconds, as DNS writes TTLs): whole seconds."""
    if isinstance(value, bool):
        raise ValueError("expected a duration in whole seconds, such as 60s or 5m")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value)  # "60" was always taken as seconds
    seconds = _coerce_duration(value)
    assert isinstance(seconds, float)  # _coerce_duration returns seconds or raises
    if seconds != int(seconds):
        raise ValueError(f"{value!r} is not whole seconds; write it like 60s or 5m")
    return int(seconds)


# A duration the system holds in whole seconds (a DNS TTL): written "60s" like every other
# duration in a plan; a bare integer still means seconds, as it always did.
WholeSeconds = Annotated[
    int,
    BeforeValidator(_whole_seconds),
    WithJsonSchema(
        {
            "title": WHOLE_SECONDS_LABEL,
            "anyOf": [
                {"type": "integer"},
                {"type": "string", "pattern": _BARE_SECONDS_PATTERN},
                {k: v for k, v in _DURATION_SCHEMA.items() if k != "title"},
            ],
        }
    ),
]
