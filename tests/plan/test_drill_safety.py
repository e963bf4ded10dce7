"""Drill mode never changes what serves users: a plan that would is refused at validation."""

from __future__ import annotations

from pathlib import Path

from tests.plan.helpers import at, load_text, problems_of, spot

HEAD = """\
version: 1
name: safety
service: api
tier: critical
names:
  record:
    drill: {drill_record}
    live: api.example.com.
phases:
  failover:
    - id: switch-dns
      type: dns.switch
      with:
        provider: gcp
        project: example-prod
        zone: example-com
        record: ${{record}}
        rrdatas: ["34.56.78.90"]
    - id: switch-backend
      type: backend.switch
{backend_override}      with:
        provider: gcp
        project: example-prod
        service: api-backend
        backends: [{{target: projects/p/zones/z/instanceGroups/dr}}]
  verify:
    - id: ok
      type: http.check
      with: {{url: "http://127.0.0.1:1/"}}
"""


def plan(drill_record: str, backend_override: str) -> str:
    return HEAD.format(drill_record=drill_record, backend_override=backend_override)


def test_the_same_record_and_backend_in_both_modes_are_refused_where_they_are(
    tmp_path: Path,
) -> None:
    text = plan("api.example.com.", "")
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2
    dns, backend = problems
    assert "would change A record api.example.com. in project example-prod" in dns.message
    assert "backends of backend service api-backend" in backend.message
    assert spot(dns)[0] == at(text, "provider: gcp")[0]
    assert spot(backend)[0] == at(text, "provider: gcp", 1)[0]


def test_a_shadow_record_and_a_skipped_backend_are_fine(tmp_path: Path) -> None:
    skip = "      drill:\n        skip: the drill has no backend of its own\n"
    loaded = load_text(tmp_path, plan("drill-api.example.com.", skip))
    assert loaded.plan.name == "safety"


def test_a_drill_override_pointing_elsewhere_is_fine(tmp_path: Path) -> None:
    override = "      drill:\n        with: {service: api-backend-drill}\n"
    load_text(tmp_path, plan("drill-api.example.com.", override))
