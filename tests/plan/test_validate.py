"""Plan loading and validation: every problem, at the right line, column and field."""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.fields import FieldInfo

from drill.durations import format_duration, parse_duration
from drill.errors import PlanError, Problem, UsageError
from drill.plan import (
    ExecutionPlan,
    LoadedPlan,
    PhaseName,
    Plan,
    ProbeSettings,
    ResolvedStep,
    StepSpec,
    find_plan,
    load_config,
    load_plan,
    resolve,
)
from drill.steps import STEP_TYPES, Mode
from drill.steps.backend_switch import BackendSwitchParams
from drill.steps.gcs_backup_fresh import GcsBackupFreshParams
from drill.steps.http_check import HttpCheckParams
from drill.steps.kube_job import KubeJobParams
from drill.steps.kube_namespace import KubeNamespaceParams
from drill.steps.kube_scale import KubeScaleParams
from drill.steps.kube_wait_ready import KubeWaitReadyParams
from drill.steps.velero_restore import VeleroRestoreParams
from drill.tiers import DEFAULT_TIERS, TargetOrigin, Targets
from tests.plan.helpers import (
    SHIPPED_PLANS,
    at,
    load_text,
    only,
    problems_of,
    spot,
    write,
)

HEADER = """\
version: 1
name: demo
service: api
tier: high
contexts:
  dr:
    kubecontext: dr-cluster
names:
  ns:
    drill: dr-test
    live: production
"""

READY_STEP = """\
    - id: ready
      type: kube.wait_ready
      context: dr
      with:
        namespace: ${ns}
"""

VALID = HEADER + "phases:\n  verify:\n" + READY_STEP


def with_verify(steps: str, header: str = HEADER) -> str:
    return header + "phases:\n  verify:\n" + steps


def single_steps(loaded: LoadedPlan, phase: PhaseName) -> list[StepSpec]:
    """The entries of ``phase``, which must all be single steps (no parallel group)."""
    entries = loaded.plan.phases.entries(phase)
    steps = [e for e in entries if isinstance(e, StepSpec)]
    assert len(steps) == len(entries), f"a parallel group in {phase}"
    return steps


def step_named(plan: ExecutionPlan, step_id: str) -> ResolvedStep:
    matches = [s for s in plan.steps() if s.id == step_id]
    assert len(matches) == 1, f"{step_id!r} in {[s.id for s in plan.steps()]}"
    return matches[0]


# --- a valid plan ---------------------------------------------------------------------------


def test_the_base_plan_is_valid(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, VALID)
    assert loaded.plan.name == "demo"
    assert loaded.source == str(tmp_path / "plan.yaml")
    (entry,) = loaded.plan.phases.entries("verify")
    assert entry.id == "ready"


# --- unknown fields -------------------------------------------------------------------------


def test_unknown_top_level_field_points_at_its_key_and_suggests(tmp_path: Path) -> None:
    text = VALID.replace("service: api", "servce: api")
    problems = problems_of(tmp_path, text)
    unknown = only(problems, "servce")
    assert unknown.message == "unknown field; did you mean 'service'?"
    assert spot(unknown) == at(text, "servce")
    assert only(problems, "service").message == "required field is missing"
    assert len(problems) == 2


def test_unknown_step_field_points_at_its_key_and_suggests(tmp_path: Path) -> None:
    text = with_verify(READY_STEP + "      timout: 5m\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].timout"
    assert problem.message == "unknown field; did you mean 'timeout'?"
    assert spot(problem) == at(text, "timout")
    assert problem.file == str(tmp_path / "plan.yaml")


def test_unknown_param_suggests_the_params_field(tmp_path: Path) -> None:
    text = with_verify(READY_STEP + "        selectr: app=api\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.selectr"
    assert problem.message == "unknown field; did you mean 'selector'?"
    assert spot(problem) == at(text, "selectr")


def test_unknown_field_far_from_any_known_one_lists_the_valid_ones(tmp_path: Path) -> None:
    text = VALID + "zzzqqq: 1\n"
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "zzzqqq"
    assert problem.message == (
        "unknown field; valid fields: version, name, description, service, tier, targets, "
        "contexts, names, lock, probes, phases"
    )


def test_an_unknown_step_param_lists_the_step_types_fields(tmp_path: Path) -> None:
    text = with_verify(READY_STEP + "        deployment: api\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.deployment"
    assert problem.message == (
        "unknown field; valid fields: namespace, selector, kinds, min_workloads, workloads"
    )


def test_a_missing_tier_lists_the_tiers(tmp_path: Path) -> None:
    text = VALID.replace("tier: high\n", "")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "tier"
    assert problem.message == (
        "required field is missing; known tiers: critical, high, medium, low"
    )


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            '"High Tier"',
            "unknown tier 'High Tier'; known tiers: critical, high, medium, low; "
            "did you mean 'high'?",
        ),
        (
            "CRITICAL",
            "unknown tier 'CRITICAL'; known tiers: critical, high, medium, low; "
            "did you mean 'critical'?",
        ),
        ("3", "should be a valid string (got 3); known tiers: critical, high, medium, low"),
    ],
)
def test_a_tier_that_is_no_known_tier_lists_the_tiers(
    tmp_path: Path, written: str, message: str
) -> None:
    text = VALID.replace("tier: high", f"tier: {written}")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "tier"
    assert problem.message == message
    assert spot(problem) == at(text, written)


