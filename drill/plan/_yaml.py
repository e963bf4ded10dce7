"""YAML loading that remembers where every value came from.

PyYAML's composer gives nodes with marks; we turn them into plain Python values and keep a
side table from value path (``("phases", "restore", 0, "with", "backup")``) to line and column,
so every validation problem can name the exact spot in the file.

Nodes come from LibYAML (PyYAML's C parser, some ten times faster) when it is installed and the
document is one on which it and PyYAML's own parser agree node for node, mark for mark; any
other document, and every document either rejects, is read by PyYAML's parser, whose messages
and positions drill reports. tests/plan/test_properties.py holds the two to that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from drill.errors import Problem, yaml_syntax_problem

Path = tuple[str | int, ...]

# Aliases let a tiny file expand into a huge value (the "billion laughs" trick); no plan needs
# anywhere near this many nodes.
_MAX_NODES = 100_000
# Plans nest a handful of levels; a limit keeps deep (or self-referring) documents from
# exhausting the Python stack here or in the validators downstream.
_MAX_DEPTH = 64
# What PyYAML's scalar constructors raise, instead of a YAMLError, for text its resolver took
# for a type (`2001-13-45` looks like a timestamp, is no date) or that is tagged with one it
# cannot be: `!!int x` (ValueError), `!!int ''` (IndexError), `!!bool x` (KeyError),
# `!!timestamp x` (AttributeError).
_SCALAR_ERRORS = (ValueError, KeyError, IndexError, AttributeError, TypeError, OverflowError)
_MERGE_TAG = "tag:yaml.org,2002:merge"
# What PyYAML counts as ending a line when it reports marks.
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_UNREADABLE = object()  # a scalar that could not be constructed; its problem is recorded
_BINARY = "a !!binary value is bytes, not text: write the text itself, without the tag"
_Pair = tuple[yaml.Node, yaml.Node]  # a key node and its value node
_FAST_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)
# Where LibYAML and PyYAML's parser part ways: LibYAML accepts tabs as separators, '?' inside a
# flow collection and tags PyYAML refuses, and counts a byte-order mark inside a line as a
# column. A document holding any of these is left to PyYAML.
_PARTING = re.compile("[\t!?]|.\ufeff", re.DOTALL)


@dataclass
class Located:
    """A loaded document and where each of its keys and values sits (1-based line, column)."""

    file: str
    data: object
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path, *, prefer_key: bool = False) -> tuple[int, int]:
        """Position of ``path``, or of its nearest ancestor that has one."""
        for depth in range(len(path), -1, -1):
            candidate = path[:depth]
            table_order = (self.keys, self.values) if prefer_key else (self.values, self.keys)
            for table in table_order:
                if candidate in table:
                    return table[candidate]
        return (1, 1)

    def problem(self, path: Path, message: str, *, prefer_key: bool = False) -> Problem:
        line, column = self.where(path, prefer_key=prefer_key)
        return Problem(self.file, line, column, dotted(path), message)


def dotted(path: Path) -> str:
    """``phases.restore[0].with.backup``: how a field is named in messages."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


