"""Property tests: whatever a plan file holds, loading it gives a plan or a PlanError, never a
traceback, and every problem points at a real spot in the file."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from drill.durations import MAX_DURATION_S, format_duration, parse_duration
from drill.errors import PlanError, Problem
from drill.plan import Plan, load_plan, resolve
from drill.plan._yaml import libyaml_compose
from drill.steps import STEP_TYPES
from drill.tiers import DEFAULT_TIERS
from tests.plan.helpers import SHIPPED_PLANS

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# PyYAML ends a line at any of these when it reports a mark.
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def line_count(text: str) -> int:
    return len(LINE_BREAK.split(text))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def check_outcome(path: Path, lines: int) -> list[Problem]:
    """Load ``path``: a valid plan must resolve in both modes; otherwise the problems must be
    well-formed and inside the file. Anything else raised fails the test with its traceback."""
    try:
        loaded = load_plan(path, DEFAULT_TIERS)
    except PlanError as exc:
        problems = exc.problems
        assert problems, "a PlanError with no problems"
        assert len(set(problems)) == len(problems), problems
        for problem in problems:
            assert problem.file == str(path)
            assert 1 <= problem.line <= lines, (problem, lines)
            assert problem.column >= 1, problem
            assert problem.message.strip(), problem
        return problems
    for mode in ("drill", "live"):
        resolved = resolve(loaded.plan, loaded.source, mode, DEFAULT_TIERS, {})
        for step in resolved.steps():
            assert (step.params is None) == step.skipped
            assert step.timeout_s > 0
    return []


# --- (a) arbitrary text and bytes -----------------------------------------------------------

SHIPPED_TEXT = [p.read_text(encoding="utf-8") for p in SHIPPED_PLANS]
# Fragments that mean something to YAML or to drill, spliced into text to reach the odd paths:
# tags, anchors and merges, timestamps that are no dates, control characters, deep nesting.
TOKENS = [
    *":-[]{}#&*!|>'\"%@`,? \n\t\r\\.<=~019az",
    ": ", "- ", "? ", "---", "...", "<<: ", "&a ", "*a", "&a [*a]", "<<: *a",
    "!!int ", "!!bool ", "!!float ", "!!timestamp ", "!!binary ", "!!set ", "!!str ",
    "!!python/name:os.system ", "!custom ",
    "2024-13-45", "0000-01-01", "2024-02-30 25:61:00", ".inf", ".nan", "0x1F", "1_000",
    "\x00", "\x07", "\x85", "\u2028", "\ufeff", "\U0001F600",
    "${namespace}", "${nope}", "${", "90", "1h30m", "9" * 400 + "s", "[" * 120,
]  # fmt: skip
YAMLISH = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)
SPLICE = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=3).map("".join)


@st.composite
def mangled_plans(draw: st.DrawFn) -> str:
    """A shipped plan with a few spots cut, spliced into or both."""
    text = draw(st.sampled_from(SHIPPED_TEXT))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 8))
        insert = draw(st.one_of(SPLICE, st.text(max_size=3)))
        text = text[:at] + insert + text[at + cut :]
    return text


ANY_TEXT = st.one_of(st.text(), YAMLISH, mangled_plans())


@FUZZ
@given(text=ANY_TEXT)
def test_any_text_gives_a_plan_or_located_problems(workdir: Path, text: str) -> None:
    path = workdir / "text.yaml"
    path.write_text(text, encoding="utf-8", newline="")
    check_outcome(path, line_count(text))


@st.composite
def mangled_plan_bytes(draw: st.DrawFn) -> bytes:
    """A shipped plan's UTF-8 with a few random bytes spliced in."""
    raw = draw(st.sampled_from(SHIPPED_TEXT)).encode("utf-8")
    at = draw(st.integers(0, len(raw)))
    return raw[:at] + draw(st.binary(min_size=1, max_size=4)) + raw[at:]


@FUZZ
@given(data=st.one_of(st.binary(), mangled_plan_bytes()))
def test_any_bytes_give_a_plan_or_located_problems(workdir: Path, data: bytes) -> None:
    path = workdir / "bytes.yaml"
    path.write_bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        with pytest.raises(PlanError) as caught:
            load_plan(path, DEFAULT_TIERS)
        assert [p.message for p in caught.value.problems] == ["not UTF-8 text"]
        return
    check_outcome(path, line_count(text))


