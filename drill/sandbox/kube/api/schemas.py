"""The structural schemas of the custom resources the emulator serves: Velero's Backup, Restore,
Schedule and BackupStorageLocation.

They are the ``openAPIV3Schema`` of Velero's own CRDs (``config/crd/v1/bases`` in
vmware-tanzu/velero), kept in ``velero_schemas.json`` with the descriptions dropped and only
the keywords ``structural`` acts on: the shape of Velero's public API, nothing else. To take a
newer Velero's, run ``python -m drill.sandbox.kube.api.schemas VELERO_CHECKOUT --commit SHA``
(the JSON records the commit it came from). This module must not validate anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from drill.sandbox.kube.api.objects import Obj
from drill.sandbox.kube.api.resources import ResourceType

DATA = Path(__file__).with_name("velero_schemas.json")
CRD_FILES = {
    "Backup": "velero.io_backups.yaml",
    "Restore": "velero.io_restores.yaml",
    "Schedule": "velero.io_schedules.yaml",
    "BackupStorageLocation": "velero.io_backupstoragelocations.yaml",
}
# The keywords ``structural`` acts on; everything else in a CRD schema is dropped.
KEPT = (
    "type",
    "properties",
    "items",
    "additionalProperties",
    "required",
    "nullable",
    "enum",
    "format",
    "default",
    "minItems",
    "maxItems",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-int-or-string",
)


@cache
def _loaded() -> dict[str, Obj]:
    document: dict[str, Obj] = json.loads(DATA.read_text(encoding="utf-8"))["schemas"]
    return document


def schema_for(rt: ResourceType) -> Obj | None:
    """The structural schema of ``rt`` when it is one of Velero's kinds, else None."""
    if rt.group != "velero.io":
        return None
    return _loaded().get(rt.kind)


def structural_subset(node: Any) -> Any:
    """``node`` (a CRD's openAPIV3Schema) with only the ``KEPT`` keywords, recursively."""
    if not isinstance(node, dict):
        return node
    kept: Obj = {}
    for key in KEPT:
        if key not in node:
            continue
        value = node[key]
        if key == "properties":
            value = {name: structural_subset(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, dict):
            value = structural_subset(value)
        kept[key] = value
    return kept


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m drill.sandbox.kube.api.schemas",
        description="Regenerate velero_schemas.json from a checkout of vmware-tanzu/velero.",
    )
    parser.add_argument("velero", type=Path, help="the root of a vmware-tanzu/velero checkout")
    parser.add_argument("--commit", required=True, help="the checkout's commit, for the record")
    args = parser.parse_args(argv)
    bases = args.velero / "config" / "crd" / "v1" / "bases"
    schemas = {}
    for kind, file in CRD_FILES.items():
        crd = yaml.safe_load((bases / file).read_text(encoding="utf-8"))
        version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
        schemas[kind] = structural_subset(version["schema"]["openAPIV3Schema"])
    document = {
        "source": f"vmware-tanzu/velero {args.commit} config/crd/v1/bases",
        "schemas": schemas,
    }
    DATA.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