def test_unknown_field_in_a_parallel_group_step(tmp_path: Path) -> None:
    steps = """\
    - id: both
      parallel:
        - id: one
          type: http.check
          with: {url: "https://a.example"}
        - id: two
          type: http.check
          descripton: typo here
          with: {url: "https://b.example"}
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].parallel[1].descripton"
    assert problem.message == "unknown field; did you mean 'description'?"
    assert spot(problem) == at(text, "descripton")


# --- wrong types ----------------------------------------------------------------------------


def test_wrong_scalar_type_points_at_the_value(tmp_path: Path) -> None:
    text = with_verify(READY_STEP + "      retries: many\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].retries"
    assert "valid integer" in problem.message
    assert "'many'" in problem.message
    assert spot(problem) == at(text, "many")


def test_list_where_a_string_belongs(tmp_path: Path) -> None:
    text = VALID.replace("service: api", "service: [api, web]")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "service"
    assert "valid string" in problem.message
    assert spot(problem) == at(text, "[api, web]")


def test_wrong_param_type_points_at_the_value(tmp_path: Path) -> None:
    steps = """\
    - id: scale
      type: kube.scale
      context: dr
      with:
        namespace: dr-test
        name: api
        replicas: lots
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.replicas"
    assert "valid integer" in problem.message
    assert spot(problem) == at(text, "lots")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("version: 1", "version: true", "version"),
        (
            "        namespace: ${ns}\n",
            "        namespace: ${ns}\n      retries: true\n",
            "phases.verify[0].retries",
        ),
        (
            "        namespace: ${ns}\n",
            "        namespace: ${ns}\n        min_workloads: true\n",
            "phases.verify[0].with.min_workloads",
        ),
        (
            "        namespace: ${ns}\n",
            "        namespace: ${ns}\n        min_workloads: false\n",
            "phases.verify[0].with.min_workloads",
        ),
    ],
)
def test_true_or_false_where_a_number_belongs_is_refused(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    """pydantic takes true for 1 and false for 0: `version: true` passed as version 1."""
    text = VALID.replace(old, new)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == field
    written = new.rsplit(": ", 1)[1].strip()
    assert problem.message == f"expected a number, not {written}"
    assert spot(problem) == at(text, written)


def _models_under(annotation: object, found: set[type[BaseModel]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation not in found:
            found.add(annotation)
            for info in annotation.model_fields.values():
                _models_under(info.annotation, found)
        return
    for argument in typing.get_args(annotation):
        _models_under(argument, found)


def _numbers_from_a_bool(value: object) -> bool:
    if isinstance(value, list | tuple):
        return any(_numbers_from_a_bool(item) for item in value)
    if isinstance(value, dict):
        return any(_numbers_from_a_bool(item) for item in value.values())
    return isinstance(value, int | float) and not isinstance(value, bool)


def _every_field_of_plans_and_params() -> list[tuple[str, str, FieldInfo]]:
    models: set[type[BaseModel]] = set()
    _models_under(Plan, models)
    _models_under(ProbeSettings, models)  # a probe's settings: checked after substitution
    for step_type in STEP_TYPES.values():
        _models_under(step_type.params_model, models)
    return [
        (model.__name__, name, info)
        for model in sorted(models, key=lambda m: m.__name__)
        for name, info in model.model_fields.items()
    ]


@pytest.mark.parametrize(
    ("model", "name", "info"),
    _every_field_of_plans_and_params(),
    ids=[f"{model}.{name}" for model, name, _ in _every_field_of_plans_and_params()],
)
def test_no_field_of_a_plan_or_a_step_takes_true_for_a_number(
    model: str, name: str, info: FieldInfo
) -> None:
    """Every field, those to come too: true is refused, or kept as true (a plain value)."""
    field_type: Any = (
        Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    )
    for flag in (True, False):
        try:
            value = TypeAdapter(field_type).validate_python(flag)
        except ValidationError:
            continue
        assert not _numbers_from_a_bool(value), f"{model}.{name} took {flag} for {value!r}"


@pytest.mark.parametrize(
    ("replicas", "valid"), [(2**31 - 1, True), (2**31, False), (10**20, False)]
)
def test_replicas_kubernetes_cannot_hold_are_refused(
    tmp_path: Path, replicas: int, valid: bool
) -> None:
    """A Deployment's replica count is an int32: the API server refuses a larger one, which
    would fail the run in its failover phase."""
    steps = f"""\
    - id: scale
      type: kube.scale
      context: dr
      with:
        namespace: ${{ns}}
        name: api
        replicas: {replicas}
"""
    text = with_verify(steps)
    if valid:
        load_text(tmp_path, text)
        return
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.replicas"
    assert "less than or equal to 2147483647" in problem.message
    assert spot(problem) == at(text, str(replicas))


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("selector: app in (a", "selector", "'app in (a' is not a label selector requirement"),
        # What the API server refuses too: a label value past 63 characters or not starting
        # and ending with a letter or digit, a prefix that is no lowercase DNS subdomain. And
        # an empty set, which it reads as the empty value alone: seldom what was meant.
        ("selector: app=" + "v" * 64, "selector", "'app=" + "v" * 64 + "': 'vvvv"),
        ("selector: 'app in (api, -web)'", "selector", "'app in (api, -web)': '-web' is not a"),
        ("selector: Example.com/app=web", "selector", "'Example.com/app=web': the key "),
        ("selector: 'app notin ()'", "selector", "'app notin ()': notin needs at least one"),
        (
            "selector: 'app in ( , )'",
            "selector",
            "'app in ( , )': in needs at least one value (for the empty value alone, write app=)",
        ),
        ("workloads: ['']", "workloads[0]", "'' is not a valid Kubernetes object name"),
        ("workloads: [Api Server]", "workloads[0]", "'Api Server' is not a valid Kubernetes"),
    ],
)
def test_a_wait_for_workloads_no_cluster_can_match_is_refused(
    tmp_path: Path, line: str, field: str, message: str
) -> None:
    """The API server refuses such a selector, and no workload has such a name: the wait
    would fail, or time out, only once the run had restored and failed over."""
    text = with_verify(READY_STEP + f"        {line}\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == f"phases.verify[0].with.{field}"
    assert problem.message.startswith(message)


def test_a_wait_with_an_empty_selector_waits_for_every_workload(tmp_path: Path) -> None:
    text = with_verify(READY_STEP + "        selector: ''\n        workloads: [api.v2]\n")
    (step,) = single_steps(load_text(tmp_path, text), "verify")
    assert step.with_["selector"] == ""


def test_a_scale_of_a_workload_no_cluster_can_hold_is_refused(tmp_path: Path) -> None:
    steps = """\
    - id: scale
      type: kube.scale
      context: dr
      with:
        namespace: ${ns}
        name: Api_Server
        replicas: 3
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.name"
    assert problem.message.startswith("'Api_Server' is not a valid Kubernetes object name")
    assert spot(problem) == at(text, "Api_Server")


def test_a_step_that_is_not_a_mapping(tmp_path: Path) -> None:
    text = with_verify("    - just-a-string\n")
    problems = problems_of(tmp_path, text)
    problem = only(problems, "phases.verify[0]")
    assert "dictionary" in problem.message
    assert spot(problem) == at(text, "just-a-string")


def test_a_plan_that_is_not_a_mapping(tmp_path: Path) -> None:
    (problem,) = problems_of(tmp_path, "- one\n- two\n")
    assert (problem.field, spot(problem)) == ("", (1, 1))
    assert problem.message.startswith("not a drill plan: the file holds a list, where a plan")


def test_a_file_that_is_no_plan_is_named_without_echoing_it(tmp_path: Path) -> None:
    secret = "root:x:0:0:root:/root:/bin/bash hunter2"
    (problem,) = problems_of(tmp_path, secret + "\n")
    assert "not a drill plan: the file holds a single value" in problem.message
    assert "hunter2" not in str(problem)


def test_a_huge_file_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text("name: " + "a" * (2 * 1024 * 1024) + "\n")
    with pytest.raises(PlanError) as raised:
        load_plan(path, ["high"])
    (problem,) = raised.value.problems
    assert problem.message == "larger than 1024 KiB: not a plan or config file"


@pytest.mark.parametrize("name", ["my_plan", "plan-", "-plan", "Plan", "a..b", "x" * 58])
def test_a_plan_name_that_cannot_name_its_lease_is_refused(tmp_path: Path, name: str) -> None:
    (problem,) = problems_of(tmp_path, VALID.replace("name: ", f"name: '{name}'  # ", 1))
    assert problem.field == "name"
    assert "its run lock is the Lease drill-" in problem.message


@pytest.mark.parametrize("name", ["a", "region-failure", "team.api-dr", "x" * 57])
def test_plan_names_that_name_a_lease_are_fine(tmp_path: Path, name: str) -> None:
    loaded = load_text(tmp_path, VALID.replace("name: ", f"name: '{name}'  # ", 1))
    assert loaded.plan.name == name


def test_wrong_version(tmp_path: Path) -> None:
    text = VALID.replace("version: 1", "version: 2")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "version"
    assert problem.message == "should be 1 (got 2)"
    assert spot(problem) == (1, len("version: ") + 1)


# --- step types, ids, contexts --------------------------------------------------------------


def test_misspelt_step_type_suggests_the_right_one(tmp_path: Path) -> None:
    text = with_verify(READY_STEP.replace("kube.wait_ready", "kube.wait_redy"))
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].type"
    assert problem.message == "unknown step type 'kube.wait_redy'; did you mean 'kube.wait_ready'?"
    assert spot(problem) == at(text, "kube.wait_redy")


def test_unknown_step_type_points_to_the_list(tmp_path: Path) -> None:
    text = with_verify(READY_STEP.replace("kube.wait_ready", "frobnicate"))
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].type"
    assert "unknown step type 'frobnicate'" in problem.message
    assert "drill list --types" in problem.message


def test_duplicate_step_id_names_the_first_line(tmp_path: Path) -> None:
    text = (
        HEADER
        + "phases:\n  restore:\n"
        + READY_STEP
        + "  verify:\n"
        + READY_STEP.replace("${ns}", "dr-test")
    )
    (problem,) = problems_of(tmp_path, text)
    first_line, _ = at(text, "id: ready", 0)
    second_line, second_column = at(text, "id: ready", 1)
    assert problem.field == "phases.verify[0].id"
    assert problem.message == f"duplicate step id 'ready' (first at line {first_line})"
    assert spot(problem) == (second_line, second_column + len("id: "))


def test_duplicate_step_id_inside_a_parallel_group(tmp_path: Path) -> None:
    steps = """\
    - parallel:
        - id: same
          type: http.check
          with: {url: "https://a.example"}
        - id: same
          type: http.check
          with: {url: "https://b.example"}
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].parallel[1].id"
    assert problem.message == f"duplicate step id 'same' (first at line {at(text, 'id: same')[0]})"


def test_bad_step_id(tmp_path: Path) -> None:
    text = with_verify(READY_STEP.replace("id: ready", "id: Ready Now"))
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].id"
    assert "'Ready Now' is not a valid id" in problem.message
    assert spot(problem) == at(text, "Ready Now")


def test_undefined_context_role(tmp_path: Path) -> None:
    text = with_verify(READY_STEP.replace("context: dr", "context: primary"))
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].context"
    assert problem.message == ("context role 'primary' is not defined under contexts (defined: dr)")
    assert spot(problem) == at(text, "primary")