# --- (a2) LibYAML composes what PyYAML composes -------------------------------------------

# Where LibYAML and PyYAML's parser are known to part ways: each must be left to PyYAML.
PARTING = [
    "a: b\tc\n",  # a tab inside a plain scalar: PyYAML refuses it
    "a: [pr? ction]\n",  # '?' inside a flow collection: PyYAML refuses it
    "a: !z.inf!!timestamp :- x\n",  # a tag PyYAML refuses
    "a: !\n",  # a bare '!' tag: null to PyYAML, '' to LibYAML
    "a: {b: , c: }\n",  # an empty value in a flow mapping: marked a column apart
    "? x\n",  # a complex key with no value: marked a line apart
    "---",  # an empty document without a line break
    "x: \ufeffy\nz: 1\n",  # a byte-order mark inside a line counts as a column to LibYAML
]


def node_tree(node: yaml.Node | None) -> Any:
    """Kind, tag, value and start of every node; a node met again (an alias) by its number."""
    numbers: dict[int, int] = {}

    def walk(node: yaml.Node) -> Any:
        if id(node) in numbers:
            return ("again", numbers[id(node)])
        numbers[id(node)] = len(numbers)
        where = (node.start_mark.line, node.start_mark.column)
        if isinstance(node, yaml.ScalarNode):
            return ("scalar", node.tag, node.value, where)
        if isinstance(node, yaml.SequenceNode):
            return ("sequence", node.tag, [walk(item) for item in node.value], where)
        pairs = [(walk(key), walk(value)) for key, value in node.value]
        return ("mapping", node.tag, pairs, where)

    return None if node is None else walk(node)


@FUZZ
@example(text=SHIPPED_TEXT[0])
@example(text="a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n")
@example(text="é: ü\nk: \U0001f600 v\r\nl: [1, {m: n}]\u2028o: 'p\x85q'\n")
@example(text="\ufeffa: 1\n")
@example(text="&a [*a]")
@given(text=st.one_of(ANY_TEXT, st.sampled_from(PARTING)))
def test_libyaml_composes_only_what_pyyaml_composes_alike(text: str) -> None:
    """drill reads a document with LibYAML only where that changes nothing: the same nodes,
    tags, values, lines and columns as PyYAML's parser, which reads (and rejects) the rest."""
    composed = libyaml_compose(text)
    if composed is None:
        return
    assert node_tree(composed) == node_tree(yaml.compose(text, Loader=yaml.SafeLoader))


@pytest.mark.parametrize("text", PARTING)
def test_documents_libyaml_reads_otherwise_are_left_to_pyyaml(text: str) -> None:
    assert libyaml_compose(text) is None


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without LibYAML")
def test_shipped_plans_are_read_by_libyaml() -> None:
    for text in SHIPPED_TEXT:
        composed = libyaml_compose(text)
        assert composed is not None
        assert node_tree(composed) == node_tree(yaml.compose(text, Loader=yaml.SafeLoader))


# --- (b) structured fuzzing from a valid plan -----------------------------------------------

