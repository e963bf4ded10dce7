"""Turn a located YAML document into a Plan, or into every problem it has, in one pass.

Two passes over the same document feed one list: pydantic checks the shape; the semantic pass
walks the raw data (so it still runs when the shape is partly wrong) for what a schema cannot
see: step types, their params in each mode, duplicate ids, context roles and name references.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import BaseModel, ValidationError

from drill.errors import PlanError, Problem
from drill.fieldtypes import not_a_date
from drill.plan._coverage import Change, Uncovered, position, uncovered
from drill.plan._models import (
    CLOUD_CHECK_STEP_ID,
    NAME_REF,
    PHASES,
    REACHABILITY_STEP_ID,
    ParallelGroup,
    Plan,
    StepSpec,
)
from drill.plan._probes import ProbeSettings
from drill.plan._yaml import Located, Path
from drill.steps import STEP_TYPES, AnyStepType, Mode, Resource, StepParams

MODES: tuple[Mode, ...] = ("drill", "live")
# Ids of the steps drill adds to a plan by itself (see drill/plan/_resolve.py).
RESERVED_IDS = frozenset({REACHABILITY_STEP_ID, CLOUD_CHECK_STEP_ID})


def validate_located(
    located: Located, known_tiers: Collection[str]
) -> tuple[Plan, list[Uncovered]]:
    """The plan and its warnings (what no later step checks, see ``_coverage``); raises
    PlanError with every problem when it is not valid."""
    if not isinstance(located.data, dict):
        # Said once, without echoing the file: it may be anything (a password file, a key).
        kind = "a list" if isinstance(located.data, list) else "a single value"
        message = (
            f"not a drill plan: the file holds {kind}, where a plan is a mapping with version, "
            "name, service, tier, contexts and phases"
        )
        raise PlanError([located.problem((), message)])
    plan, problems = _structure(located)
    problems = [_name_the_tiers(p, known_tiers) for p in problems]
    semantic_problems, checked = _semantics(located, known_tiers)
    unique = list(dict.fromkeys(problems + semantic_problems))
    if unique or plan is None:
        raise PlanError(unique)
    return plan, coverage_warnings(located, checked)


def _name_the_tiers(problem: Problem, known_tiers: Collection[str]) -> Problem:
    """A missing tier, or one that is no text, says which tiers there are: the plan's author
    has to pick one."""
    if problem.field != "tier":
        return problem
    message = f"{problem.message}; known tiers: {', '.join(known_tiers)}"
    return Problem(problem.file, problem.line, problem.column, problem.field, message)


def _structure(located: Located) -> tuple[Plan | None, list[Problem]]:
    try:
        return Plan.model_validate(located.data), []
    except ValidationError as exc:
        return None, pydantic_problems(exc, located, ())


def pydantic_problems(exc: ValidationError, located: Located, base: Path) -> list[Problem]:
    return pydantic_problems_for(exc, located, Plan, base)


def pydantic_problems_for(
    exc: ValidationError, located: Located, model: type[BaseModel], base: Path = ()
) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        # "~step"/"~group" are our union tags: in pydantic's path, never in the file.
        loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("~")))
        path, at_key = _key_path((*base, *loc))
        known = fields_at(model, error["loc"])
        message = _message(error, known)
        prefer_key = at_key or error["type"] == "extra_forbidden"
        problems.append(located.problem(path, message, prefer_key=prefer_key))
    return problems


def _key_path(path: Path) -> tuple[Path, bool]:
    """Pydantic ends the path of a bad mapping key with "[key]": point at that key instead."""
    if path and path[-1] == "[key]":
        return path[:-1], True
    return path, False


def _message(error: Mapping[str, Any], known_fields: Collection[str]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        hint = _did_you_mean(str(error["loc"][-1]), known_fields)
        valid = f"; valid fields: {', '.join(known_fields)}" if known_fields else ""
        return "unknown field" + (hint or valid)
    if kind == "too_short" and isinstance(error["input"], list):
        minimum = int((error.get("ctx") or {}).get("min_length", 1))
        return _too_short(error["loc"], len(error["input"]), minimum)
    if kind == "string_pattern_mismatch":
        return (
            f"{error['input']!r} is not a valid id: use lowercase letters, digits, '-', '_' "
            "and '.', starting with a letter or digit, at most 63 characters"
        )
    if kind in ("string_type", "invalid-json-value") and isinstance(error["input"], date):
        return not_a_date(error["input"])
    text = str(error["msg"])
    text = text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    text = text.replace("Input should be", "should be")
    received = error.get("input")
    if isinstance(received, str | int | float | bool) and kind not in ("value_error",):
        text += f" (got {received!r})"
    return text


def _too_short(loc: tuple[str | int, ...], given: int, minimum: int) -> str:
    """Phases and parallel groups hold steps; a step's params hold other things."""
    if loc and loc[-1] == "parallel":
        return f"a parallel group needs at least {minimum} steps (got {given})"
    if given or minimum > 1:
        return f"needs at least {minimum} items (got {given})"
    if len(loc) == 2 and loc[0] == "phases":
        return "is empty: add at least one step, or remove it"
    return "is empty: give at least one"