def test_undefined_lock_context_role(tmp_path: Path) -> None:
    """The run lock's role once passed validation, then show and run ended in an internal
    error (KeyError) when they looked up its kube context."""
    text = with_verify(READY_STEP).replace("names:\n", "lock:\n  context: primary\nnames:\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "lock.context"
    assert problem.message == ("context role 'primary' is not defined under contexts (defined: dr)")
    assert spot(problem) == at(text, "primary")


def test_a_lock_namespace_kubernetes_refuses_says_what_a_namespace_is(tmp_path: Path) -> None:
    """It was called an id, and told '_' and '.' were fine: a namespace takes neither."""
    text = with_verify(READY_STEP).replace("names:\n", "lock:\n  namespace: drill_locks\nnames:\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "lock.namespace"
    assert problem.message == (
        "'drill_locks' is not a valid Kubernetes name (lowercase letters, digits and '-', "
        "at most 63 characters, starting and ending with a letter or digit)"
    )
    assert spot(problem) == at(text, "drill_locks")


def test_a_lock_namespace_with_a_trailing_newline_is_refused(tmp_path: Path) -> None:
    """The name patterns' `$` matched before a final newline: "drill\\n" passed, and the
    Lease would have been asked of a namespace no cluster can have."""
    lock = 'lock:\n  namespace: "drill\\n"\nnames:\n'
    text = with_verify(READY_STEP).replace("names:\n", lock)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "lock.namespace"
    assert problem.message.startswith("'drill\\n' is not a valid Kubernetes name")
    assert spot(problem) == at(text, '"drill')


def test_step_type_that_needs_a_context_but_has_none(tmp_path: Path) -> None:
    text = with_verify(READY_STEP.replace("      context: dr\n", ""))
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0]"
    assert "kube.wait_ready runs against a cluster" in problem.message
    assert "context" in problem.message
    assert spot(problem) == at(text, "id: ready")


def test_step_type_without_a_cluster_needs_no_context(tmp_path: Path) -> None:
    text = with_verify("    - id: ping\n      type: http.check\n      with: {url: https://x.io}\n")
    assert single_steps(load_text(tmp_path, text), "verify")[0].context is None


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("7d", 604800), ("500ms", 0.5)],
)
def test_good_durations(tmp_path: Path, written: str, seconds: float) -> None:
    text = with_verify(READY_STEP + f"      timeout: {written}\n")
    (step,) = single_steps(load_text(tmp_path, text), "verify")
    assert step.timeout == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("90", "90 has no unit; write it like 90s or 90m"),
        ("1x", "'1x' is not a duration"),
        ('""', "'' is not a duration"),
        ("1h 30m", "'1h 30m' is not a duration"),
        ("[5m]", "expected a duration"),
        ("0s", "must be longer than zero"),
        # Durations are whole numbers of a unit: what a bare fraction would mean, written so.
        ("1.5", "1.5 has no unit; write it like 1s500ms or 1m30s"),
        ("-5", "expected a duration"),
        (".nan", "expected a duration"),
        # Longer than anyone means, and than a wait or a datetime can hold.
        ("36501d", "'36501d' is too long a duration to be meant (at most 36500d)"),
        ("999999999h", "'999999999h' is too long a duration to be meant"),
        ("99999999999999999999999d", "is too long a duration to be meant"),
        (".inf", "inf is too long a duration to be meant"),
        ("1.0e+400", "inf is too long a duration to be meant"),
    ],
)
def test_bad_durations(tmp_path: Path, written: str, expected: str) -> None:
    text = with_verify(READY_STEP + f"      timeout: {written}\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].timeout"
    assert expected in problem.message
    line, column = at(text, "timeout: ")
    assert spot(problem) == (line, column + len("timeout: "))


def test_bad_duration_in_targets_and_in_params(tmp_path: Path) -> None:
    header = HEADER.replace("tier: high\n", "tier: high\ntargets:\n  rto: 4 hours\n")
    steps = """\
    - id: fresh
      type: velero.backup_fresh
      context: dr
      with:
        schedule: daily
        max_age: 26
"""
    text = with_verify(steps, header)
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2
    assert spot(only(problems, "targets.rto")) == at(text, "4 hours")
    max_age = only(problems, "phases.verify[0].with.max_age")
    assert "26 has no unit" in max_age.message
    assert spot(max_age) == at(text, "26\n")


ZERO_MEANS_NOTHING = [
    # (step, the field that holds 0s, the message)
    (
        "type: kube.heartbeat\n      context: dr\n      with: {namespace: dr-test, interval: 0s}",
        "phases.verify[0].with.interval",
        "must be longer than zero",
    ),
    (
        "type: gcs.heartbeat\n      with: {bucket: data, prefix: hb/, interval: 0s}",
        "phases.verify[0].with.interval",
        "must be longer than zero",
    ),
    (
        "type: velero.backup_fresh\n      context: dr\n      with: {schedule: daily, max_age: 0s}",
        "phases.verify[0].with.max_age",
        "must be longer than zero",
    ),
    (
        "type: s3.backup_fresh\n      with: {bucket: data, prefix: db/, max_age: 0s}",
        "phases.verify[0].with.max_age",
        "must be longer than zero",
    ),
    (
        "type: kube.job\n      context: dr\n"
        "      with: {namespace: dr-test, image: i, command: [curl], active_deadline: 500ms}",
        "phases.verify[0].with.active_deadline",
        "must be at least 1s: Kubernetes takes a Job's activeDeadlineSeconds in whole seconds",
    ),
]


@pytest.mark.parametrize(("step", "field", "message"), ZERO_MEANS_NOTHING)
def test_a_duration_of_zero_where_it_means_nothing_is_refused(
    tmp_path: Path, step: str, field: str, message: str
) -> None:
    """A heartbeat interval of 0s ended a sandbox run with an internal error (a division by
    zero); a max_age of 0s fails every backup; Kubernetes refuses a Job deadline under 1s."""
    text = with_verify(f"    - id: zero\n      {step}\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == field
    assert problem.message.startswith(message)


@pytest.mark.parametrize("target", ["rto", "rpo"])
def test_a_target_of_zero_no_run_can_meet_is_refused(tmp_path: Path, target: str) -> None:
    plan = VALID.replace("tier: high\n", f"tier: high\ntargets:\n  {target}: 0s\n")
    (problem,) = problems_of(tmp_path, plan)
    assert (problem.field, problem.message) == (f"targets.{target}", "must be longer than zero")
    targets = {"rpo": "1m", "rto": "5m", target: "0s"}
    tier = "".join(f"    {name}: {value}\n" for name, value in targets.items())
    config = write(tmp_path, "tiers:\n  gold:\n" + tier, "config.yaml")
    with pytest.raises(PlanError) as caught:
        load_config(str(config), environ={})
    (problem,) = caught.value.problems
    assert (problem.field, problem.message) == (f"tiers.gold.{target}", "must be longer than zero")


# --- phases ---------------------------------------------------------------------------------


def test_empty_phase(tmp_path: Path) -> None:
    text = HEADER + "phases:\n  restore: []\n  verify:\n" + READY_STEP
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.restore"
    assert problem.message == "is empty: add at least one step, or remove it"
    assert spot(problem) == at(text, "[]")


def test_missing_verify_phase(tmp_path: Path) -> None:
    text = HEADER + "phases:\n  restore:\n" + READY_STEP
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify"
    assert problem.message == "required field is missing"
    # Nothing to point at but the phases mapping, which starts at its first key.
    assert spot(problem) == at(text, "restore:")


def test_unknown_phase_suggests_a_known_one(tmp_path: Path) -> None:
    text = VALID + "  failovr:\n" + READY_STEP.replace("id: ready", "id: other")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.failovr"
    assert problem.message == "unknown field; did you mean 'failover'?"
    assert spot(problem) == at(text, "failovr")


def test_parallel_group_of_one_step_says_so(tmp_path: Path) -> None:
    steps = """\
    - parallel:
        - id: alone
          type: http.check
          with: {url: "https://a.example"}
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].parallel"
    # Not "is empty": the group has a step, just not the two that make it parallel.
    assert problem.message == "a parallel group needs at least 2 steps (got 1)"


def test_empty_list_param_is_not_called_an_empty_phase(tmp_path: Path) -> None:
    steps = """\
    - id: smoke
      type: kube.job
      context: dr
      with:
        namespace: dr-test
        image: curl
        command: []
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.command"
    assert "is empty" in problem.message
    assert "step" not in problem.message
    assert spot(problem) == at(text, "[]")


SMOKE_JOB = """\
    - id: smoke
      type: kube.job
      context: dr
      with:
        namespace: ${ns}
        image: curlimages/curl:8.10.1
        command: [curl, -fsS, http://api.dr-test.svc/healthz]
        env:
"""


@pytest.mark.parametrize(
    ("key", "shown"),
    [('"A=B"', "A=B"), ('""', ""), ('"caf\u00e9"', "café"), ('"TAB\\tHERE"', "TAB\tHERE")],
)
def test_a_job_env_name_the_api_server_refuses_is_refused_at_its_key(
    tmp_path: Path, key: str, shown: str
) -> None:
    """Kubernetes takes printable ASCII but '=' (IsRelaxedEnvVarName): the Job would be
    refused when the step creates it, in the middle of a run."""
    text = with_verify(SMOKE_JOB + f"          {key}: x\n          GOOD: y\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == f"phases.verify[0].with.env.{shown}"
    assert problem.message == (
        f"{shown!r} is not an environment variable name Kubernetes accepts (printable ASCII "
        "characters other than '=', at least one)"
    )
    assert spot(problem) == at(text, key)


def test_job_env_names_the_api_server_takes_are_fine(tmp_path: Path) -> None:
    names = ["MY_VAR", "my.env-name", "1DIGIT_FIRST", "with space", "a:b/c~!", "$(X)"]
    entries = "".join(f"          {name!r}: v\n" for name in names)
    loaded = load_text(tmp_path, with_verify(SMOKE_JOB + entries))
    (step,) = single_steps(loaded, "verify")
    params = KubeJobParams.model_validate({**step.with_, "namespace": "dr-test"})
    assert list(params.env) == names


JOB_IMAGE = """\
    - id: smoke
      type: kube.job
      context: dr
      with:
        namespace: ${ns}
        command: [curl, -fsS, http://api.dr-test.svc/healthz]
        image: """


@pytest.mark.parametrize(
    "image",
    [
        "curlimages/Curl",  # a capital in the name
        "'curlimages/curl: 8.10.1'",  # a space in the tag
        "gcr.io/Proj/app",
        "curl:8.10:1",
        "curl@sha256:abc",  # a digest far too short
        "curl:t\u00e9st",  # the tag takes ASCII letters only
        "a" * 64,  # taken for an image id, not a name
    ],
)
def test_an_image_the_kubelet_cannot_parse_is_refused_at_its_line(
    tmp_path: Path, image: str
) -> None:
    """The API server takes any image; the kubelet refuses it (InvalidImageName), so the
    Job would wait out its deadline in the middle of a run."""
    text = with_verify(JOB_IMAGE + image + "\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.image"
    assert "is not an image reference the kubelet can pull" in problem.message
    assert spot(problem) == at(text, image)


@pytest.mark.parametrize(
    "image",
    [
        "busybox",
        "curlimages/curl:8.10.1",
        # A capital in the first part makes it a registry's name, as for the kubelet.
        "MyRegistry/tools:v1",
        "localhost:5000/tools",
        "us-docker.pkg.dev/proj/repo/tools:1.2.3-rc_1",
        "'[::1]:5000/tools'",
        "tools@sha256:" + "0" * 64,
    ],
)
def test_images_the_kubelet_can_pull_are_fine(tmp_path: Path, image: str) -> None:
    loaded = load_text(tmp_path, with_verify(JOB_IMAGE + image + "\n"))
    (step,) = single_steps(loaded, "verify")
    assert step.with_["image"] == image.strip("'")


# --- names and modes ------------------------------------------------------------------------


def test_unknown_name_reference(tmp_path: Path) -> None:
    text = with_verify(READY_STEP.replace("${ns}", "${namespace}"))
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.namespace"
    assert problem.message == "unknown name ${namespace} (declared under names: ns)"
    assert spot(problem) == at(text, "${namespace}")


def test_unknown_name_reference_inside_a_longer_string(tmp_path: Path) -> None:
    steps = """\
    - id: ping
      type: http.check
      with:
        url: "https://${host}/healthz"
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.url"
    assert "unknown name ${host}" in problem.message


LONG_SCHEDULE = "api-server-every-five-minutes-in-the-us-central1-primary-cluster"
assert len(LONG_SCHEDULE) == 64


@pytest.mark.parametrize(
    ("step_type", "source", "message"),
    [
        ("velero.backup_fresh", "schedule: ''", "'' is not a valid Kubernetes object name"),
        ("velero.backup_fresh", "backup: ''", "'' is not a valid Kubernetes object name"),
        ("velero.backup_fresh", "selector: ''", "'' is not a label selector requirement"),
        ("velero.backup_fresh", "selector: app=a b", "'app=a b' is not a label selector"),
        ("velero.restore", "schedule: ''", "'' is not a valid Kubernetes object name"),
        ("velero.restore", "backup: ''", "'' is not a valid Kubernetes object name"),
        ("velero.restore", "schedule: Daily_Backup", "'Daily_Backup' is not a valid Kubernetes"),
        ("velero.restore", "schedule: ${ns", "'${ns' is not a valid Kubernetes object name"),
        # Velero labels a schedule's backups with its name: a label value is at most 63.
        *[
            (
                step_type,
                f"schedule: {LONG_SCHEDULE}",
                f"'{LONG_SCHEDULE}' is 64 characters: Velero labels the backups of a schedule "
                "with its name (velero.io/schedule-name), and a label value holds at most 63",
            )
            for step_type in ("velero.backup_fresh", "velero.restore")
        ],
    ],
)
def test_a_velero_backup_source_no_backup_can_have_is_refused(
    tmp_path: Path, step_type: str, source: str, message: str
) -> None:
    """An empty schedule, backup or selector once matched every backup in the cluster (the
    newest of any schedule passed the check and was restored); a name no Kubernetes object can
    have found nothing, but only once the run had started."""
    steps = f"""\
    - id: backups
      type: {step_type}
      context: dr
      with:
        {source}
        max_age: 26h
        namespace_mapping: {{production: dr-test}}
"""
    if step_type == "velero.backup_fresh":
        steps = steps.replace("        namespace_mapping: {production: dr-test}\n", "")
    else:
        steps = steps.replace("        max_age: 26h\n", "")
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    field = source.split(":")[0]
    assert problem.field == f"phases.verify[0].with.{field}"
    assert problem.message.startswith(message)
    line, column = at(text, source)
    assert spot(problem) == (line, column + len(field) + 2)


@pytest.mark.parametrize(
    "source",
    [
        "schedule: daily-backup",
        f"schedule: {LONG_SCHEDULE[:63]}",
        "backup: daily.backup-20260101",
        f"backup: {LONG_SCHEDULE}-20260101020000",
        "selector: app=api",
    ],
)
def test_velero_backup_sources_that_name_backups_are_fine(tmp_path: Path, source: str) -> None:
    steps = f"""\
    - id: backups
      type: velero.backup_fresh
      context: dr
      with:
        {source}
        max_age: 26h
"""
    load_text(tmp_path, with_verify(steps))


def test_params_invalid_only_in_live_mode(tmp_path: Path) -> None:
    # Kubernetes names are lowercase: the live value is wrong, the drill value is fine.
    text = VALID.replace("live: production", "live: Production")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.namespace"
    assert problem.message.endswith("(in live mode)")
    assert "'Production' is not a valid Kubernetes name" in problem.message
    # The spot is where the reference is written, the step's param.
    assert spot(problem) == at(text, "${ns}")


def test_params_invalid_only_in_drill_mode_through_an_override(tmp_path: Path) -> None:
    steps = """\
    - id: scale
      type: kube.scale
      context: dr
      with:
        namespace: dr-test
        name: api
        replicas: 3
      drill:
        with:
          replicas: -1
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].drill.with.replicas"
    assert problem.message.endswith("(in drill mode)")
    assert spot(problem) == at(text, "-1")


def test_params_invalid_in_both_modes_say_no_mode(tmp_path: Path) -> None:
    text = with_verify(READY_STEP.replace("${ns}", "Not_A_Name"))
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.namespace"
    assert not problem.message.endswith("mode)")


def test_skipped_mode_is_not_validated(tmp_path: Path) -> None:
    text = VALID.replace("live: production", "live: Production") + (
        "      live:\n        skip: not in a real recovery\n"
    )
    loaded = load_text(tmp_path, text)
    live = resolve(loaded.plan, loaded.source, "live", DEFAULT_TIERS, {})
    assert step_named(live, "ready").skip_reason == "not in a real recovery"


def test_an_empty_skip_skips_nothing_so_that_mode_is_validated(tmp_path: Path) -> None:
    # `skip:` with no reason is null: resolve runs the step, so validation must check it.
    steps = """\
    - id: ping
      type: http.check
      drill:
        skip:
      live:
        with:
          url: https://live.example
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.url"
    assert problem.message == "required field is missing (in drill mode)"


def test_skip_and_with_together(tmp_path: Path) -> None:
    text = with_verify(
        READY_STEP + "      drill:\n        skip: why\n        with: {selector: a=b}\n"
    )
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].drill"
    assert "not both" in problem.message


def test_bad_mapping_key_in_params_points_at_the_key(tmp_path: Path) -> None:
    steps = """\
    - id: restore
      type: velero.restore
      context: dr
      with:
        schedule: daily
        namespace_mapping:
          Bad_NS: dr-test
"""
    text = with_verify(steps)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.namespace_mapping.Bad_NS"
    assert "'Bad_NS' is not a valid Kubernetes name" in problem.message
    assert spot(problem) == at(text, "Bad_NS")


# --- YAML-level problems --------------------------------------------------------------------


def test_yaml_syntax_error(tmp_path: Path) -> None:
    text = VALID.replace("service: api", "service: api: web")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == ""
    assert problem.message.startswith("not valid YAML: ")
    assert "mapping values are not allowed" in problem.message
    line, column = at(text, ": web")
    assert spot(problem) == (line, column)


def test_tab_indentation(tmp_path: Path) -> None:
    text = VALID.replace("  dr:\n    kubecontext", "  dr:\n\tkubecontext")
    (problem,) = problems_of(tmp_path, text)
    assert problem.message.startswith("not valid YAML: ")
    assert spot(problem) == at(text, "\t")


def test_duplicate_yaml_keys_are_all_reported(tmp_path: Path) -> None:
    text = VALID.replace("tier: high\n", "tier: high\ntier: low\n") + "      type: http.check\n"
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2
    tier = only(problems, "tier")
    assert tier.message == "duplicate key 'tier'"
    assert spot(tier) == at(text, "tier: low")
    step_type = only(problems, "phases.verify[0].type")
    assert step_type.message == "duplicate key 'type'"
    assert spot(step_type) == at(text, "type: http.check")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    (problem,) = problems_of(tmp_path, text)
    assert problem == Problem(str(tmp_path / "plan.yaml"), 1, 1, "", "the file is empty")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(PlanError) as caught:
        load_plan(path, DEFAULT_TIERS)
    assert caught.value.problems == [Problem(str(path), 1, 1, "", "file not found")]
    assert str(caught.value) == f"{path}:1:1: file not found"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path, DEFAULT_TIERS)
    assert [p.message for p in caught.value.problems] == ["is a directory, not a file"]


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(VALID.replace("api", "caf\u00e9").encode("latin-1"))
    with pytest.raises(PlanError) as caught:
        load_plan(path, DEFAULT_TIERS)
    assert caught.value.problems == [Problem(str(path), 1, 1, "", "not UTF-8 text")]


def test_a_scalar_yaml_cannot_construct_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    # The resolver takes 2024-13-45 for a timestamp; constructing it raises ValueError.
    text = with_verify(READY_STEP + "        selector: 2024-13-45\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].with.selector"
    assert problem.message.startswith("not valid YAML: '2024-13-45' is not a valid timestamp")
    assert spot(problem) == at(text, "2024-13-45")


@pytest.mark.parametrize(
    ("text_of", "field", "written"),
    [
        (
            lambda: with_verify(READY_STEP.replace("${ns}", "2024-01-01")),
            "with.namespace",
            "2024-01-01",
        ),
        (
            lambda: with_verify(READY_STEP.replace("context: dr", "context: 2024-01-01 10:00:00")),
            "context",
            "2024-01-01 10:00:00",
        ),
        (
            lambda: with_verify(READY_STEP).replace("    drill: dr-test", "    drill: 2024-01-01"),
            "with.namespace",
            "2024-01-01",
        ),
    ],
)
def test_a_date_where_text_belongs_is_called_a_date(
    tmp_path: Path, text_of: Callable[[], str], field: str, written: str
) -> None:
    """YAML reads an unquoted 2024-01-01 as a date: it was called "not a list or mapping"
    under names, or "should be a valid string" elsewhere, neither of which says why."""
    text = text_of()
    problem = only(problems_of(tmp_path, text), f"phases.verify[0].{field}")
    assert problem.message.startswith(f"YAML reads {written} as a date, not as text: quote it")


@pytest.mark.parametrize("value", ["!!int many", "!!bool maybe", "!!float x"])
def test_explicit_tags_with_bad_values(tmp_path: Path, value: str) -> None:
    text = with_verify(READY_STEP + f"      retries: {value}\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "phases.verify[0].retries"
    assert problem.message.startswith("not valid YAML: ")
    assert spot(problem) == at(text, value)


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("service: api", "service: !!binary YXBp", "service"),
        ("name: demo", "name: !!binary ZGVtbw==", "name"),
        ("tier: high", "tier: !!binary aGlnaA==", "tier"),
        ("    drill: dr-test", "    drill: !!binary ZHItdGVzdA==", "names.ns.drill"),
        ("    drill: dr-test", "    ? !!binary ZHJpbGw=\n    : dr-test", "names.ns"),
    ],
)
def test_a_binary_value_where_text_belongs_is_refused(
    tmp_path: Path, old: str, new: str, field: str
) -> None:
    """`!!binary` gives bytes: they were taken for the text they decode to (the plan passed)
    or, as a key, for their repr."""
    text = VALID.replace(old, new)
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == field
    assert problem.message.startswith("a !!binary value is bytes, not text")
    assert spot(problem) == at(text, "!!binary")


def test_unsafe_tags_are_refused(tmp_path: Path) -> None:
    text = VALID.replace("service: api", "service: !!python/name:os.system ''")
    (problem,) = problems_of(tmp_path, text)
    assert problem.message.startswith("not valid YAML: ")
    assert "could not determine a constructor" in problem.message
    assert spot(problem) == at(text, "!!python")


def test_forbidden_control_character_is_located(tmp_path: Path) -> None:
    text = VALID.replace("service: api", "service: a\x07pi")
    (problem,) = problems_of(tmp_path, text)
    assert "unacceptable character #x0007" in problem.message
    assert spot(problem) == at(text, "\x07")


def test_deep_nesting_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    """Named where it first goes too deep, however deep it goes: at 1000 levels PyYAML's
    composer runs out of stack before drill's own limit is met."""
    for depth in (100, 1000):
        text = VALID + "extra: " + "[" * depth + "]" * depth + "\n"
        problems = [p for p in problems_of(tmp_path, text) if "nested more than 64" in p.message]
        assert len(problems) == 1, problems
        line, column = at(text, "[")
        assert spot(problems[0]) == (line, column + 63)  # the 64th: 65 deep with the root
        assert problems[0].field == "extra" + "[0]" * 63


def test_deep_block_nesting_is_named_where_it_goes_too_deep(tmp_path: Path) -> None:
    nested = "".join(f"{'  ' * level}k{level}:\n" for level in range(400)) + "  " * 400 + "x: 1\n"
    text = VALID + "extra:\n" + "".join("  " + line + "\n" for line in nested.splitlines())
    (problem,) = [p for p in problems_of(tmp_path, text) if "nested more than" in p.message]
    assert spot(problem) == at(text, "k63:")
    assert problem.field == "extra." + ".".join(f"k{level}" for level in range(63))


def test_self_referring_alias_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    text = VALID + "extra: &loop\n  again: *loop\n"
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "extra.again"
    assert "alias" in problem.message


def test_billion_laughs_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 8)]
    (problem,) = problems_of(tmp_path, "\n".join(lines) + "\n")
    assert problem.message == "the document is too large"


def test_merge_keys_let_a_mapping_override_what_it_merges(tmp_path: Path) -> None:
    steps = """\
    - id: ready
      type: kube.wait_ready
      context: dr
      with: &wait
        namespace: ${ns}
        selector: app=api
    - id: ready-web
      type: kube.wait_ready
      context: dr
      with:
        <<: *wait
        selector: app=web
"""
    loaded = load_text(tmp_path, with_verify(steps))
    first, second = single_steps(loaded, "verify")
    assert first.with_ == {"namespace": "${ns}", "selector": "app=api"}
    assert second.with_ == {"namespace": "${ns}", "selector": "app=web"}


def test_merge_keys_earlier_mappings_in_a_list_win(tmp_path: Path) -> None:
    text = with_verify(
        READY_STEP.replace("        namespace: ${ns}\n", "")
        + "        <<: [{namespace: first}, {namespace: second, selector: a=b}]\n"
    )
    (step,) = single_steps(load_text(tmp_path, text), "verify")
    assert step.with_ == {"namespace": "first", "selector": "a=b"}


def test_a_problem_in_a_merged_in_value_points_where_it_is_written(tmp_path: Path) -> None:
    steps = """\
    - id: ready
      type: kube.wait_ready
      context: dr
      with: &wait
        namespace: ${ns}
        min_workloads: -1
    - id: ready-web
      type: kube.wait_ready
      context: dr
      with:
        <<: *wait
        selector: app=web
"""
    text = with_verify(steps)
    problems = problems_of(tmp_path, text)
    assert [p.field for p in problems] == [
        "phases.verify[0].with.min_workloads",
        "phases.verify[1].with.min_workloads",
    ]
    assert {spot(p) for p in problems} == {at(text, "-1")}


def test_merge_keys_still_catch_a_real_duplicate(tmp_path: Path) -> None:
    text = with_verify(
        READY_STEP + "    - id: two\n      type: http.check\n      with:\n"
        "        <<: {url: 'https://a.example'}\n"
        "        url: https://b.example\n        url: https://c.example\n"
    )
    (problem,) = problems_of(tmp_path, text)
    assert problem.message == "duplicate key 'url'"
    assert spot(problem) == at(text, "url: https://c")


def test_merge_keys_resolve_nested_merges_with_the_same_rule(tmp_path: Path) -> None:
    text = with_verify(
        READY_STEP.replace("        namespace: ${ns}\n", "")
        + "        <<: [{<<: {namespace: inner, selector: x=y}, namespace: outer},"
        + " {selector: a=b}]\n"
    )
    (step,) = single_steps(load_text(tmp_path, text), "verify")
    assert step.with_ == {"namespace": "outer", "selector": "x=y"}


def test_merge_key_of_a_scalar_is_a_problem(tmp_path: Path) -> None:
    text = with_verify(READY_STEP + "        <<: just-text\n")
    (problem,) = problems_of(tmp_path, text)
    assert problem.message == "a merge key (<<) takes a mapping or a list of mappings"
    assert problem.field == "phases.verify[0].with"


def test_merge_key_referring_to_its_own_mapping_is_a_problem(tmp_path: Path) -> None:
    text = VALID + "extra: &loop\n  a: 1\n  <<: *loop\n"
    problems = problems_of(tmp_path, text)
    assert [p.message for p in problems] == ["a merge key refers to its own mapping"]


# --- tiers ----------------------------------------------------------------------------------


def test_unknown_tier(tmp_path: Path) -> None:
    text = VALID.replace("tier: high", "tier: hihg")
    (problem,) = problems_of(tmp_path, text)
    assert problem.field == "tier"
    assert problem.message.startswith("unknown tier 'hihg'; known tiers: critical, high")
    assert problem.message.endswith("did you mean 'high'?")
    assert spot(problem) == at(text, "hihg")


def test_tiers_come_from_the_caller(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("tier: high", "tier: gold"))
    assert load_plan(path, {"gold": Targets(60, 60)}).plan.tier == "gold"
    with pytest.raises(PlanError) as caught:
        load_plan(path, DEFAULT_TIERS)
    assert [p.field for p in caught.value.problems] == ["tier"]


# --- all at once ----------------------------------------------------------------------------


def test_every_problem_of_a_file_in_one_pass(tmp_path: Path) -> None:
    text = """\
version: 1
name: demo
service: api
tier: platinum
owner: team-sre
contexts:
  dr: {}
phases:
  preflight:
    - id: backup-fresh
      type: velero.backup_fresh
      context: primary
      with:
        schedule: daily
        max_age: 26h
  verify:
    - id: ready
      type: kube.wait_ready
      context: dr
      timeout: 90
      with:
        namespace: dr-test
    - id: smoke
      type: http.chek
      with:
        url: https://api.example.com/healthz
"""
    with pytest.raises(PlanError) as caught:
        load_text(tmp_path, text)
    problems = caught.value.problems
    assert [(p.field, spot(p)) for p in problems] == [
        ("tier", at(text, "platinum")),
        ("owner", at(text, "owner")),
        ("phases.preflight[0].context", at(text, "primary")),
        ("phases.verify[0].timeout", at(text, "90")),
        ("phases.verify[1].type", at(text, "http.chek")),
    ]
    # The error's text is one `file:line:col: field: message` line per problem.
    lines = str(caught.value).splitlines()
    assert len(lines) == 5
    assert lines[0].startswith(f"{tmp_path / 'plan.yaml'}:4:7: tier: unknown tier 'platinum'")


def test_problems_in_several_steps_and_modes_all_reported(tmp_path: Path) -> None:
    steps = """\
    - id: a
      type: kube.scale
      context: dr
      with: {namespace: "${ns}", name: x, replicas: -1, colour: red}
    - id: b
      type: http.check
      with: {url: "ftp://nope", within: 5}
"""
    text = with_verify(steps)
    problems = problems_of(tmp_path, text)
    assert sorted(p.field for p in problems) == [
        "phases.verify[0].with.colour",
        "phases.verify[0].with.replicas",
        "phases.verify[1].with.url",
        "phases.verify[1].with.within",
    ]
    assert problems == sorted(problems, key=lambda p: (p.line, p.column, p.field))


# --- shipped plans and resolution -----------------------------------------------------------


def test_there_are_shipped_plans() -> None:
    assert {p.stem for p in SHIPPED_PLANS} >= {"region-failure", "namespace-restore"}


@pytest.mark.parametrize("path", SHIPPED_PLANS, ids=lambda p: p.stem)
def test_shipped_plan_validates(path: Path) -> None:
    loaded = load_plan(path, DEFAULT_TIERS)
    assert loaded.plan.name == path.stem


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


@pytest.mark.parametrize("mode", ["drill", "live"])
@pytest.mark.parametrize("path", SHIPPED_PLANS, ids=lambda p: p.stem)
def test_shipped_plan_resolves_with_every_name_filled_in(path: Path, mode: Mode) -> None:
    loaded = load_plan(path, DEFAULT_TIERS)
    plan = resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})
    assert plan.mode == mode
    steps = list(plan.steps())
    assert steps
    for step in steps:
        assert (step.params is None) == step.skipped
        if step.params is not None:
            assert not [s for s in _strings(step.params.model_dump()) if "${" in s], step.id


