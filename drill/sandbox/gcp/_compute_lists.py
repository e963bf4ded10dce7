"""Compute's list conventions, for the Compute emulator's list and aggregatedList methods.

What every Compute list method shares: ``maxResults`` (0-500, default 500) and
``pageToken``/``nextPageToken`` paging, a ``filter`` expression, and the two response shapes: a
plain list (``items``: the resources) and an aggregated list (``items``: a map from scope,
``global``, ``regions/R`` or ``zones/Z``, to that scope's resources under their plural name,
or to a ``NO_RESULTS_ON_PAGE`` warning where the page holds none of them).

Filters: one ``key op operand`` term, or terms each in parentheses, all of which must hold.
``eq`` and ``ne`` take a regular expression that must match the whole value; ``=`` and ``!=`` a
literal. Keys are dotted field names of the resource as the API renders it. This is what gcloud
sends when it passes a ``--filter`` on to the server. What the emulator does not implement
(``<``, ``>``, ``:*``, explicit AND/OR, keys that cross a list) is refused with 400 rather than
answered with the wrong resources.

Items arrive rendered, in the order the list answers them; this module decides nothing about
which resources exist.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from drill.sandbox.gcp._http import GoogleApiError

API_ROOT = "https://www.googleapis.com/compute/v1/"
MAX_RESULTS = 500

_TRUE_FALSE = {"true": True, "false": False}
_QUOTED = r'"(?:[^"\\]|\\.)*"' + "|" + r"'(?:[^'\\]|\\.)*'"
_TERM = re.compile(
    r"\s*(?P<key>[A-Za-z_][\w.]*)\s*(?P<op>\beq\b|\bne\b|!=|=)\s*"
    rf"(?P<operand>{_QUOTED}|[^()\s](?:[^()]*[^()\s])?)\s*"
)
_PARENTHESIZED = re.compile(rf"\s*\((?P<term>(?:{_QUOTED}|[^()\"'])*)\)\s*")

Document = dict[str, Any]
Predicate = Callable[[Mapping[str, Any]], bool]
_T = TypeVar("_T")


@dataclass(frozen=True)
class ListQuery:
    """A list request's parameters, checked."""

    max_results: int
    offset: int
    matches: Predicate
    include_all_scopes: bool


def list_query(query: Mapping[str, str]) -> ListQuery:
    """The list parameters of ``query``; 400 for a malformed one, as Compute answers."""
    order_by = query.get("orderBy")
    if order_by not in (None, "", "name"):
        # Compute also sorts by "creationTimestamp desc"; the emulator answers by name only.
        raise _invalid("orderBy", order_by, "The emulator sorts lists by name only.")
    return ListQuery(
        max_results=_max_results(query.get("maxResults")),
        offset=_offset(query.get("pageToken")),
        matches=parse_filter(query.get("filter") or ""),
        include_all_scopes=_boolean("includeAllScopes", query.get("includeAllScopes")),
        # returnPartialSuccess changes nothing here: every scope is reachable, so there is
        # never an ``unreachables`` to report.
    )


def list_document(kind: str, path: str, items: Sequence[Document], query: ListQuery) -> Document:
    """A plain list: one page of the ``items`` that match, under ``path`` (projects/...)."""
    chosen = [item for item in items if query.matches(item)]
    page, next_token = _page(chosen, query)
    document: Document = {"kind": kind, "id": path}
    if page:  # Compute leaves out an empty list
        document["items"] = page
    document["selfLink"] = API_ROOT + path
    if next_token is not None:
        document["nextPageToken"] = next_token
    return document


def aggregated_document(
    kind: str,
    items_key: str,
    path: str,
    scopes: Sequence[str],
    entries: Sequence[tuple[str, Document]],
    query: ListQuery,
) -> Document:
    """An aggregated list: one page of the ``(scope, resource)`` entries that match, grouped by
    scope; every scope of ``scopes`` the page has none of answers a warning instead."""
    chosen = [(scope, item) for scope, item in entries if query.matches(item)]
    page, next_token = _page(chosen, query)
    by_scope: dict[str, list[Document]] = {}
    for scope, item in page:
        by_scope.setdefault(scope, []).append(item)
    every_scope = list(scopes) + [scope for scope in by_scope if scope not in scopes]
    items = {
        scope: {items_key: by_scope[scope]} if scope in by_scope else _no_results(scope)
        for scope in every_scope
    }
    document: Document = {"kind": kind, "id": path, "items": items, "selfLink": API_ROOT + path}
    if next_token is not None:
        document["nextPageToken"] = next_token
    return document


