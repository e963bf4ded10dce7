"""The formats of names, label keys and label values, as apimachinery checks them
(``pkg/util/validation`` and ``pkg/api/validate/content``: IsDNS1123Label, IsDNS1035Label,
IsDNS1123Subdomain, IsLabelKey, IsLabelValue).

Each check answers the list of apimachinery's own messages for a value (empty: it is well
formed); object validation and label-selector parsing both word their errors with them. This
module must not know about objects, fields or HTTP.
"""

from __future__ import annotations

import re

_LABEL_FORMAT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_FORMAT = _LABEL_FORMAT + "(\\." + _LABEL_FORMAT + ")*"
_KEY_FORMAT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_VALUE_FORMAT = "(" + _KEY_FORMAT + ")?"
_DNS1035_FORMAT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035 = re.compile(f"^{_DNS1035_FORMAT}$")
_SUBDOMAIN = re.compile(f"^{_SUBDOMAIN_FORMAT}$")
_LABEL = re.compile(f"^{_LABEL_FORMAT}$")
_KEY = re.compile(f"^{_KEY_FORMAT}$")
_VALUE = re.compile(f"^{_VALUE_FORMAT}$")
_KEY_CHARACTERS = (
    "must consist of alphanumeric characters, '-', '_' or '.', "
    "and must start and end with an alphanumeric character"
)


def regex_error(message: str, regex: str, *examples: str) -> str:
    """apimachinery's RegexError: the rule, examples, then the regex it is checked with."""
    shown = " or ".join(f"'{e}', " for e in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{regex}')"


# How a too-long name is worded: util/validation's MaxLenError (object names) says
# "characters", the newer content package's (label keys and values) says "bytes".
NAMES, BYTES = "characters", "bytes"


def dns1123_label(value: str, unit: str = NAMES) -> list[str]:
    """apimachinery's IsDNS1123Label."""
    found = [f"must be no more than 63 {unit}"] if len(value) > 63 else []
    if not _LABEL.fullmatch(value):
        if _SUBDOMAIN.fullmatch(value):
            found.append("must not contain dots")
        else:
            found.append(
                regex_error(
                    "a lowercase RFC 1123 label must consist of lower case alphanumeric "
                    "characters or '-', and must start and end with an alphanumeric character",
                    _LABEL_FORMAT,
                    "my-name",
                    "123-abc",
                )
            )
    return found


def dns1035_label(value: str) -> list[str]:
    """apimachinery's IsDNS1035Label: a DNS-1123 label that starts with a letter (Service
    names: they become DNS names and environment variable prefixes)."""
    found = [f"must be no more than 63 {NAMES}"] if len(value) > 63 else []
    if not _DNS1035.fullmatch(value):
        found.append(
            regex_error(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
                "start with an alphabetic character, and end with an alphanumeric character",
                _DNS1035_FORMAT,
                "my-name",
                "abc-123",
            )
        )
    return found


def dns1123_subdomain(value: str, unit: str = NAMES) -> list[str]:
    """apimachinery's IsDNS1123Subdomain."""
    found = [f"must be no more than 253 {unit}"] if len(value) > 253 else []
    if not _SUBDOMAIN.fullmatch(value):
        found.append(
            regex_error(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                "characters, '-' or '.', and must start and end with an alphanumeric character",
                _SUBDOMAIN_FORMAT,
                "example.com",
            )
        )
    return found


def label_key(key: str) -> list[str]:
    """apimachinery's IsQualifiedName (IsLabelKey): an optional DNS subdomain prefix and '/',
    then a name of at most 63 alphanumerics, '-', '_' or '.'."""
    parts = key.split("/")
    found: list[str] = []
    if len(parts) > 2:
        rule = regex_error(_KEY_CHARACTERS, _KEY_FORMAT, "MyName", "my.name", "123-abc")
        return [
            f"a valid label key {rule} with an optional DNS subdomain prefix and '/' "
            "(e.g. 'example.com/MyName')"
        ]
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            found.append("prefix part must be non-empty")
        else:
            found += [f"prefix part {m}" for m in dns1123_subdomain(prefix, BYTES)]
    name = parts[-1]
    if not name:
        found.append("name part must be non-empty")
    elif len(name) > 63:
        found.append("name part must be no more than 63 bytes")
    if not _KEY.fullmatch(name):
        found.append(
            "name part " + regex_error(_KEY_CHARACTERS, _KEY_FORMAT, "MyName", "my.name", "123-abc")
        )
    return found


def label_value(value: str) -> list[str]:
    """apimachinery's IsValidLabelValue: empty, or at most 63 bytes like a key's name part."""
    found = ["must be no more than 63 bytes"] if len(value.encode()) > 63 else []
    if not _VALUE.fullmatch(value):
        found.append(
            regex_error(
                "a valid label must be an empty string or consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character",
                _VALUE_FORMAT,
                "MyValue",
                "my_value",
                "12345",
            )
        )
    return found


_CONFIG_KEY_FORMAT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile(f"^{_CONFIG_KEY_FORMAT}$")


def config_map_key(key: str) -> list[str]:
    """apimachinery's IsConfigMapKey: a key of a ConfigMap's or Secret's data (a file name
    when mounted, so never '.', '..' or anything starting with '..')."""
    found = [f"must be no more than 253 {NAMES}"] if len(key) > 253 else []
    if not _CONFIG_KEY.fullmatch(key):
        found.append(
            regex_error(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                _CONFIG_KEY_FORMAT,
                "key.name",
                "KEY_NAME",
                "key-name",
            )
        )
    if key in (".", ".."):
        found.append(f"must not be '{key}'")
    elif key.startswith(".."):
        found.append("must not start with '..'")
    return found


def port_name(name: str) -> list[str]:
    """apimachinery's IsValidPortName (an IANA service name: a named targetPort or
    containerPort)."""
    found = [f"must be no more than 15 {NAMES}"] if len(name) > 15 else []
    if not re.fullmatch("[-a-z0-9]+", name):
        found.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search("[a-z]", name):
        found.append("must contain at least one letter (a-z)")
    if "--" in name:
        found.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        found.append("must not begin or end with a hyphen")
    return found


def env_var_name(name: str) -> list[str]:
    """apimachinery's IsRelaxedEnvVarName, the rule of a container's env names since 1.32 (the
    RelaxedEnvironmentVariableValidation gate): printable ASCII other than '=', not empty."""
    found = ["environment variable name must be non-empty"] if not name else []
    if any(not " " <= character <= "~" or character == "=" for character in name):
        found.append(
            "a valid environment variable name must consist only of printable ASCII characters "
            "other than '='"
        )
    return found