class _Builder:
    def __init__(self, located: Located) -> None:
        self.located = located
        self.constructor = yaml.constructor.SafeConstructor()
        self.problems: list[Problem] = []
        self.count = 0
        self.open: list[yaml.Node] = []  # the collection nodes enclosing the current one
        self.merging: list[yaml.Node] = []  # mappings whose merge keys are being resolved

    def build(self, node: yaml.Node, path: Path) -> object:
        self.count += 1
        if self.count > _MAX_NODES:
            raise _TooLarge
        self.located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if any(node is outer for outer in self.open):
            self.problems.append(self._here(node, path, "an alias refers to a value containing it"))
            return None
        if len(self.open) >= _MAX_DEPTH:
            message = f"nested more than {_MAX_DEPTH} levels deep"
            self.problems.append(self._here(node, path, message))
            return None
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            self.open.append(node)
            try:
                return self._collection(node, path)
            finally:
                self.open.pop()
        value = self._scalar(node, path)
        return None if value is _UNREADABLE else value

    def _collection(self, node: yaml.Node, path: Path) -> object:
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]

    def _scalar(self, node: yaml.Node, path: Path) -> object:
        try:
            value = self.constructor.construct_object(node)
        except _SCALAR_ERRORS as exc:
            kind = node.tag.rsplit(":", 1)[-1]
            reason = f": {exc}" if isinstance(exc, ValueError) else ""
            message = f"not valid YAML: {node.value!r} is not a valid {kind}{reason}"
            self.problems.append(self._here(node, path, message))
            return _UNREADABLE
        if isinstance(value, bytes):
            # No field of a plan, config or world holds bytes; read as text, they would be
            # taken for the decoded text, or for their repr.
            self.problems.append(self._here(node, path, _BINARY))
            return _UNREADABLE
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, object]:
        chosen = self._resolved_pairs(node, path)
        result: dict[str, object] = {}
        for key, (key_node, value_node) in chosen.items():
            child = (*path, key)
            self.located.keys[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self.build(value_node, child)
        return result

    def _resolved_pairs(self, node: yaml.MappingNode, path: Path) -> dict[str, _Pair]:
        """The mapping's pairs with `<<:` merge keys resolved by the YAML 1.1 rule.

        Resolved here rather than by PyYAML, whose order of merged pairs changed between
        releases: the mapping's own keys win over merged ones, and among the mappings listed
        after `<<:`, an earlier one wins over a later one. Keys keep the place they first take
        (merged-in keys first, in the order listed, then the mapping's own).
        """
        if any(node is merging for merging in self.merging):
            self.problems.append(self._here(node, path, "a merge key refers to its own mapping"))
            return {}
        own: dict[str, _Pair] = {}
        sources: list[yaml.MappingNode] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                sources += self._merge_sources(value_node, path)
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            if key in own:
                message = f"duplicate key {key!r}"
                self.problems.append(self._here(key_node, (*path, key), message))
                continue
            own[key] = (key_node, value_node)
        merged: dict[str, _Pair] = {}
        self.merging.append(node)
        try:
            for source in sources:
                for key, pair in self._resolved_pairs(source, path).items():
                    merged.setdefault(key, pair)
        finally:
            self.merging.pop()
        ordered = dict.fromkeys([*merged, *own])
        return {key: own[key] if key in own else merged[key] for key in ordered}

    def _merge_sources(self, value: yaml.Node, path: Path) -> list[yaml.MappingNode]:
        """The mappings a `<<:` value names: one mapping, or a list of them, in order."""
        items = value.value if isinstance(value, yaml.SequenceNode) else [value]
        sources = [item for item in items if isinstance(item, yaml.MappingNode)]
        if len(sources) != len(items):
            message = "a merge key (<<) takes a mapping or a list of mappings"
            self.problems.append(self._here(value, path, message))
        return sources

    def _key(self, key_node: yaml.Node, path: Path) -> str | None:
        if not isinstance(key_node, yaml.ScalarNode):
            self.problems.append(self._here(key_node, path, "mapping keys must be plain strings"))
            return None
        key = self._scalar(key_node, path)
        if key is _UNREADABLE:
            return None
        return key if isinstance(key, str) else str(key)

    def _here(self, node: yaml.Node, path: Path, message: str) -> Problem:
        mark = node.start_mark
        return Problem(self.located.file, mark.line + 1, mark.column + 1, dotted(path), message)


class _TooLarge(Exception):
    pass


def compose(text: str) -> yaml.Node | None:
    """The document's node tree, as PyYAML's own parser gives it (None for an empty one);
    PyYAML's errors propagate."""
    node = libyaml_compose(text)
    return node if node is not None else yaml.compose(text, Loader=yaml.SafeLoader)


def libyaml_compose(text: str) -> yaml.Node | None:
    """The node tree LibYAML gives, when it is installed and the document is one on which it
    agrees with PyYAML's parser; None for every other document (and for an empty one)."""
    if _FAST_LOADER is None or _PARTING.search(text):
        return None
    try:
        node = yaml.compose(text, Loader=_FAST_LOADER)
    except (yaml.YAMLError, ValueError):
        return None  # PyYAML's parser says what is wrong, in the words drill reports
    # An empty scalar (a key with no value) is where the two place marks differently.
    if node is None or _has_empty_scalar(node):
        return None
    return node


def _has_empty_scalar(root: yaml.Node) -> bool:
    """Whether any scalar under ``root`` is empty; each node is looked at once (aliases)."""
    seen: set[int] = set()
    pending = [root]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if node.value == "":
                return True
        elif isinstance(node, yaml.SequenceNode):
            pending.extend(node.value)
        else:
            for key, value in node.value:
                pending += (key, value)
    return False


def load_located(text: str, file: str) -> Located:
    """Parse one YAML document; raise PlanError-ready problems via the returned list."""
    located = Located(file=file, data=None)
    try:
        node = compose(text)
    except yaml.MarkedYAMLError as exc:
        raise YamlProblems([yaml_syntax_problem(exc, file)]) from None
    except yaml.reader.ReaderError as exc:
        raise YamlProblems([_reader_problem(exc, text, file)]) from None
    except RecursionError:
        # PyYAML's composer recurses once per level of nesting; its parser does not.
        raise YamlProblems([_too_deep(text, file)]) from None
    except yaml.YAMLError as exc:
        raise YamlProblems([Problem(file, 1, 1, "", f"not valid YAML: {exc}")]) from None
    if node is None:
        raise YamlProblems([Problem(file, 1, 1, "", "the file is empty")])
    builder = _Builder(located)
    try:
        located.data = builder.build(node, ())
    except _TooLarge:
        raise YamlProblems([Problem(file, 1, 1, "", "the document is too large")]) from None
    except yaml.constructor.ConstructorError as exc:
        raise YamlProblems([yaml_syntax_problem(exc, file)]) from None
    if builder.problems:
        raise YamlProblems(builder.problems)
    return located


def _too_deep(text: str, file: str) -> Problem:
    """Where a document nested too deeply to compose first goes past the limit, and the field
    there, as the builder would name it: found from the parser's events, which nest nothing."""
    message = f"nested more than {_MAX_DEPTH} levels deep"
    frames: list[_Frame] = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionEndEvent):
            frames.pop()
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        path = frames[-1].child() if frames else ()
        if len(frames) >= _MAX_DEPTH:
            mark = event.start_mark
            line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
            return Problem(file, line, column, dotted(path), message)
        if isinstance(event, yaml.CollectionStartEvent):
            frames.append(_Frame(path, isinstance(event, yaml.MappingStartEvent)))
        elif frames and isinstance(event, yaml.ScalarEvent):
            frames[-1].saw_scalar(event.value)
    return Problem(file, 1, 1, "", message)


@dataclass
class _Frame:
    """An open collection while scanning events: its path and where in it the next node is."""

    path: Path
    mapping: bool
    index: int = -1  # of the node last seen: a sequence's item, or a mapping's key or value
    key: str = "?"  # a mapping's last scalar key ("?" for a collection used as a key)

    def child(self) -> Path:
        """The path of the node the next event starts (counted as seen)."""
        self.index += 1
        if not self.mapping:
            return (*self.path, self.index)
        if self.index % 2 == 0:
            self.key = "?"
            return self.path  # a key: named as its mapping is
        return (*self.path, self.key)

    def saw_scalar(self, value: str) -> None:
        if self.mapping and self.index % 2 == 0:
            self.key = value


def _reader_problem(exc: yaml.reader.ReaderError, text: str, file: str) -> Problem:
    """A character YAML does not allow; the reader gives its offset, not a line and column."""
    offset = exc.position
    breaks = list(_LINE_BREAK.finditer(text, 0, offset))
    line = len(breaks) + 1
    column = offset - (breaks[-1].end() if breaks else 0) + 1
    code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
    message = f"not valid YAML: unacceptable character #x{code:04x}: {exc.reason}"
    return Problem(file, line, column, "", message)


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems
