"""Field types shared by plan and step params: durations, sizes, names, scalars."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    GetJsonSchemaHandler,
    PlainValidator,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue

from drill.durations import (
    DURATION_LABEL,
    DURATION_UNIT,
    WHOLE_SECONDS_LABEL,
    WHOLE_SECONDS_UNIT,
    Duration,
    PositiveDuration,
)

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
# Most Kubernetes objects (a Velero Backup or Schedule, a Deployment) are named by a DNS-1123
# subdomain: dot-separated labels, at most 253 characters in all.
_DNS_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_CONFIG_MAP_KEY = re.compile(r"^[-._a-zA-Z0-9]{1,253}$")
# A container's environment variable name, as the API server checks it (IsRelaxedEnvVarName,
# the rule since Kubernetes 1.32): printable ASCII but '=', at least one character.
_ENV_VAR_NAME = re.compile(r"^[ -<>-~]+$")
# A container image reference, as the kubelet parses it (the distribution project's
# reference grammar): registry[:port]/path[:tag][@digest], the path's components lowercase
# letters and digits joined by '.', '_', '__' or dashes. (\w would take any Unicode letter.)
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_IMAGE_REFERENCE = re.compile(
    rf"(?P<name>(?:{_HOST_PART}(?:\.{_HOST_PART})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
    rf"(?:/{_PATH_COMPONENT})+)"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)
_IMAGE_NAME_MAX = 255
_SIZE_UNITS = "B|KB|MB|GB|TB|KiB|MiB|GiB|TiB"
_SIZE = re.compile(rf"^(\d+)\s*({_SIZE_UNITS})?$")
_SIZE_FACTORS = {
    "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}  # fmt: skip


def _fullmatching(pattern: re.Pattern[str], what: str) -> Callable[[str], str]:
    """A validator passing a value ``pattern`` matches whole (never up to a final newline, as
    ``$`` would), refusing any other as not ``what``."""

    def check(value: str) -> str:
        if pattern.fullmatch(value) is None:
            raise ValueError(f"{value!r} is not {what}")
        return value

    return check


_kube_name = _fullmatching(
    _DNS_LABEL,
    "a valid Kubernetes name (lowercase letters, digits and '-', at most 63 characters, "
    "starting and ending with a letter or digit)",
)
_kube_object_name = _fullmatching(
    _DNS_SUBDOMAIN,
    "a valid Kubernetes object name (lowercase letters, digits, '-' and '.', at most 253 "
    "characters, starting and ending with a letter or digit)",
)


def is_kube_object_name(value: str) -> bool:
    """Whether ``value`` can name an object of most kinds (a ConfigMap, a Lease, a Velero
    Backup): a DNS-1123 subdomain, as the API server checks it."""
    return _DNS_SUBDOMAIN.fullmatch(value) is not None


def config_map_key(value: str) -> str:
    if not _CONFIG_MAP_KEY.fullmatch(value) or value in (".", ".."):
        raise ValueError(
            f"{value!r} is not a valid ConfigMap key (letters, digits, '-', '_' and '.', "
            "at most 253 characters)"
        )
    return value


_env_var_name = _fullmatching(
    _ENV_VAR_NAME,
    "an environment variable name Kubernetes accepts (printable ASCII characters other than "
    "'=', at least one)",
)


def _image_reference(value: str) -> str:
    """A reference the kubelet can pull; else ValueError, said now rather than by the
    kubelet's InvalidImageName once the run's Job waits on it."""
    first, slash, _ = value.partition("/")
    # As the kubelet splits it: a first component with '.' or ':', a capital letter, or
    # "localhost" names the registry; otherwise the registry is Docker Hub's.
    names_registry = any(c in first for c in ".:") or first == "localhost" or first != first.lower()
    full = value if slash and names_registry else f"docker.io/{value}"
    found = _IMAGE_REFERENCE.fullmatch(full)
    if (
        found is None
        or len(found["name"]) > _IMAGE_NAME_MAX
        or re.fullmatch(r"[a-f0-9]{64}", value)
    ):
        raise ValueError(
            f"{value!r} is not an image reference the kubelet can pull "
            "([registry[:port]/]name[:tag][@digest], the name in lowercase letters, digits, "
            "'.', '_', '-' and '/')"
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


# The labels the plan's JSON Schema gives these types as their "title" (what editors show on
# hover and `drill explain` prints as the type), and how a value of each is written.
KUBE_NAME_LABEL = "Kubernetes name"
SIZE_LABEL = "size"
SCALAR_LABEL = "plain value"
UNITS = {
    DURATION_LABEL: DURATION_UNIT,
    WHOLE_SECONDS_LABEL: WHOLE_SECONDS_UNIT,
    SIZE_LABEL: "bytes (1048576), or a whole number and a unit: B, KB, MB, GB, TB (powers of "
    "1000) or KiB, MiB, GiB, TiB (powers of 1024): 10MiB, 2GB",
}

# One requirement of a Kubernetes label selector: key, key=value, key==value, key!=value,
# !key, key in (a,b), key notin (a,b). Requirements are joined by commas outside parentheses.
_LABEL_KEY = r"(?:[a-z0-9A-Z.-]+/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?"
_REQUIREMENT = re.compile(
    rf"^(?P<not>!)?\s*(?P<key>{_LABEL_KEY})\s*"
    r"(?:(?P<op>==|!=|=)\s*(?P<value>[-a-zA-Z0-9_.]*)"
    r"|\s(?P<set>in|notin)\s*\((?P<values>[^()]*)\))?$"
)
_SET_OPERATORS = {"in": "In", "notin": "NotIn"}


def label_selector_object(text: str) -> dict[str, Any]:
    """A label selector as plans write it (``app=api,tier in (a,b),!debug``) as the
    LabelSelector object Kubernetes APIs take (matchLabels and matchExpressions), every
    requirement kept; ValueError naming the part that is not one."""
    labels: dict[str, str] = {}
    expressions: list[dict[str, Any]] = []
    for part in re.split(r",(?![^()]*\))", text.strip()):
        found = _REQUIREMENT.match(part.strip())
        if not found or (found["not"] and (found["op"] or found["set"])):
            raise ValueError(f"{part.strip()!r} is not a label selector requirement")
        _check_requirement(part.strip(), found)
        key = found["key"]
        if found["op"] in ("=", "=="):
            labels[key] = found["value"]
        elif found["op"] == "!=":
            expressions.append({"key": key, "operator": "NotIn", "values": [found["value"]]})
        elif found["set"]:
            # As apimachinery's parser reads them: "(a,)" and "(a,,b)" hold the empty value too.
            values = list(dict.fromkeys(v.strip() for v in found["values"].split(",")))
            expressions.append(
                {"key": key, "operator": _SET_OPERATORS[found["set"]], "values": values}
            )
        else:
            expressions.append(
                {"key": key, "operator": "DoesNotExist" if found["not"] else "Exists"}
            )
    selector: dict[str, Any] = {}
    if labels:
        selector["matchLabels"] = labels
    if expressions:
        selector["matchExpressions"] = expressions
    return selector


# What the API server holds a selector's keys and values to (apimachinery IsQualifiedName,
# IsValidLabelValue): a name part of at most 63 characters, an optional prefix that is a
# lowercase DNS subdomain of at most 253, values of at most 63.
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
LABEL_VALUE_MAX = 63  # characters of a label value, and of a label key's name part
_LABEL_VALUE_RULE = (
    "at most 63 characters: letters, digits, '-', '_' and '.', starting and ending with a "
    "letter or digit (or empty)"
)


def _check_requirement(part: str, found: re.Match[str]) -> None:
    """ValueError when the API server would refuse the requirement's key or values."""
    prefix, _, name = found["key"].rpartition("/")
    if len(name) > LABEL_VALUE_MAX or (prefix and not _DNS_SUBDOMAIN.fullmatch(prefix)):
        raise ValueError(
            f"{part!r}: the key {found['key']!r} is not a label key (a name of at most 63 "
            "characters, after an optional prefix that is a lowercase DNS subdomain and '/')"
        )
    if found["set"]:
        values = [v.strip() for v in found["values"].split(",")]
        if not any(values):
            # Kubernetes reads "()" as the empty value alone, which is seldom what was meant.
            same = f"{found['key']}{'=' if found['set'] == 'in' else '!='}"
            raise ValueError(
                f"{part!r}: {found['set']} needs at least one value (for the empty value "
                f"alone, write {same})"
            )
    else:
        values = [found["value"]] if found["op"] else []
    for value in values:
        if len(value) > LABEL_VALUE_MAX or (value and not _LABEL_NAME.fullmatch(value)):
            raise ValueError(f"{part!r}: {value!r} is not a label value ({_LABEL_VALUE_RULE})")