def _shipped(name: str) -> Path:
    (path,) = [p for p in SHIPPED_PLANS if p.stem == name]
    return path


@pytest.fixture(scope="module")
def region_failure() -> dict[str, ExecutionPlan]:
    loaded = load_plan(_shipped("region-failure"), DEFAULT_TIERS)
    return {
        mode: resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})
        for mode in ("drill", "live")
    }


@pytest.fixture(scope="module")
def namespace_restore() -> dict[str, ExecutionPlan]:
    loaded = load_plan(_shipped("namespace-restore"), DEFAULT_TIERS)
    return {
        mode: resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})
        for mode in ("drill", "live")
    }


def test_region_failure_public_endpoint_only_in_live_mode(
    region_failure: dict[str, ExecutionPlan],
) -> None:
    drill = step_named(region_failure["drill"], "public-endpoint")
    assert drill.skipped
    assert drill.params is None
    assert drill.skip_reason is not None
    assert "serves users" in drill.skip_reason
    live = step_named(region_failure["live"], "public-endpoint")
    assert not live.skipped
    assert live.params is not None
    assert isinstance(live.params, HttpCheckParams)
    assert live.params.url == "https://api.example.com/healthz"
    assert live.params.within == 300


def test_region_failure_rollback_check_only_in_live_mode(
    region_failure: dict[str, ExecutionPlan],
) -> None:
    assert step_named(region_failure["drill"], "primary-serving").skipped
    live = step_named(region_failure["live"], "primary-serving")
    assert live.phase == "rollback"
    assert not live.skipped