SEED: dict[str, Any] = {
    "version": 1,
    "name": "fuzz-seed",
    "description": "every kind of thing a plan can hold",
    "service": "api",
    "tier": "critical",
    "targets": {"rpo": "5m", "rto": "30m"},
    "contexts": {
        "primary": {"description": "lost", "kubecontext": "gke-primary"},
        "dr": {"kubecontext": "gke-dr"},
    },
    "names": {
        "schedule": "api-5m",
        "namespace": {"drill": "dr-test", "live": "production"},
        "replicas": {"drill": 1, "live": 20},
        "record": {"drill": "drill.example.com.", "live": "api.example.com."},
    },
    "phases": {
        "preflight": [
            {
                "id": "backups",
                "parallel": [
                    {
                        "id": "velero-fresh",
                        "type": "velero.backup_fresh",
                        "context": "dr",
                        "with": {"schedule": "${schedule}", "max_age": "10m"},
                    },
                    {
                        "id": "export-fresh",
                        "type": "gcs.backup_fresh",
                        "with": {"bucket": "backups", "prefix": "db/", "max_age": "1h"},
                    },
                ],
            }
        ],
        "restore": [
            {
                "id": "restore",
                "type": "velero.restore",
                "context": "dr",
                "timeout": "20m",
                "with": {
                    "schedule": "${schedule}",
                    "include_namespaces": ["production"],
                    "namespace_mapping": {"production": "${namespace}"},
                },
            }
        ],
        "failover": [
            {
                "id": "switch-dns",
                "type": "dns.switch",
                "with": {
                    "provider": "gcp",
                    "project": "example-prod",
                    "zone": "example-com",
                    "record": "${record}",
                    "rrdatas": ["10.0.0.1"],
                    "ttl": 60,
                },
            },
            {
                "id": "scale",
                "type": "kube.scale",
                "context": "dr",
                "retries": 3,
                "with": {"namespace": "${namespace}", "name": "api", "replicas": "${replicas}"},
                "live": {"with": {"name": "api-standby"}},
            },
        ],
        "verify": [
            {
                "id": "ready",
                "type": "kube.wait_ready",
                "context": "dr",
                "with": {"namespace": "${namespace}", "selector": "app=api"},
            },
            {
                "id": "public",
                "type": "http.check",
                "drill": {"skip": "serves users"},
                "with": {"url": "https://api.example.com/healthz", "within": "5m"},
            },
        ],
        "cleanup": [
            {
                "id": "drop-namespace",
                "type": "kube.namespace",
                "context": "dr",
                "live": {"skip": "never in a real recovery"},
                "with": {"action": "delete", "name": "${namespace}"},
            }
        ],
    },
}