def fields_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    """The field names the model at ``loc[:-1]`` accepts, for a 'did you mean'."""
    current: object = model
    for part in loc[:-1]:
        if isinstance(part, str) and part.startswith("~"):
            current = ParallelGroup if part == "~group" else StepSpec
            continue
        current = _child_type(current, part)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [info.alias or name for name, info in current.model_fields.items()]
    return []


def _child_type(current: object, part: str | int) -> object:
    if isinstance(current, type) and issubclass(current, BaseModel):
        for name, info in current.model_fields.items():
            if part in (name, info.alias):
                return _unwrap(info.annotation)
        return None
    args = [arg for arg in typing.get_args(current) if arg is not type(None)]
    return _unwrap(args[-1]) if args else None


def _unwrap(annotation: object) -> object:
    """Optional[X] -> X and Annotated[X, ...] -> X; lists and dicts stay for the next part."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (types.UnionType, typing.Union):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation


def _did_you_mean(word: str, candidates: Collection[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


# --- semantic pass over raw data ---------------------------------------------------------------


def _semantics(
    located: Located, known_tiers: Collection[str]
) -> tuple[list[Problem], list[CheckedStep]]:
    data = located.data
    assert isinstance(data, dict)  # validate_located refused anything else
    problems = _tier_problems(located, data, known_tiers)
    names = _declared_names(data)
    roles = set(data["contexts"]) if isinstance(data.get("contexts"), dict) else set()
    seen: dict[str, Path] = {}
    checked: list[CheckedStep] = []
    for path, step in iter_raw_steps(data):
        problems += _step_problems(located, path, step, names, roles, seen, checked)
    problems += _probes_problems(located, data, names, roles)
    problems += _lock_problems(located, data, roles)
    return problems + _drill_touches_production(located, checked), checked


def _lock_problems(located: Located, data: dict[str, Any], roles: set[str]) -> list[Problem]:
    """The run lock's context role must be one the plan declares (its cluster holds the
    Lease); the shape pass has checked the rest of ``lock``."""
    lock = data.get("lock")
    if not isinstance(lock, dict):
        return []
    undeclared = _undeclared_role(located, ("lock", "context"), lock.get("context"), roles)
    return [undeclared] if undeclared else []


def coverage_warnings(located: Located, steps: list[CheckedStep]) -> list[Uncovered]:
    """Each mode on its own: a change checked only by a step the mode skips is not checked."""
    warnings: list[Uncovered] = []
    for mode in MODES:
        changes = []
        for step in steps:
            params, order = step.params.get(mode), position(step.path)
            if params is None or order is None:
                continue
            unverified = step.type.to_verify(params, step.cluster)
            proofs = step.type.verifies(params, step.cluster)
            changes.append(Change(step.path, step.id, order, unverified, proofs))
        warnings += uncovered(located, mode, changes)
    return sorted(warnings, key=lambda w: (w.problem.line, w.problem.column, w.mode))


def _tier_problems(located: Located, data: dict[str, Any], known: Collection[str]) -> list[Problem]:
    tier = data.get("tier")
    if not isinstance(tier, str) or tier in known:
        return []
    message = f"unknown tier {tier!r}; known tiers: {', '.join(known)}"
    # Tier names are written as `drill tiers` lists them; "High Tier" meant "high".
    return [located.problem(("tier",), message + _did_you_mean(tier.lower(), known))]


def _declared_names(data: dict[str, Any]) -> dict[str, dict[str, object]]:
    """name -> {mode: value} for every well-formed name; malformed ones pydantic reports."""
    declared = data.get("names")
    if not isinstance(declared, dict):
        return {}
    result: dict[str, dict[str, object]] = {}
    for name, value in declared.items():
        if isinstance(value, dict):
            result[name] = {mode: value.get(mode) for mode in MODES}
        else:
            result[name] = dict.fromkeys(MODES, value)
    return result


def iter_raw_steps(data: dict[str, Any]) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Every step mapping in phase order, parallel groups opened, with its path."""
    phases = data.get("phases")
    if not isinstance(phases, dict):
        return
    for phase in PHASES:
        entries = phases.get(phase)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if isinstance(entry, dict) and isinstance(entry.get("parallel"), list):
                for inner, step in enumerate(entry["parallel"]):
                    if isinstance(step, dict):
                        yield ("phases", phase, index, "parallel", inner), step
            elif isinstance(entry, dict):
                yield ("phases", phase, index), entry