@pytest.mark.parametrize(
    ("step_id", "field", "drill_value", "live_value"),
    [
        ("switch-dns", "record", "drill-api.example.com.", "api.example.com."),
        ("switch-dns", "rrdatas", ["34.56.78.90"], ["34.56.78.90"]),
        ("switch-backend", "service", "api-backend-drill", "api-backend"),
        ("scale-up-standby", "namespace", "dr-test", "production"),
        ("scale-up-standby", "name", "api-server", "api-server-standby"),
        ("scale-up-standby", "replicas", 20, 20),
        ("restore-namespace", "schedule", "api-server-5m", "api-server-5m"),
        (
            "restore-namespace",
            "namespace_mapping",
            {"production": "dr-test"},
            {"production": "production"},
        ),
        ("workloads-ready", "namespace", "dr-test", "production"),
    ],
)
def test_region_failure_names_per_mode(
    region_failure: dict[str, ExecutionPlan],
    step_id: str,
    field: str,
    drill_value: object,
    live_value: object,
) -> None:
    for mode, expected in (("drill", drill_value), ("live", live_value)):
        params = step_named(region_failure[mode], step_id).params
        assert params is not None
        assert getattr(params, field) == expected, mode


def test_region_failure_substitutes_inside_strings_and_lists(
    region_failure: dict[str, ExecutionPlan],
) -> None:
    backend = step_named(region_failure["live"], "switch-backend").params
    assert backend is not None
    assert isinstance(backend, BackendSwitchParams)
    assert backend.backends[0].target == (
        "projects/example-prod/zones/us-east1-b/instanceGroups/api-us-east1"
    )
    for mode, url in (
        ("drill", "http://api-server.dr-test.svc/healthz"),
        ("live", "http://api-server-standby.production.svc/healthz"),
    ):
        smoke = step_named(region_failure[mode], "smoke-test").params
        assert smoke is not None
        assert isinstance(smoke, KubeJobParams)
        assert smoke.command == ["curl", "-fsS", url]