def _label_selector(value: str) -> str:
    label_selector_object(value)
    return value


LabelSelector = Annotated[
    str,
    AfterValidator(_label_selector),
    WithJsonSchema(
        {
            "title": "label selector",
            "type": "string",
            "description": "Kubernetes label selector: key=value, key!=value, key in (a,b), "
            "key notin (a,b), key, !key, joined by commas",
        }
    ),
]
KubeName = Annotated[
    str,
    AfterValidator(_kube_name),
    WithJsonSchema(
        {
            "title": KUBE_NAME_LABEL,
            "type": "string",
            "pattern": _DNS_LABEL.pattern,
            "patternErrorMessage": "not a Kubernetes name: lowercase letters, digits and '-', "
            "at most 63 characters, starting and ending with a letter or digit",
        }
    ),
]
# The name of an object most kinds give: a Velero Backup or Schedule, a Deployment.
KubeObjectName = Annotated[
    str,
    AfterValidator(_kube_object_name),
    WithJsonSchema(
        {
            "title": "Kubernetes object name",
            "type": "string",
            "pattern": _DNS_SUBDOMAIN.pattern,
            "patternErrorMessage": "not a Kubernetes object name: lowercase letters, digits, "
            "'-' and '.', at most 253 characters, starting and ending with a letter or digit",
        }
    ),
]
ConfigMapKey = Annotated[
    str,
    AfterValidator(config_map_key),
    WithJsonSchema(
        {
            "title": "ConfigMap key",
            "type": "string",
            "pattern": _CONFIG_MAP_KEY.pattern,
            "patternErrorMessage": "not a ConfigMap key: letters, digits, '-', '_' and '.', "
            "at most 253 characters",
        }
    ),
]
ImageReference = Annotated[
    str,
    AfterValidator(_image_reference),
    WithJsonSchema(
        {
            "title": "container image",
            "type": "string",
            "description": "[registry[:port]/]name[:tag][@digest], as the kubelet pulls it",
        }
    ),
]
EnvVarName = Annotated[
    str,
    AfterValidator(_env_var_name),
    WithJsonSchema(
        {
            "title": "environment variable name",
            "type": "string",
            "pattern": _ENV_VAR_NAME.pattern,
            "patternErrorMessage": "not an environment variable name Kubernetes accepts: "
            "printable ASCII characters other than '=', at least one",
        }
    ),
]
ByteSize = Annotated[
    int,
    BeforeValidator(_size),
    WithJsonSchema(
        {
            "title": SIZE_LABEL,
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": rf"^\s*\d+\s*({_SIZE_UNITS})?\s*$"},
            ],
        }
    ),
]