def _step_problems(
    located: Located,
    path: Path,
    step: dict[str, Any],
    names: dict[str, dict[str, object]],
    roles: set[str],
    seen: dict[str, Path],
    checked: list[CheckedStep],
) -> list[Problem]:
    problems = _id_problems(located, path, step, seen)
    step_type = _known_type(step)
    problems += _type_problems(located, path, step)
    problems += _context_problems(located, path, step, roles, step_type)
    problems += _phase_problems(located, path, step_type)
    reference_problems = _reference_problems(located, path, step, names)
    problems += reference_problems
    if step_type is not None and not reference_problems:
        param_problems, valid = _params_problems(located, path, step, step_type, names)
        problems += param_problems
        role = step.get("context")
        cluster = f"context role {role}" if isinstance(role, str) else "no cluster"
        checked.append(CheckedStep(path, str(step.get("id")), step_type, cluster, valid))
    return problems


def _id_problems(
    located: Located, path: Path, step: dict[str, Any], seen: dict[str, Path]
) -> list[Problem]:
    step_id = step.get("id")
    if not isinstance(step_id, str):
        return []
    if step_id in RESERVED_IDS:
        return [located.problem((*path, "id"), f"{step_id!r} is reserved for drill's own step")]
    if step_id in seen:
        line, _ = located.where((*seen[step_id], "id"))
        return [
            located.problem((*path, "id"), f"duplicate step id {step_id!r} (first at line {line})")
        ]
    seen[step_id] = path
    return []


def _known_type(step: dict[str, Any]) -> AnyStepType | None:
    name = step.get("type")
    return STEP_TYPES.get(name) if isinstance(name, str) else None


def _type_problems(located: Located, path: Path, step: dict[str, Any]) -> list[Problem]:
    name = step.get("type")
    if not isinstance(name, str) or name in STEP_TYPES:
        return []
    hint = _did_you_mean(name, STEP_TYPES) or "; see `drill list --types`"
    return [located.problem((*path, "type"), f"unknown step type {name!r}{hint}")]


def _context_problems(
    located: Located,
    path: Path,
    step: dict[str, Any],
    roles: set[str],
    step_type: AnyStepType | None,
) -> list[Problem]:
    role = step.get("context")
    if role is None:
        if step_type is not None and step_type.needs_context:
            message = f"{step_type.name} runs against a cluster: name its context role"
            return [located.problem(path, f"context: {message}")]
        return []
    undeclared = _undeclared_role(located, (*path, "context"), role, roles)
    return [undeclared] if undeclared else []


def _undeclared_role(
    located: Located, where: Path, role: object, roles: set[str]
) -> Problem | None:
    """The problem of a context role (a step's context, a probe's through) not declared."""
    if not isinstance(role, str) or role in roles:
        return None
    declared = ", ".join(sorted(roles)) or "none"
    message = f"context role {role!r} is not defined under contexts (defined: {declared})"
    return located.problem(where, message)


# Where a probe of the recovered data can run: after the restore, before the run is undone.
DATA_PROBE_PHASES = ("restore", "failover", "verify")


def _phase_problems(located: Located, path: Path, step_type: AnyStepType | None) -> list[Problem]:
    phase = path[1]
    if step_type is None or step_type.recovery_point_kind != "data":
        return []
    if phase in DATA_PROBE_PHASES:
        return []
    message = (
        f"{step_type.name} reads the recovered data, which {phase} cannot see: put it in "
        "verify (or after the restore, in restore or failover)"
    )
    return [located.problem((*path, "type"), message)]


def _reference_problems(
    located: Located, path: Path, step: dict[str, Any], names: dict[str, dict[str, object]]
) -> list[Problem]:
    problems = []
    for value_path, text in _strings(step, path):
        for match in NAME_REF.finditer(text):
            if match.group(1) not in names:
                declared = ", ".join(sorted(names)) or "none"
                message = f"unknown name ${{{match.group(1)}}} (declared under names: {declared})"
                problems.append(located.problem(value_path, message))
    return problems