def test_region_failure_targets_contexts_and_shape(
    region_failure: dict[str, ExecutionPlan],
) -> None:
    plan = region_failure["drill"]
    assert plan.tier == "critical"
    # The plan's own targets (rpo 5m, rto 30m) beat the tier's (5m / 15m).
    # rpo repeats the tier's value, so only rto is an override, and it says what it replaced.
    assert plan.targets == Targets(
        rpo_s=300, rto_s=1800, rto_origin=TargetOrigin("plan", tier_default_s=900)
    )
    assert plan.targets.describe("critical") == (
        "RPO 5m00s / RTO 30m00s (plan override; critical tier default 15m00s)"
    )
    assert plan.contexts == {
        "primary": "gke_prod_us-central1_primary",
        "dr": "gke_prod_us-east1_dr",
    }
    # The plan's one preflight entry is a parallel group (drill may put checks of its own first).
    (backups,) = [stage for stage in plan.phases["preflight"] if stage.group_id == "backups"]
    assert backups.parallel
    assert [s.id for s in backups.steps] == ["velero-backup-fresh", "database-export-fresh"]
    export = step_named(plan, "database-export-fresh").params
    assert export is not None
    assert isinstance(export, GcsBackupFreshParams)
    assert export.min_size == 1024 * 1024
    assert export.max_age == 600
    assert step_named(plan, "restore-namespace").timeout_s == 20 * 60
    assert [s.id for s in plan.steps("failover")] == [
        "switch-dns",
        "switch-backend",
        "scale-up-standby",
    ]


