"""A container's ``sh -c`` script read as ``sh`` reads it, as far as the sandbox follows it.

Words (with ``'single'`` and ``"double"`` quotes, backslashes, ``$VAR``, ``${VAR}`` and ``$?``,
split on whitespace when unquoted), output redirections (``>file``, ``2>/dev/null``, ``2>&1``,
``&>file``) and lists of simple commands joined by ``&&``, ``||``, ``;`` and newlines. What the
sandbox cannot follow faithfully (pipes, background jobs, subshells, command substitution,
input redirection, ``${VAR:-default}``, positional parameters, ``if``/``for``/``while``/
``case``) raises ``CannotSimulate`` naming the construct, so a rehearsal never passes on a
script it did not really read. This module must not run anything: ``programs`` does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_REDIRECT_TARGET = re.compile(r"[ \t]*(?:'([^']*)'|\"([^\"$`\\]*)\"|([^\s;&|<>()'\"`$]+))")
_CONTROL_WORDS = frozenset(
    {"if", "then", "else", "elif", "fi", "for", "while", "until", "do", "done", "case", "esac"}
)
_CONTROL_WORDS |= {"{", "}", "!", "function", "select"}


class CannotSimulate(Exception):
    """Something a container runs that the sandbox does not; the message names it."""


@dataclass(frozen=True)
class Part:
    """A piece of a word: literal text, or a variable (expanded quoted or unquoted)."""

    text: str
    kind: Literal["literal", "variable", "quoted variable"] = "literal"


Word = tuple[Part, ...]


@dataclass(frozen=True)
class Redirect:
    """Output descriptor ``fd`` (1 or 2) goes to a file (``target`` is its name), or to where
    descriptor ``target`` goes (``to_fd``)."""

    fd: int
    target: str
    to_fd: bool = False


@dataclass(frozen=True)
class Simple:
    words: tuple[Word, ...]
    redirects: tuple[Redirect, ...] = ()


@dataclass(frozen=True)
class Step:
    """A simple command and how it joins the one before: "" (first), "&&", "||" or ";"."""

    joint: str
    command: Simple


_Token = Word | Redirect | str  # a str is an operator: &&, || or ;


class _Lexer:
    """Splits a script into words, redirections and operators, one character at a time."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._at = 0
        self.tokens: list[_Token] = []
        self._parts: list[Part] = []
        self._literal: list[str] = []
        self._in_word = False
        self._plain = True  # the word so far has no quotes or expansions

    def run(self) -> list[_Token]:
        while self._at < len(self._text):
            self._step(self._text[self._at])
        self._end_word()
        return self.tokens

    def _peek(self, offset: int = 1) -> str:
        at = self._at + offset
        return self._text[at] if at < len(self._text) else ""

    def _step(self, char: str) -> None:
        if char in " \t":
            self._end_word()
            self._at += 1
        elif char == "\n" and not self._in_word and self.tokens[-1:] in (["&&"], ["||"]):
            self._at += 1  # a list goes on after a line ending in && or ||
        elif char in "\n;":
            self._operator(";", 1)
        elif char == "#" and not self._in_word:
            newline = self._text.find("\n", self._at)
            self._at = len(self._text) if newline < 0 else newline
        elif char in "&|":
            self._and_or(char)
        elif char == ">":
            self._redirect()
        elif char in "<()`":
            names = {"<": "an input redirection", "`": "command substitution"}
            raise CannotSimulate(f"{names.get(char, 'a subshell')} ({char})")
        elif char == "'":
            self._single_quoted()
        elif char == '"':
            self._double_quoted()
        elif char == "\\":
            self._escaped()
        elif char == "$":
            self._at += 1
            self._dollar(quoted=False)
        else:
            self._add(char)
            self._at += 1

    def _add(self, text: str, *, plain: bool = True) -> None:
        self._literal.append(text)
        self._in_word = True
        self._plain = self._plain and plain

    def _flush_literal(self) -> None:
        if self._literal:
            self._parts.append(Part("".join(self._literal)))
            self._literal = []

    def _end_word(self) -> None:
        if self._in_word:
            self._flush_literal()
            self.tokens.append(tuple(self._parts))
        self._parts, self._literal, self._in_word, self._plain = [], [], False, True

    def _operator(self, operator: str, length: int) -> None:
        self._end_word()
        self.tokens.append(operator)
        self._at += length

    def _and_or(self, char: str) -> None:
        if self._peek() == char:
            self._operator(char * 2, 2)
        elif char == "&" and self._peek() == ">":
            self._end_word()
            self._at += 2
            target = self._redirect_target()
            self.tokens += [Redirect(1, target), Redirect(2, target)]
        else:
            raise CannotSimulate("a pipe (|)" if char == "|" else "a background job (&)")

    def _redirect(self) -> None:
        word = "".join(self._literal) if not self._parts else ""
        if self._in_word and self._plain and word in ("1", "2"):
            fd = int(word)
            self._parts, self._literal, self._in_word, self._plain = [], [], False, True
        else:
            self._end_word()
            fd = 1
        self._at += 1
        if self._peek(0) == ">":
            self._at += 1  # appending changes nothing the log shows
        if self._peek(0) == "&":
            self._at += 1
            target = self._redirect_target()
            if target not in ("1", "2"):
                raise CannotSimulate(f"a redirection to descriptor {target}")
            self.tokens.append(Redirect(fd, target, to_fd=True))
            return
        self.tokens.append(Redirect(fd, self._redirect_target()))

    def _redirect_target(self) -> str:
        found = _REDIRECT_TARGET.match(self._text, self._at)
        if found is None:
            raise CannotSimulate("a redirection without a plain file name")
        self._at = found.end()
        return next(group for group in found.groups() if group is not None)

    def _single_quoted(self) -> None:
        end = self._text.find("'", self._at + 1)
        if end < 0:
            raise CannotSimulate("an unterminated quote (')")
        self._add(self._text[self._at + 1 : end], plain=False)
        self._at = end + 1

    def _double_quoted(self) -> None:
        self._add("", plain=False)
        self._at += 1
        while self._at < len(self._text):
            char = self._text[self._at]
            if char == '"':
                self._at += 1
                return
            if char == "\\" and self._peek() in ('"', "\\", "$", "`", "\n"):
                self._add(self._peek() if self._peek() != "\n" else "", plain=False)
                self._at += 2
            elif char == "$":
                self._at += 1
                self._dollar(quoted=True)
            elif char == "`":
                raise CannotSimulate("command substitution (`)")
            else:
                self._add(char, plain=False)
                self._at += 1
        raise CannotSimulate('an unterminated quote (")')

    def _escaped(self) -> None:
        following = self._peek()
        self._at += 2
        if following != "\n":  # a backslash-newline continues the line
            self._add(following, plain=False)

    def _dollar(self, *, quoted: bool) -> None:
        """After a ``$``: a variable, or the ``$`` itself."""
        char = self._peek(0)
        if char == "{":
            end = self._text.find("}", self._at)
            name = self._text[self._at + 1 : end] if end > 0 else ""
            if not _NAME.fullmatch(name):
                raise CannotSimulate(f"a parameter expansion (${{{name}}})")
            self._at = end + 1
        elif char == "(":
            raise CannotSimulate("command substitution ($(...))")
        elif char == "?":
            name = "?"
            self._at += 1
        elif char and (char.isdigit() or char in "$!#@*-"):
            raise CannotSimulate(f"a special parameter (${char})")
        else:
            found = _NAME.match(self._text, self._at)
            if found is None:
                self._add("$")
                return
            name = found.group()
            self._at = found.end()
        self._flush_literal()
        self._parts.append(Part(name, "quoted variable" if quoted else "variable"))
        self._in_word, self._plain = True, False