Node = tuple[tuple[str | int, ...], Any]

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(
        ["${namespace}", "${nope}", "90s", "0s", "7d", "", "dr", "production", "9" * 400 + "s"]
    ),
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def nodes(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[Node]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from nodes(item, (*path, index))


def parent_of(data: dict[str, Any], path: tuple[str | int, ...]) -> Any:
    current: Any = data
    for part in path[:-1]:
        current = current[part]
    return current


def steps_of(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The step mappings, wherever they still are after earlier mutations."""
    found = []
    for path, value in nodes(data):
        if isinstance(value, dict) and "type" in value and len(path) >= 3 and path[0] == "phases":
            found.append(value)
    return found


def _type_name(value: object) -> str:
    return type(value).__name__


def _of_another_type_than(old: object) -> Callable[[object], bool]:
    return lambda value: _type_name(value) != _type_name(old)


@st.composite
def mutated_plans(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, Any]]]:
    """The seed plan after 1-4 random mutations, and what each mutation was."""
    data = copy.deepcopy(SEED)
    done: list[tuple[str, Any]] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["delete", "replace", "add", "duplicate-id", "retype"]))
        inner = [node for node in nodes(data) if node[0]]
        if kind == "delete" and inner:
            path, _ = draw(st.sampled_from(inner))
            del parent_of(data, path)[path[-1]]
            done.append((kind, path))
        elif kind == "replace" and inner:
            path, old = draw(st.sampled_from(inner))
            new = draw(JSONISH.filter(_of_another_type_than(old)))
            parent_of(data, path)[path[-1]] = new
            done.append((kind, path))
        elif kind == "add":
            mappings = [node for node in nodes(data) if isinstance(node[1], dict)]
            path, mapping = draw(st.sampled_from(mappings))
            key = "zz_" + draw(st.text(alphabet="abcdefghij_", max_size=8))
            mapping[key] = draw(JSONISH)
            done.append((kind, (*path, key)))
        elif kind == "duplicate-id":
            with_ids = [s for s in steps_of(data) if isinstance(s.get("id"), str)]
            if len(with_ids) >= 2:
                first, second = draw(st.permutations(with_ids))[:2]
                second["id"] = first["id"]
                done.append((kind, first["id"]))
        elif kind == "retype":
            steps = steps_of(data)
            if steps:
                step = draw(st.sampled_from(steps))
                name = draw(st.one_of(st.sampled_from(sorted(STEP_TYPES)), st.text(max_size=15)))
                step["type"] = name
                done.append((kind, name))
    return data, done


def test_the_seed_plan_is_valid_and_resolves(workdir: Path) -> None:
    path = workdir / "seed.yaml"
    text = yaml.safe_dump(SEED, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    assert check_outcome(path, line_count(text)) == []


@FUZZ
@given(case=mutated_plans())
def test_mutated_plans_give_a_plan_or_problems_inside_the_file(
    workdir: Path, case: tuple[dict[str, Any], list[tuple[str, Any]]]
) -> None:
    data, done = case
    text = yaml.safe_dump(data, sort_keys=False)
    path = workdir / "mutated.yaml"
    path.write_text(text, encoding="utf-8")
    problems = check_outcome(path, line_count(text))
    for problem in problems:
        # A field names something in the file, or a plan field that is missing from it.
        top = re.split(r"[.\[]", problem.field, maxsplit=1)[0]
        assert top == "" or top in data or top in Plan.model_fields, problem
    if len(done) != 1:
        return
    # With a single mutation we also know which problem it must cause.
    (kind, what), messages = done[0], [p.message for p in problems]
    if kind == "duplicate-id":
        assert any(m.startswith(f"duplicate step id {what!r}") for m in messages), problems
    elif kind == "retype" and what not in STEP_TYPES:
        assert any(m.startswith(f"unknown step type {what!r}") for m in messages), problems
    elif kind == "add" and _is_schema_mapping(what[:-1]):
        unknown = [p for p in problems if p.message.startswith("unknown field")]
        assert dotted(what) in [p.field for p in unknown], (what, problems)


def dotted(path: tuple[str | int, ...]) -> str:
    """How messages name a field: phases.verify[0].with.url."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _is_schema_mapping(path: tuple[str | int, ...]) -> bool:
    """Mappings whose keys the schema fixes (not free-form ones like contexts, names, with)."""
    if path in ((), ("targets",), ("phases",)):
        return True
    if len(path) == 2 and path[0] == "contexts":
        return True
    # a step: phases.<phase>.<i> or phases.<phase>.<i>.parallel.<j>
    return path[:1] == ("phases",) and isinstance(path[-1], int) and len(path) in (3, 5)


# --- durations ------------------------------------------------------------------------------


@FUZZ
@given(
    parts=st.tuples(*[st.one_of(st.none(), st.integers(0, 10_000)) for _ in range(5)]).filter(
        lambda p: any(v is not None for v in p)
    )
)
def test_parse_duration_adds_up_its_parts(parts: tuple[int | None, ...]) -> None:
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1), ("ms", 0.001))
    text = "".join(f"{v}{unit}" for v, (unit, _) in zip(parts, units, strict=True) if v is not None)
    expected = sum(v * factor for v, (_, factor) in zip(parts, units, strict=True) if v is not None)
    assert parse_duration(text) == pytest.approx(expected)


@FUZZ
@given(text=st.text(max_size=20))
def test_parse_duration_only_ever_raises_value_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError:
        return
    assert 0 <= seconds <= MAX_DURATION_S


@FUZZ
@given(seconds=st.floats(min_value=60, max_value=10 * 365 * 86400))
def test_format_duration_of_a_minute_or_more_parses_back_closely(seconds: float) -> None:
    text = format_duration(seconds)
    # The short form drops the smallest units: seconds past an hour, minutes past a day.
    tolerance = 0.5 if seconds < 3600 else 60.5 if seconds < 86400 else 3600.5
    assert abs(parse_duration(text) - seconds) <= tolerance, text


@FUZZ
@given(seconds=st.floats(allow_nan=False, allow_infinity=False, min_value=-1e9, max_value=1e9))
def test_format_duration_is_short_and_signed(seconds: float) -> None:
    text = format_duration(seconds)
    assert text.startswith("-") == (seconds < 0)
    assert len(text) <= 12
    if abs(seconds) < 1:
        assert re.fullmatch(r"-?\d+ms", text), text
    else:
        assert re.fullmatch(r"-?(\d+\.\ds|\d+m\d\ds|\d+h\d\dm|\d+d\d\dh)", text), text