def test_context_overrides_replace_the_plans_kubecontext() -> None:
    loaded = load_plan(_shipped("region-failure"), DEFAULT_TIERS)
    plan = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {"dr": "kind-dr"})
    assert plan.contexts == {"primary": "gke_prod_us-central1_primary", "dr": "kind-dr"}


def test_namespace_restore_goes_to_dr_test_in_drill_and_production_live(
    namespace_restore: dict[str, ExecutionPlan],
) -> None:
    for mode, namespace in (("drill", "dr-test"), ("live", "production")):
        plan = namespace_restore[mode]
        restore = step_named(plan, "restore-production")
        assert restore.params is not None
        assert isinstance(restore.params, VeleroRestoreParams)
        assert restore.params.namespace_mapping == {"production": namespace}
        assert restore.params.schedule == "daily-backup"
        assert restore.timeout_s == 30 * 60
        for step_id in ("workloads-ready", "smoke-test"):
            params = step_named(plan, step_id).params
            assert params is not None
            assert isinstance(params, KubeWaitReadyParams | KubeJobParams)
            assert params.namespace == namespace
        smoke = step_named(plan, "smoke-test").params
        assert isinstance(smoke, KubeJobParams)
        assert smoke.command[-1] == f"http://api-server.{namespace}.svc/healthz"


def test_namespace_restore_creates_the_namespace_only_in_drill_mode(
    namespace_restore: dict[str, ExecutionPlan],
) -> None:
    drill = step_named(namespace_restore["drill"], "create-namespace")
    assert drill.params is not None
    assert isinstance(drill.params, KubeNamespaceParams)
    assert drill.params.name == "dr-test"
    assert drill.params.action == "create"
    live = step_named(namespace_restore["live"], "create-namespace")
    assert live.skipped
    assert live.skip_reason == "production already exists in a real recovery"


def test_namespace_restore_uses_its_tiers_targets(
    namespace_restore: dict[str, ExecutionPlan],
) -> None:
    assert namespace_restore["drill"].targets == Targets(rpo_s=3600, rto_s=4 * 3600)
    assert namespace_restore["drill"].contexts == {"dr": "dr-cluster"}


def test_a_whole_string_reference_keeps_its_type(tmp_path: Path) -> None:
    header = HEADER + "  replicas:\n    drill: 1\n    live: 12\n"
    steps = """\
    - id: scale
      type: kube.scale
      context: dr
      timeout: 2m
      with:
        namespace: ${ns}
        name: api
        replicas: ${replicas}
"""
    loaded = load_text(tmp_path, with_verify(steps, header))
    cases: list[tuple[Mode, int]] = [("drill", 1), ("live", 12)]
    for mode, replicas in cases:
        plan = resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})
        step = step_named(plan, "scale")
        assert step.params is not None
        assert isinstance(step.params, KubeScaleParams)
        assert step.params.replicas == replicas
        assert step.timeout_s == 120


def test_a_mode_override_replaces_only_the_params_it_names(tmp_path: Path) -> None:
    overrides = """\
        selector: app=api
      live:
        with:
          selector: app=api-standby
"""
    text = with_verify(READY_STEP + overrides)
    loaded = load_text(tmp_path, text)
    cases: list[tuple[Mode, str]] = [("drill", "app=api"), ("live", "app=api-standby")]
    for mode, selector in cases:
        plan = resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})
        params = step_named(plan, "ready").params
        assert params is not None
        assert isinstance(params, KubeWaitReadyParams)
        assert params.selector == selector
        assert params.namespace == ("dr-test" if mode == "drill" else "production")


# --- find_plan ------------------------------------------------------------------------------


def test_find_plan_by_name(tmp_path: Path) -> None:
    write(tmp_path, VALID, "demo.yaml")
    write(tmp_path, VALID, "other.yml")
    assert find_plan("demo", tmp_path) == tmp_path / "demo.yaml"
    assert find_plan("other", tmp_path) == tmp_path / "other.yml"


def test_find_plan_accepts_an_existing_path(tmp_path: Path) -> None:
    path = write(tmp_path, VALID, "anywhere.yaml")
    assert find_plan(str(path), tmp_path / "elsewhere") == path


def test_find_plan_unknown_name_lists_what_there_is(tmp_path: Path) -> None:
    write(tmp_path, VALID, "demo.yaml")
    with pytest.raises(UsageError) as caught:
        find_plan("dmeo", tmp_path)
    assert "no plan named 'dmeo'" in str(caught.value)
    assert "available: demo" in str(caught.value)


def test_find_plan_takes_a_file_name_from_the_plans_dir(tmp_path: Path) -> None:
    path = write(tmp_path, VALID, "demo.yaml")
    assert find_plan("demo.yaml", tmp_path) == path


def test_find_plan_a_missing_file_name_is_no_such_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        find_plan("nope.yaml", tmp_path)
    assert str(caught.value) == f"plan 'nope.yaml': no such file here or in {tmp_path}"


