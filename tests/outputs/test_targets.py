"""Webhook URLs come from the environment or a file, and never show when printed or refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.errors import UsageError
from drill.outputs import NotifyTarget, Secret, notify_targets

SLACK = "https://hooks.slack.com/services/T000/B000/SLACKTOKEN"
HOOK = "https://hooks.example/drill?token=HOOKTOKEN"


def test_no_variable_and_no_file_means_no_targets() -> None:
    assert notify_targets({"DRILL_SLACK_WEBHOOK_URL": "  "}) == []


def test_urls_come_from_the_environment_slack_first() -> None:
    env = {"DRILL_WEBHOOK_URL": HOOK, "DRILL_SLACK_WEBHOOK_URL": SLACK}
    targets = notify_targets(env)
    assert [(t.kind, t.url.reveal()) for t in targets] == [("slack", SLACK), ("webhook", HOOK)]


def test_a_file_holds_the_url_on_its_first_line_and_wins_over_the_variable(
    tmp_path: Path,
) -> None:
    file = tmp_path / "slack-url"
    file.write_text(f"  {SLACK}  \r\nanything else\n")
    targets = notify_targets({"DRILL_SLACK_WEBHOOK_URL": "https://other.example/x"}, file, None)
    assert targets == [NotifyTarget("slack", Secret(SLACK))]


def test_the_url_never_shows_in_repr_or_str() -> None:
    target = notify_targets({"DRILL_SLACK_WEBHOOK_URL": SLACK})[0]
    for shown in (repr(target), str(target), f"{target.url}", repr([target])):
        assert "SLACKTOKEN" not in shown
        assert "hooks.slack.com" not in shown
    assert "***" in repr(target)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the first line is empty"),
        (b"\nhttps://hooks.example/SECRETLINE2\n", "the first line is empty"),
        (b"hooks.example/SECRETPATH\n", "not an http(s) URL"),
        (b"ftp://hooks.example/SECRETPATH\n", "not an http(s) URL"),
        (b"https://hooks.example/SECRET\xff\xfePATH\n", "not UTF-8 text"),
    ],
)
def test_a_bad_file_is_a_usage_error_naming_the_file_not_its_content(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    file = tmp_path / "hook-url"
    file.write_bytes(content)
    with pytest.raises(UsageError) as raised:
        notify_targets({}, None, file)
    message = str(raised.value)
    assert message.startswith(f"--webhook-file {file}: ")
    assert expected in message
    assert "SECRET" not in message
    assert raised.value.exit_code == 2


def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(UsageError, match=r"--slack-webhook-file .*nope: cannot read it"):
        notify_targets({}, missing, None)


def test_a_bad_variable_is_named_without_its_value() -> None:
    with pytest.raises(UsageError) as raised:
        notify_targets({"DRILL_WEBHOOK_URL": "not-a-url-SECRET"})
    assert "$DRILL_WEBHOOK_URL" in str(raised.value)
    assert "SECRET" not in str(raised.value)