def parse_script(script: str) -> list[Step]:
    """The script's simple commands, each with the operator joining it to the one before."""
    steps: list[Step] = []
    words: list[Word] = []
    redirects: list[Redirect] = []
    joint = ""
    for item in [*_Lexer(script).run(), ";"]:
        if isinstance(item, Redirect):
            redirects.append(item)
        elif isinstance(item, tuple):
            words.append(item)
        elif words or redirects:
            steps.append(Step(joint, _simple(words, redirects)))
            words, redirects, joint = [], [], item
        elif item != ";":
            raise CannotSimulate(f"a script with a syntax error near {item!r}")
        elif joint in ("&&", "||"):
            raise CannotSimulate(f"a script with a syntax error: a list ending in {joint}")
    return steps


def _simple(words: list[Word], redirects: list[Redirect]) -> Simple:
    first = words[0] if words else ()
    if len(first) == 1 and first[0].kind == "literal" and first[0].text in _CONTROL_WORDS:
        raise CannotSimulate(f"shell control flow ({first[0].text} ...)")
    return Simple(tuple(words), tuple(redirects))


def expand(word: Word, variables: Mapping[str, str]) -> list[str]:
    """The fields a word becomes: unquoted variables split on whitespace (and vanish when
    empty), everything else joined as written."""
    fields: list[str] = []
    current: str | None = None
    for part in word:
        if part.kind != "variable":
            value = part.text if part.kind == "literal" else variables.get(part.text, "")
            current = (current or "") + value
            continue
        value = variables.get(part.text, "")
        pieces = value.split()
        if not pieces:
            continue
        if value[0].isspace() and current is not None:
            fields.append(current)
            current = None
        if current is not None:
            pieces[0] = current + pieces[0]
        fields.extend(pieces[:-1])
        current = pieces[-1]
        if value[-1].isspace():
            fields.append(current)
            current = None
    if current is not None:
        fields.append(current)
    return fields


def assignment(word: Word) -> tuple[str, Word] | None:
    """``NAME=value`` as (name, the value's word), when the word is an assignment."""
    if not word or word[0].kind != "literal":
        return None
    name, equals, rest = word[0].text.partition("=")
    if not equals or not _NAME.fullmatch(name):
        return None
    return name, (Part(rest), *word[1:])
