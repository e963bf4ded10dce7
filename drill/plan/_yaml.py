"""YAML loading that remembers where every value came from.

PyYAML's composer gives nodes with marks; we turn them into plain Python values and keep a
side table from value path (``("phases", "restore", 0, "with", "backup")``) to line and column,
so every validation problem can name the exact spot in the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from drill.errors import Problem

Path = tuple[str | int, ...]

# Aliases let a tiny file expand into a huge value (the "billion laughs" trick); no plan needs
# anywhere near this many nodes.
_MAX_NODES = 100_000


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

    def build(self, node: yaml.Node, path: Path) -> object:
        self.count += 1
        if self.count > _MAX_NODES:
            raise _TooLarge
        self.located.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.constructor.construct_object(node)

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, object]:
        self.constructor.flatten_mapping(node)  # resolves `<<:` merge keys
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is None:
                continue
            child = (*path, key)
            if key in result:
                self.problems.append(self._here(key_node, child, f"duplicate key {key!r}"))
                continue
            self.located.keys[child] = (
                key_node.start_mark.line + 1,
                key_node.start_mark.column + 1,
            )
            result[key] = self.build(value_node, child)
        return result

    def _key(self, key_node: yaml.Node, path: Path) -> str | None:
        if not isinstance(key_node, yaml.ScalarNode):
            self.problems.append(self._here(key_node, path, "mapping keys must be plain strings"))
            return None
        key = self.constructor.construct_object(key_node)
        return key if isinstance(key, str) else str(key)

    def _here(self, node: yaml.Node, path: Path, message: str) -> Problem:
        mark = node.start_mark
        return Problem(self.located.file, mark.line + 1, mark.column + 1, dotted(path), message)


class _TooLarge(Exception):
    pass


def load_located(text: str, file: str) -> Located:
    """Parse one YAML document; raise PlanError-ready problems via the returned list."""
    located = Located(file=file, data=None)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise YamlProblems([_syntax_problem(exc, file)]) from None
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
        raise YamlProblems([_syntax_problem(exc, file)]) from None
    if builder.problems:
        raise YamlProblems(builder.problems)
    return located


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = " ".join(part for part in (exc.context, exc.problem) if part) or "not valid YAML"
    return Problem(file, line, column, "", f"not valid YAML: {message}")


class YamlProblems(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.problems = problems