def not_a_bool(value: object) -> object:
    """``value`` unless it is true or false, which pydantic would take for the numbers 1 and 0."""
    if isinstance(value, bool):
        raise ValueError(f"expected a number, not {str(value).lower()}")
    return value


# Numbers in a plan: YAML's true and false are not numbers, never 1 and 0.
WholeNumber = Annotated[int, BeforeValidator(not_a_bool)]
Number = Annotated[float, BeforeValidator(not_a_bool)]


def exactly_one(owner: object, *fields: str) -> None:
    """Raise when not exactly one of ``fields`` is set on ``owner``."""
    given = [name for name in fields if getattr(owner, name) is not None]
    if len(given) != 1:
        names = ", ".join(fields)
        raise ValueError(f"set exactly one of {names} (got {len(given)})")


def _scalar(value: object) -> str | int | float | bool | None:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, date):  # datetime too
        raise ValueError(not_a_date(value))
    if isinstance(value, list | dict):
        raise ValueError(
            "expected a plain value (text, number or true/false), not a list or mapping"
        )
    raise ValueError("expected a plain value (text, number or true/false)")


def not_a_date(value: date) -> str:
    """What to say of a date where text belongs: YAML reads an unquoted 2024-01-01 as one."""
    return f"YAML reads {value} as a date, not as text: quote it"


SCALAR_SCHEMA: JsonSchemaValue = {
    "title": SCALAR_LABEL,
    "type": ["string", "number", "boolean", "null"],
}
# One clear error for a list or mapping, where a plain union would report one per member.
Scalar = Annotated[
    str | int | float | bool | None, PlainValidator(_scalar), WithJsonSchema(SCALAR_SCHEMA)
]


def _listed(value: object) -> object:
    return value if isinstance(value, list) else [value]


class _OneOrAList:
    """The JSON Schema of a list that a plan may also write as its one item."""

    def __get_pydantic_json_schema__(
        self, schema: Any, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        listed = handler(schema)
        return {"anyOf": [listed["items"], listed]}


T = TypeVar("T")
# A list that a plan may write as its one item alone: `expect_status: 200` is `[200]`.
OneOrMany = Annotated[list[T], BeforeValidator(_listed), _OneOrAList()]

__all__ = [
    "LABEL_VALUE_MAX",
    "ByteSize",
    "ConfigMapKey",
    "Duration",
    "EnvVarName",
    "KubeName",
    "KubeObjectName",
    "Number",
    "OneOrMany",
    "PositiveDuration",
    "Scalar",
    "WholeNumber",
    "exactly_one",
    "is_kube_object_name",
    "not_a_bool",
]