def _no_results(scope: str) -> Document:
    return {
        "warning": {
            "code": "NO_RESULTS_ON_PAGE",
            "message": f"There are no results for scope '{scope}' on this page.",
            "data": [{"key": "scope", "value": scope}],
        }
    }


# --- paging -----------------------------------------------------------------------------------


def _page(items: Sequence[_T], query: ListQuery) -> tuple[list[_T], str | None]:
    end = query.offset + query.max_results
    next_token = str(end) if end < len(items) else None
    return list(items[query.offset : end]), next_token


def _max_results(raw: str | None) -> int:
    if raw is None or raw == "":
        return MAX_RESULTS
    if not raw.isdigit() or int(raw) > MAX_RESULTS:
        raise _invalid("maxResults", raw, f"Must be between 0 and {MAX_RESULTS}.")
    # The field is a uint32 whose unset value is 0, so 0 means the default.
    return int(raw) or MAX_RESULTS


def _offset(token: str | None) -> int:
    if not token:
        return 0
    if not token.isdigit():
        raise _invalid("pageToken", token, "The page token is not valid.")
    return int(token)


def _boolean(name: str, raw: str | None) -> bool:
    if raw is None or raw == "":
        return False
    if raw.lower() not in _TRUE_FALSE:
        raise _invalid(name, raw, "A boolean is expected.")
    return _TRUE_FALSE[raw.lower()]


# --- filters ----------------------------------------------------------------------------------


def parse_filter(expression: str) -> Predicate:
    """A predicate over rendered resources; 400 for what Compute or the emulator refuses."""
    if not expression.strip():
        return lambda _item: True
    terms = [_term(raw) for raw in _split_terms(expression)]
    return lambda item: all(term(item) for term in terms)


def _split_terms(expression: str) -> list[str]:
    if not expression.lstrip().startswith("("):
        return [expression]
    terms: list[str] = []
    position = 0
    while position < len(expression):
        found = _PARENTHESIZED.match(expression, position)
        if found is None:
            raise _unsupported_filter(expression)
        terms.append(found.group("term"))
        position = found.end()
    return terms


def _term(raw: str) -> Predicate:
    found = _TERM.fullmatch(raw)
    if found is None:
        raise _unsupported_filter(raw)
    key, op, operand = found.group("key", "op", "operand")
    literal = _unquoted(operand)
    if op in ("=", "!="):
        return _literal_term(key, literal, negated=op == "!=")
    try:
        pattern = re.compile(literal)
    except re.error as error:
        raise _invalid("filter", raw, f"Invalid regular expression: {error}.") from error
    return _pattern_term(key, pattern, negated=op == "ne")


def _literal_term(key: str, literal: str, negated: bool) -> Predicate:
    def holds(item: Mapping[str, Any]) -> bool:
        return (_value_text(item, key) == literal) != negated

    return holds


def _pattern_term(key: str, pattern: re.Pattern[str], negated: bool) -> Predicate:
    def holds(item: Mapping[str, Any]) -> bool:
        text = _value_text(item, key)
        return (text is not None and pattern.fullmatch(text) is not None) != negated

    return holds


def _unquoted(operand: str) -> str:
    """A quoted operand's text. Backslashes stay: in a pattern ``\\"`` still matches ``"``."""
    if len(operand) >= 2 and operand[0] == operand[-1] and operand[0] in "\"'":
        return operand[1:-1]
    return operand


def _value_text(item: Mapping[str, Any], key: str) -> str | None:
    """The field at the dotted ``key`` as the filter compares it; None where there is none."""
    value: Any = item
    for part in key.split("."):
        if isinstance(value, list):
            raise _unsupported_filter(key)
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list):
        raise _unsupported_filter(key)
    return None


def _unsupported_filter(expression: str) -> GoogleApiError:
    return _invalid(
        "filter",
        expression,
        "Invalid list filter expression, or one the emulator does not implement (it takes "
        "'key eq|ne pattern' and 'key =|!= literal' terms, several each in parentheses).",
    )


def _invalid(field_name: str, value: Any, why: str) -> GoogleApiError:
    return GoogleApiError(400, f"Invalid value for field '{field_name}': '{value}'. {why}")