@pytest.mark.parametrize(
    ("given", "missing"),
    [("nope", "no plan named 'nope'"), ("nope.yaml", "plan 'nope.yaml': no such file here")],
)
def test_find_plan_without_a_plans_dir_says_there_is_none(
    tmp_path: Path, given: str, missing: str
) -> None:
    with pytest.raises(UsageError) as caught:
        find_plan(given, tmp_path / "plans")
    assert str(caught.value) == (
        f"{missing}, and there is no plans directory {tmp_path / 'plans'} here; "
        "give a plan file's path, or set --plans-dir or DRILL_PLANS_DIR"
    )


@pytest.mark.parametrize("name", ["../demo", "sub/demo", "..", "..demo", "sub\\demo"])
def test_find_plan_never_joins_a_path_onto_the_plans_dir(tmp_path: Path, name: str) -> None:
    plans = tmp_path / "plans"
    (plans / "sub").mkdir(parents=True)
    # Files these names would reach if they were joined onto the plans directory.
    write(tmp_path, VALID, "demo.yaml")
    write(plans / "sub", VALID, "demo.yaml")
    write(plans, VALID, "..demo.yaml")
    with pytest.raises(UsageError, match="no such file"):
        find_plan(name, plans)


@pytest.mark.parametrize("name", ["{tmp}/plans", "{tmp}/plans/", "{tmp}/a-dir.yaml"])
def test_a_directory_given_as_a_plan_is_named_as_one(tmp_path: Path, name: str) -> None:
    (tmp_path / "plans").mkdir()
    (tmp_path / "a-dir.yaml").mkdir()
    with pytest.raises(UsageError, match="a directory, not a plan file"):
        find_plan(name.format(tmp=tmp_path), tmp_path / "plans")


def test_a_bare_name_is_a_plan_name_even_where_a_directory_has_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = tmp_path / "plans"
    plans.mkdir()
    (tmp_path / "demo").mkdir()
    path = write(plans, VALID, "demo.yaml")
    monkeypatch.chdir(tmp_path)
    assert find_plan("demo", plans) == path


def test_shipped_plans_found_by_name() -> None:
    for path in SHIPPED_PLANS:
        assert find_plan(path.stem, path.parent) == path


# --- load_config ----------------------------------------------------------------------------


CONFIG = """\
tiers:
  high:
    rpo: 30m
    rto: 2h
  gold:
    rpo: 1m
    rto: 5m
"""


def test_config_overrides_and_adds_tiers(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG, "config.yaml")
    config = load_config(str(path), environ={})
    assert config.source == str(path)
    high, gold = config.tiers["high"], config.tiers["gold"]
    assert (high.rpo_s, high.rto_s, gold.rpo_s, gold.rto_s) == (1800, 7200, 60, 300)
    assert high.rto_origin == TargetOrigin("config", tier_default_s=4 * 3600)
    assert gold.describe("gold") == (
        "RPO 1m00s (config file override; gold is not a built-in tier) / "
        "RTO 5m00s (config file override; gold is not a built-in tier)"
    )
    for untouched in ("critical", "medium", "low"):
        assert config.tiers[untouched] == DEFAULT_TIERS[untouched]
    # A plan may now name the new tier, and resolves against the overridden targets.
    plan_path = write(tmp_path, VALID.replace("tier: high", "tier: gold"))
    loaded = load_plan(plan_path, config.tiers)
    resolved = resolve(loaded.plan, loaded.source, "drill", config.tiers, {})
    assert resolved.targets == gold


def test_a_plan_override_of_a_configured_tier_names_both_values(tmp_path: Path) -> None:
    config = load_config(str(write(tmp_path, CONFIG, "config.yaml")), environ={})
    overridden = VALID.replace("tier: high", "tier: high\ntargets:\n  rto: 3h")
    loaded = load_plan(write(tmp_path, overridden), config.tiers)
    resolved = resolve(loaded.plan, loaded.source, "drill", config.tiers, {})
    assert resolved.targets.rto_origin == TargetOrigin("plan", 4 * 3600, config_s=7200)
    assert resolved.targets.describe("high") == (
        "RPO 30m00s (config file override; high tier default 1h00m) / "
        "RTO 3h00m (plan override; 2h00m in the config file, high tier default 4h00m)"
    )


def test_config_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG, "from-env.yaml")
    assert load_config(None, environ={"DRILL_CONFIG": str(path)}).source == str(path)
    xdg = tmp_path / "xdg"
    (xdg / "drill").mkdir(parents=True)
    write(xdg / "drill", CONFIG, "config.yaml")
    config = load_config(None, environ={"XDG_CONFIG_HOME": str(xdg)})
    assert config.source == str(xdg / "drill" / "config.yaml")
    assert config.tiers["gold"].rto_s == 300


def test_no_config_file_means_the_built_in_tiers(tmp_path: Path) -> None:
    config = load_config(None, environ={"XDG_CONFIG_HOME": str(tmp_path)})
    assert config.source is None
    assert dict(config.tiers) == dict(DEFAULT_TIERS)


def test_a_named_config_file_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    for explicit, environ in ((str(path), {}), (None, {"DRILL_CONFIG": str(path)})):
        with pytest.raises(PlanError) as caught:
            load_config(explicit, environ=environ)
        assert caught.value.problems == [Problem(str(path), 1, 1, "", "file not found")]


def test_bad_config_reports_every_problem_where_it_is(tmp_path: Path) -> None:
    text = """\
tiers:
  high:
    rpo: 30
    rto: 2h
    rtoo: 3h
  gold:
    rpo: 1m
"""
    path = write(tmp_path, text, "config.yaml")
    with pytest.raises(PlanError) as caught:
        load_config(str(path), environ={})
    problems = caught.value.problems
    assert {p.file for p in problems} == {str(path)}
    rpo = only(problems, "tiers.high.rpo")
    assert "30 has no unit" in rpo.message
    assert spot(rpo) == at(text, "30")
    rtoo = only(problems, "tiers.high.rtoo")
    assert rtoo.message == "unknown field; did you mean 'rto'?"
    assert spot(rtoo) == at(text, "rtoo")
    missing = only(problems, "tiers.gold.rto")
    assert missing.message == "required field is missing"
    assert missing.line == at(text, "rpo: 1m")[0]
    assert len(problems) == 3
    assert str(caught.value).splitlines()[0] == f"{path}:3:10: tiers.high.rpo: " + rpo.message


def test_config_with_a_misspelt_section_and_bad_yaml(tmp_path: Path) -> None:
    path = write(tmp_path, "tier:\n  high: {rpo: 1m, rto: 1h}\n", "config.yaml")
    with pytest.raises(PlanError) as caught:
        load_config(str(path), environ={})
    (problem,) = caught.value.problems
    assert (problem.field, problem.message) == ("tier", "unknown field; did you mean 'tiers'?")
    path.write_text("tiers:\n  high: {rpo: 1m, rto: 1h\n", encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_config(str(path), environ={})
    (problem,) = caught.value.problems
    assert problem.message.startswith("not valid YAML")
    assert problem.line >= 2


# --- durations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("1h30m", 5400),
        ("7d", 7 * 86400),
        ("500ms", 0.5),
        ("1d2h3m4s5ms", 86400 + 7200 + 180 + 4 + 0.005),
        ("0s", 0),
        (" 2h ", 7200),
        ("90m", 5400),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["90", "1x", "", "   ", "1h 30m", "30m1h", "-5s", "1.5h", "h", "5 s", "5S", "1w"]
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration; write a number with a unit"):
        parse_duration(text)


def test_parse_duration_rejects_absurd_lengths() -> None:
    for digits in (400, 5000):
        with pytest.raises(ValueError, match="too long"):
            parse_duration("9" * digits + "s")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0ms"),
        (0.85, "850ms"),
        (1, "1.0s"),
        (12.34, "12.3s"),
        (60, "1m00s"),
        (245, "4m05s"),
        (3599, "59m59s"),
        (3600, "1h00m"),
        (7380, "2h03m"),
        (86400, "1d00h"),
        (3 * 86400 + 4 * 3600 + 59, "3d04h"),
        (-90, "-1m30s"),
        (-0.25, "-250ms"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize("text", ["90s", "15m", "1h30m", "7d", "2h03m", "4m05s"])
def test_format_then_parse_round_trips_whole_units(text: str) -> None:
    assert parse_duration(format_duration(parse_duration(text))) == parse_duration(text)
