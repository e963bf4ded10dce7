"""CronJob schedules, checked as the API server checks them: with robfig/cron v3's
``ParseStandard`` (five fields, or a descriptor such as ``@hourly`` or ``@every 1h30m``).

``schedule_error`` answers the parser's own error text, which the server puts in its 422
(``spec.schedule: Invalid value: "bogus": expected exactly 5 fields, found 1: [bogus]``).
``time_zone_errors`` answers what validateTimeZone says of a ``spec.timeZone``: Go's
``time.LoadLocation`` over the IANA database (kube-apiserver embeds one; here the system's,
and when the system has none, any well-formed name passes). This module must not know about
objects, HTTP or the store: a string in, a message out.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

_MONTHS = {
    m: n
    for n, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_DAYS = {d: n for n, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
# (min, max, names) of minute, hour, day of month, month, day of week.
_FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (0, 6, _DAYS),
)
_DESCRIPTORS = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
# validateTimeZone's characters of each part of a zone name (legacy names have 0-9 and +).
_TIME_ZONE_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")
# Go's time.ParseDuration: a sequence of decimal numbers, each with a unit, or "0".
_DURATION = re.compile(r"^[-+]?(0|(\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+$")


def schedule_error(schedule: str) -> str | None:
    """Why ``ParseStandard`` refuses ``schedule``, in its words; None when it parses."""
    if not schedule:
        return "empty spec string"
    spec = schedule
    if spec.startswith(("TZ=", "CRON_TZ=")):
        spec = spec[spec.index(" ") :].strip() if " " in spec else ""
    if spec.startswith("@"):
        return _descriptor_error(spec)
    fields = spec.split()
    if len(fields) != len(_FIELDS):
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    for text, bounds in zip(fields, _FIELDS, strict=True):
        for expression in filter(None, text.split(",")):
            error = _range_error(expression, *bounds)
            if error is not None:
                return error
    return None


def _descriptor_error(spec: str) -> str | None:
    if spec in _DESCRIPTORS:
        return None
    if spec.startswith("@every "):
        duration = spec.removeprefix("@every ")
        if _DURATION.fullmatch(duration):
            return None
        return f'failed to parse duration {spec}: time: invalid duration "{duration}"'
    return f"unrecognized descriptor: {spec}"


def _range_error(expression: str, low: int, high: int, names: dict[str, int]) -> str | None:
    """getRange: ``*`` or ``?``, a number or name, ``a-b``, each optionally ``/step``."""
    range_and_step = expression.split("/")
    low_and_high = range_and_step[0].split("-")
    try:
        if low_and_high[0] in ("*", "?"):
            start, end = low, high
        else:
            start = _number(low_and_high[0], names)
            if len(low_and_high) > 2:
                return f"too many hyphens: {expression}"
            end = _number(low_and_high[1], names) if len(low_and_high) == 2 else start
        if len(range_and_step) > 2:
            return f"too many slashes: {expression}"
        step = 1
        if len(range_and_step) == 2:
            step = _number(range_and_step[1], {})
            if len(low_and_high) == 1:
                end = high
    except ValueError as error:
        return str(error)
    if start < low:
        return f"beginning of range ({start}) below minimum ({low}): {expression}"
    if end > high:
        return f"end of range ({end}) above maximum ({high}): {expression}"
    if start > end:
        return f"beginning of range ({start}) beyond end of range ({end}): {expression}"
    if step == 0:
        return f"step of range should be a positive number: {expression}"
    return None


def _number(text: str, names: dict[str, int]) -> int:
    """parseIntOrName, then mustParseInt (strconv.Atoi's error wording)."""
    if text.lower() in names:
        return names[text.lower()]
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(
            f'failed to parse int from {text}: strconv.Atoi: parsing "{text}": invalid syntax'
        )
    number = int(text)
    if number < 0:
        raise ValueError(f"negative number ({number}) not allowed: {text}")
    return number


def time_zone_errors(name: str) -> list[str]:
    """batch validateTimeZone of a ``spec.timeZone`` that is set: why it is no zone."""
    if not name:
        return ["timeZone must be nil or non-empty string"]
    unknown = f"unknown time zone {name}"
    for part in name.split("/"):
        if part in (".", "..") or part.startswith("-") or not _TIME_ZONE_PART.fullmatch(part):
            return [unknown]
    found = []
    if name.lower() == "local":
        found.append(
            "timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones"
        )
    if name not in ("Local", "UTC") and not _loads(name):  # LoadLocation's own two names
        found.append(unknown)
    return found


def _loads(name: str) -> bool:
    zones = _zone_names()
    return not zones or name in zones


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())