def _strings(value: object, path: Path) -> Iterator[tuple[Path, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index))


def _params_problems(
    located: Located,
    path: Path,
    step: dict[str, Any],
    step_type: AnyStepType,
    names: dict[str, dict[str, object]],
) -> tuple[list[Problem], dict[Mode, StepParams]]:
    """Validate ``with`` as each mode will see it; a problem in one mode only says which.

    Also returns the params of each mode in which they are valid and the step runs.
    """
    found: dict[Problem, list[str]] = {}
    valid: dict[Mode, StepParams] = {}
    for mode in MODES:
        merged = merged_params(step, mode)
        if merged is None:
            continue
        values, origins = merged
        try:
            valid[mode] = step_type.params_model.model_validate(substitute(values, names, mode))
        except ValidationError as exc:
            for problem in _param_problems(exc, located, path, origins, step_type.params_model):
                found.setdefault(problem, []).append(mode)
    return _naming_the_mode(found), valid


def _naming_the_mode(found: Mapping[Problem, list[str]]) -> list[Problem]:
    """A problem met in one mode only says which."""
    return [
        p
        if len(modes) > 1
        else Problem(p.file, p.line, p.column, p.field, f"{p.message} (in {modes[0]} mode)")
        for p, modes in found.items()
    ]


# --- probes -----------------------------------------------------------------------------------


def _probes_problems(
    located: Located, data: dict[str, Any], names: dict[str, dict[str, object]], roles: set[str]
) -> list[Problem]:
    """Each probe's name is unique, its ``${name}`` references are declared, its settings
    are valid in each mode it runs in and a ``through:`` role is declared (the shape pass has
    checked the rest)."""
    probes = data.get("probes")
    if not isinstance(probes, list):
        return []
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for index, probe in enumerate(probes):
        if not isinstance(probe, dict):
            continue
        path: Path = ("probes", index)
        problems += _probe_name_problems(located, path, probe, seen)
        references = _reference_problems(located, path, probe, names)
        problems += references or _probe_settings_problems(located, path, probe, names)
        problems += _probe_role_problems(located, path, probe, roles)
    return problems


def _probe_role_problems(
    located: Located, path: Path, probe: dict[str, Any], roles: set[str]
) -> list[Problem]:
    found: list[Problem] = []
    for mode in MODES:
        merged = merged_probe_settings(probe, mode)
        if merged is None or "through" not in merged[0]:
            continue
        values, origins = merged
        problem = _undeclared_role(located, (*path, *origins["through"]), values["through"], roles)
        if problem is not None and problem not in found:
            found.append(problem)
    return found


def _probe_name_problems(
    located: Located, path: Path, probe: dict[str, Any], seen: dict[str, Path]
) -> list[Problem]:
    name = probe.get("name")
    if not isinstance(name, str):
        return []
    if name in seen:
        line, _ = located.where((*seen[name], "name"))
        message = f"duplicate probe {name!r} (first at line {line})"
        return [located.problem((*path, "name"), message)]
    seen[name] = path
    return []


def _probe_settings_problems(
    located: Located, path: Path, probe: dict[str, Any], names: dict[str, dict[str, object]]
) -> list[Problem]:
    found: dict[Problem, list[str]] = {}
    for mode in MODES:
        merged = merged_probe_settings(probe, mode)
        if merged is None:
            continue
        values, origins = merged
        try:
            ProbeSettings.model_validate(substitute(values, names, mode))
        except ValidationError as exc:
            for problem in _param_problems(exc, located, path, origins, ProbeSettings, ()):
                found.setdefault(problem, []).append(mode)
    return _naming_the_mode(found)


def merged_probe_settings(
    probe: dict[str, Any], mode: str
) -> tuple[dict[str, Any], dict[str, Path]] | None:
    """A probe's settings in ``mode`` and where each came from; None when it is skipped in
    that mode or its override is malformed (the shape pass reports that)."""
    base = {key: value for key, value in probe.items() if key not in ("name", *MODES)}
    override = probe.get(mode) or {}
    if not isinstance(override, dict) or override.get("skip") is not None:
        return None
    extra = {key: value for key, value in override.items() if key != "skip"}
    origins: dict[str, Path] = {key: (key,) for key in base}
    origins.update({key: (mode, key) for key in extra})
    return {**base, **extra}, origins


