"""Field types shared by plan and step params: durations, sizes, names, scalars."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, PlainValidator

from drill.durations import Duration

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_CONFIG_MAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
_SIZE = re.compile(r"^(\d+)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?$")
_SIZE_FACTORS = {
    "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}  # fmt: skip


def _kube_name(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise ValueError(
            f"{value!r} is not a valid Kubernetes name (lowercase letters, digits and '-', "
            "at most 63 characters, starting and ending with a letter or digit)"
        )
    return value


def config_map_key(value: str) -> str:
    if not _CONFIG_MAP_KEY.match(value) or value in (".", ".."):
        raise ValueError(
            f"{value!r} is not a valid ConfigMap key (letters, digits, '-', '_' and '.', "
            "at most 253 characters)"
        )
    return value


def _size(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("expected a size such as 1024, 10MiB or 2GB")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value).strip())
    if not match:
        raise ValueError(f"{value!r} is not a size; write it like 1024, 10MiB or 2GB")
    return int(match.group(1)) * _SIZE_FACTORS[match.group(2) or "B"]


KubeName = Annotated[str, AfterValidator(_kube_name)]
ConfigMapKey = Annotated[str, AfterValidator(config_map_key)]
ByteSize = Annotated[int, BeforeValidator(_size)]


def exactly_one(owner: object, *fields: str) -> None:
    """Raise when not exactly one of ``fields`` is set on ``owner``."""
    given = [name for name in fields if getattr(owner, name) is not None]
    if len(given) != 1:
        names = ", ".join(fields)
        raise ValueError(f"set exactly one of {names} (got {len(given)})")


def _scalar(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise ValueError("expected a plain value (text, number or true/false), not a list or mapping")


# One clear error for a list or mapping, where a plain union would report one per member.
Scalar = Annotated[str | int | float | bool | None, PlainValidator(_scalar)]

__all__ = ["ByteSize", "ConfigMapKey", "Duration", "KubeName", "Scalar", "exactly_one"]
