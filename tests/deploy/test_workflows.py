""".github/workflows: CI runs .ci/run on every push and pull request; tags publish the image."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.child import REPO

WORKFLOWS = REPO / ".github" / "workflows"
MAJOR_TAG = re.compile(r"^[\w.-]+/[\w.-]+@v\d+$")


def load(name: str) -> dict[str, Any]:
    loaded: dict[str | bool, Any] = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean true.
    loaded["on"] = loaded.pop(True, loaded.get("on"))
    workflow = {key: value for key, value in loaded.items() if isinstance(key, str)}
    assert workflow.keys() == loaded.keys(), f"{name}: a top-level key that is not a string"
    return workflow


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in job["steps"] if s.get("uses", "").split("@")[0] == action]


def one_step(job: dict[str, Any], action: str) -> dict[str, Any]:
    found = steps_using(job, action)
    assert len(found) == 1, f"{action}: {len(found)} steps"
    return found[0]


@pytest.mark.parametrize("name", ["ci.yml", "release.yml", "lock-upgrade.yml"])
def test_every_action_is_pinned_to_a_major_version(name: str) -> None:
    for job in load(name)["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert MAJOR_TAG.match(step["uses"]), step["uses"]


def test_ci_runs_the_ci_script_on_push_and_pull_request() -> None:
    workflow = load("ci.yml")
    assert set(workflow["on"]) == {"push", "pull_request"}
    assert workflow["permissions"] == {"contents": "read"}
    assert list(workflow["jobs"]) == ["check"]
    job = workflow["jobs"]["check"]
    one_step(job, "actions/checkout")
    python = one_step(job, "actions/setup-python")["with"]
    assert (python["python-version"], python["cache"]) == ("3.11", "pip")
    runs = [s for s in job["steps"] if "run" in s]
    assert [s["run"] for s in runs] == ["bash .ci/run"]
    assert runs[0]["env"]["CI"] == "true"


def test_release_pushes_the_image_to_ghcr_on_version_tags() -> None:
    workflow = load("release.yml")
    assert workflow["on"] == {"push": {"tags": ["v*"]}}
    assert workflow["permissions"] == {"contents": "read", "packages": "write"}
    assert list(workflow["jobs"]) == ["image"]
    job = workflow["jobs"]["image"]
    one_step(job, "docker/setup-buildx-action")
    login = one_step(job, "docker/login-action")["with"]
    assert login["registry"] == "ghcr.io"
    assert login["password"] == "${{ secrets.GITHUB_TOKEN }}"
    meta = one_step(job, "docker/metadata-action")
    assert "type=ref,event=tag" in meta["with"]["tags"]
    build = one_step(job, "docker/build-push-action")["with"]
    assert build["push"] is True
    assert build["tags"] == f"${{{{ steps.{meta['id']}.outputs.tags }}}}"


def test_release_image_name_is_ghcr_owner_drill_in_lowercase() -> None:
    job = load("release.yml")["jobs"]["image"]
    meta = one_step(job, "docker/metadata-action")["with"]
    naming = next(s for s in job["steps"] if f"steps.{s.get('id')}.outputs.name" in meta["images"])
    assert (
        naming["run"]
        == 'echo "name=ghcr.io/${GITHUB_REPOSITORY_OWNER,,}/drill" >> "$GITHUB_OUTPUT"'
    )


def test_lock_upgrade_runs_weekly_and_on_demand_and_tests_before_proposing() -> None:
    workflow = load("lock-upgrade.yml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert len(workflow["on"]["schedule"]) == 1
    job = workflow["jobs"]["upgrade"]
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs[:2] == ["make upgrade-lock", "bash .ci/run"]
    proposal = one_step(job, "peter-evans/create-pull-request")["with"]
    assert proposal["add-paths"] == "requirements/*.txt"
    assert "steps.suite.outcome" in proposal["title"]
    failing = job["steps"][-1]
    assert failing["if"] == "steps.suite.outcome != 'success'"
    assert "exit 1" in failing["run"]


def test_ci_caches_by_the_lock() -> None:
    job = load("ci.yml")["jobs"]["check"]
    python = one_step(job, "actions/setup-python")["with"]
    assert python["cache-dependency-path"] == "requirements/dev.txt"
