"""Reading a container's `sh -c` script as sh would: words, variables, redirections, lists."""

from __future__ import annotations

import pytest

from drill.sandbox.kube.controllers.shell import (
    CannotSimulate,
    Redirect,
    Step,
    assignment,
    expand,
    parse_script,
)

VARIABLES = {"HOST": "api-server", "OPTS": " -f  -s ", "EMPTY": "", "?": "7"}


def commands(script: str) -> list[tuple[str, list[str]]]:
    """(joint, argv) of each simple command, its words expanded with VARIABLES."""
    return [(step.joint, argv(step)) for step in parse_script(script)]


def argv(step: Step) -> list[str]:
    return [field for word in step.command.words for field in expand(word, VARIABLES)]


def test_quotes_variables_and_lists_read_as_sh_reads_them() -> None:
    script = 'curl -fsS "http://$HOST/x" \'a $HOST\' && echo ok || echo "failed: $?"'
    assert commands(script) == [
        ("", ["curl", "-fsS", "http://api-server/x", "a $HOST"]),
        ("&&", ["echo", "ok"]),
        ("||", ["echo", "failed: 7"]),
    ]


def test_unquoted_variables_split_into_fields_and_empty_ones_vanish() -> None:
    assert commands('curl $OPTS http://${HOST}:8080/ $EMPTY "$EMPTY" x$EMPTY') == [
        ("", ["curl", "-f", "-s", "http://api-server:8080/", "", "x"])
    ]


def test_newlines_semicolons_comments_and_continuations() -> None:
    script = "set -e\ncurl -f a &&\n  echo b; echo c\\\nd # not run\n\necho 'e  f'\n"
    assert commands(script) == [
        ("", ["set", "-e"]),
        (";", ["curl", "-f", "a"]),
        ("&&", ["echo", "b"]),
        (";", ["echo", "cd"]),
        (";", ["echo", "e  f"]),
    ]


def test_output_redirections_in_order() -> None:
    (quiet,) = parse_script("curl -sS http://x >/dev/null 2>&1")
    assert quiet.command.redirects == (Redirect(1, "/dev/null"), Redirect(2, "1", to_fd=True))
    (swapped,) = parse_script("curl http://x 2>&1 1> out.txt")
    assert swapped.command.redirects == (Redirect(2, "1", to_fd=True), Redirect(1, "out.txt"))
    (both,) = parse_script("curl http://x &> '/tmp/all'")
    assert both.command.redirects == (Redirect(1, "/tmp/all"), Redirect(2, "/tmp/all"))
    assert argv(both) == ["curl", "http://x"]
    (digit_argument,) = parse_script("echo 12>x")  # only a lone 1 or 2 names a descriptor
    assert argv(digit_argument) == ["echo", "12"]


@pytest.mark.parametrize(
    ("script", "named"),
    [
        ("curl -s http://x | grep ok", "a pipe (|)"),
        ("curl http://x &", "a background job (&)"),
        ("echo $(date)", "command substitution ($(...))"),
        ("echo `date`", "command substitution (`)"),
        ("(curl http://x)", "a subshell (()"),
        ("psql < query.sql", "an input redirection (<)"),
        ('echo "${TARGET:-x}"', "a parameter expansion (${TARGET:-x})"),
        ("echo $1", "a special parameter ($1)"),
        ("if curl -f http://x; then echo ok; fi", "shell control flow (if ...)"),
        ("for i in 1 2; do curl http://x; done", "shell control flow (for ...)"),
        ("echo 'open", "an unterminated quote (')"),
        ("curl http://x &&", "a list ending in &&"),
        ("|| curl http://x", "a syntax error near '||'"),
        ("&& curl http://x", "a syntax error near '&&'"),
    ],
)
def test_what_the_sandbox_cannot_follow_is_named(script: str, named: str) -> None:
    with pytest.raises(CannotSimulate) as caught:
        parse_script(script)
    assert named in str(caught.value)


def test_assignments_are_recognised_before_expansion() -> None:
    (step,) = parse_script('URL="http://$HOST/healthz" curl')
    found = assignment(step.command.words[0])
    assert found is not None
    name, value = found
    assert name == "URL"
    assert expand(value, VARIABLES) == ["http://api-server/healthz"]
    assert assignment(step.command.words[1]) is None
