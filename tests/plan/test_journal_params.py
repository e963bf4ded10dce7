"""Undo re-reads a step's params from the journal: every shipped step must survive the trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.plan import load_plan, resolve
from drill.steps import Mode
from drill.tiers import DEFAULT_TIERS
from tests.plan.helpers import SHIPPED_PLANS


@pytest.mark.parametrize("path", SHIPPED_PLANS, ids=lambda p: p.stem)
@pytest.mark.parametrize("mode", ["drill", "live"])
def test_params_validate_again_from_their_json_form(path: Path, mode: Mode) -> None:
    loaded = load_plan(path, DEFAULT_TIERS)
    plan = resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})
    checked = 0
    for step in plan.steps():
        if step.params is None:
            continue
        again = step.type.params_model.model_validate(step.params.model_dump(mode="json"))
        assert again == step.params, step.id
        checked += 1
    assert checked >= 5