@dataclass(frozen=True)
class CheckedStep:
    """A step whose type and params validated, in the modes in which it runs."""

    path: Path
    id: str
    type: AnyStepType
    cluster: str  # as StepType.writes names it
    params: Mapping[Mode, StepParams]

    def writes(self, mode: Mode) -> frozenset[Resource]:
        params = self.params.get(mode)
        return frozenset() if params is None else self.type.writes(params, self.cluster)

    def restores_from(self) -> frozenset[Resource]:
        found: frozenset[Resource] = frozenset()
        for params in self.params.values():
            found |= self.type.restores_from(params, self.cluster)
        return found


def _drill_touches_production(located: Located, steps: list[CheckedStep]) -> list[Problem]:
    """Drill mode never writes what live mode changes, nor the data a restore copies from.

    Compared across the whole plan, so a step skipped in live mode, or a name spelt another
    way, cannot slip a production record or namespace into a drill.
    """
    production = production_footprint(steps)
    problems = []
    for step in steps:
        drill_params = step.params.get("drill")
        unbounded = step.type.unbounded(drill_params) if drill_params is not None else None
        if unbounded is not None:
            message = f"in drill mode {unbounded}, or skip it with `drill: {{skip: why}}`"
            problems.append(located.problem((*step.path, "with"), message))
        for resource in sorted(step.writes("drill"), key=str):
            clash = production_clash(resource, production)
            if clash is not None:
                message = clash + ". " + _HOW_TO_FIX
                problems.append(located.problem((*step.path, "with"), message))
    return problems


def production_footprint(steps: Iterable[CheckedStep]) -> dict[Resource, str]:
    """What serves users, and which step says so: what live mode writes, what restores read."""
    found: dict[Resource, str] = {}
    for step in steps:
        for resource in step.restores_from():
            found.setdefault(resource, f"step {step.id} restores from it")
        for resource in step.writes("live"):
            found.setdefault(resource, f"step {step.id} changes it in live mode")
    return found


def production_clash(resource: Resource, production: Mapping[Resource, str]) -> str | None:
    """Why writing ``resource`` in a drill would touch production, or None when it would not."""
    for held, why in production.items():
        if resource.meets(held):
            where = "" if held == resource else f" (it holds {held})"
            return (
                f"in drill mode this step would change {resource}, which is production{where}: "
                + why
            )
    return None


_HOW_TO_FIX = (
    "Give drill mode its own target through names (e.g. record: {drill: drill-api.example.com., "
    "live: api.example.com.}, namespace: {drill: dr-test, live: production}) or skip the step "
    "in drill mode with `drill: {skip: why}`"
)


def merged_params(step: dict[str, Any], mode: str) -> tuple[dict[str, Any], dict[str, Path]] | None:
    """The step's ``with`` for ``mode`` (overrides applied) and where each key came from.

    None when the step is skipped in that mode or its blocks are malformed.
    """
    base = step.get("with", {}) or {}
    override = step.get(mode) or {}
    if not isinstance(base, dict) or not isinstance(override, dict):
        return None
    if override.get("skip") is not None:  # `skip:` left empty skips nothing, as in resolve
        return None
    extra = override.get("with", {}) or {}
    if not isinstance(extra, dict):
        return None
    origins: dict[str, Path] = {key: ("with", key) for key in base}
    origins.update({key: (mode, "with", key) for key in extra})
    return {**base, **extra}, origins


def _param_problems(
    exc: ValidationError,
    located: Located,
    step_path: Path,
    origins: dict[str, Path],
    params_model: type[BaseModel],
    unplaced: Path = ("with",),
) -> list[Problem]:
    """``unplaced``: where, under the step, a field the plan did not give (a missing one) is
    said to belong."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        head = loc[0] if loc else None
        origin = origins.get(head) if isinstance(head, str) else None
        raw_path = (*step_path, *origin, *loc[1:]) if origin else (*step_path, *unplaced, *loc)
        path, at_key = _key_path(raw_path)
        message = _message(error, fields_at(params_model, loc))
        prefer_key = at_key or error["type"] == "extra_forbidden"
        problems.append(located.problem(path, message, prefer_key=prefer_key))
    return problems


def substitute(value: object, names: Mapping[str, Mapping[str, object]], mode: str) -> Any:
    """Replace ``${name}`` with the name's value in ``mode``; a whole-string ref keeps its type."""
    if isinstance(value, str):
        whole = NAME_REF.fullmatch(value)
        if whole and whole.group(1) in names:
            return names[whole.group(1)][mode]
        return NAME_REF.sub(
            lambda m: str(names[m.group(1)][mode]) if m.group(1) in names else m.group(0), value
        )
    if isinstance(value, dict):
        return {key: substitute(item, names, mode) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, names, mode) for item in value]
    return value
