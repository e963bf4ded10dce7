"""Recovery-point probes in plans: where they may run, what their params accept, what a drill
may let them touch."""

from __future__ import annotations

from pathlib import Path

import pytest

from drill.plan import resolve
from drill.tiers import DEFAULT_TIERS
from tests.plan.helpers import at, load_text, only, problems_of, spot

HEAD = """\
version: 1
name: probes
service: api
tier: high
contexts:
  dr: {}
names:
  ns: {drill: dr-test, live: production}
phases:
"""
RESTORE = """\
    - id: restore
      type: velero.restore
      context: dr
      with:
        schedule: nightly
        include_namespaces: [production]
        namespace_mapping: {production: "${ns}"}
"""
PROBES = """\
    - id: heartbeat
      type: kube.heartbeat
      context: dr
      with: {namespace: "${ns}"EXTRA}
    - id: query
      type: job.recovery_point
      context: dr
      with:
        namespace: QUERY_NS
        image: postgres:16
        command: [psql, -Atc, "select max(written_at) from heartbeat"]
"""
UPLOADS = """\
    - id: uploads
      type: s3.heartbeat
      with: {bucket: uploads-replica, prefix: heartbeats/, interval: 10s}
"""
ORDER = ("preflight", "restore", "failover", "verify", "cleanup", "rollback")


def plan(phase: str = "verify", extra: str = "", query_namespace: str = '"${ns}"') -> str:
    """The restore, the probes in ``phase`` (after the restore there), the bucket's probe in
    verify."""
    probes = PROBES.replace("EXTRA", extra).replace("QUERY_NS", query_namespace)
    phases = {"restore": RESTORE, "verify": UPLOADS}
    phases[phase] = phases.get(phase, "") + probes if phase != "verify" else probes + UPLOADS
    return HEAD + "".join(f"  {name}:\n{phases[name]}" for name in ORDER if name in phases)


@pytest.mark.parametrize("phase", ["restore", "failover", "verify"])
def test_probes_run_after_the_restore(tmp_path: Path, phase: str) -> None:
    loaded = load_text(tmp_path, plan(phase))
    drill = resolve(loaded.plan, loaded.source, "drill", DEFAULT_TIERS, {})
    probes = {step.id: step for step in drill.steps()}
    assert probes["heartbeat"].describe() == (
        "read the heartbeat in configmap dr-test/drill-heartbeat key timestamp "
        "(written every 30.0s)"
    )
    assert probes["uploads"].describe() == (
        "read the newest heartbeat under s3://uploads-replica/heartbeats/ (written every 10.0s) "
        "that existed at t0"
    )


@pytest.mark.parametrize("phase", ["preflight", "cleanup", "rollback"])
def test_a_probe_where_there_is_no_recovered_data_is_refused_where_it_is(
    tmp_path: Path, phase: str
) -> None:
    text = plan(phase)
    problems = problems_of(tmp_path, text)
    heartbeat = only(problems, f"phases.{phase}[0].type")
    assert heartbeat.message.startswith(f"kube.heartbeat reads the recovered data, which {phase}")
    assert spot(heartbeat) == at(text, "kube.heartbeat")
    query = only(problems, f"phases.{phase}[1].type")
    assert query.message.startswith("job.recovery_point")


def test_probe_params_are_strict(tmp_path: Path) -> None:
    text = plan(extra=", key: 'a b', when: now")
    problems = problems_of(tmp_path, text)
    assert "not a valid ConfigMap key" in only(problems, "phases.verify[0].with.key").message
    assert only(problems, "phases.verify[0].with.when").message.startswith("unknown field")


def test_a_drill_may_not_run_its_query_job_in_production(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, plan(query_namespace="production"))
    found = only(problems, "phases.verify[1].with")
    assert "would change namespace production (context role dr), which is production" in (
        found.message
    )
