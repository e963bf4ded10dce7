"""Just enough of `kustomize build` to render deploy/base without kubectl.

Supported: ``resources`` (local YAML files, several documents each), ``configMapGenerator``
from ``files`` (with ``name`` and ``namespace``), ``generatorOptions.disableNameSuffixHash``
(required: name hashes are not implemented), and ``labels`` added to metadata only
(``includeSelectors``/``includeTemplates`` false). Anything else in the kustomization raises
``NotImplementedError``, so the base cannot grow a feature this renderer silently ignores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

Manifest = dict[str, Any]
SUPPORTED_FIELDS = {
    "apiVersion",
    "kind",
    "labels",
    "resources",
    "configMapGenerator",
    "generatorOptions",
}
SUPPORTED_GENERATOR_FIELDS = {"name", "namespace", "files"}


def render(root: Path) -> list[Manifest]:
    spec = yaml.safe_load((root / "kustomization.yaml").read_text(encoding="utf-8"))
    _refuse_unknown(set(spec) - SUPPORTED_FIELDS, "kustomization fields")
    if spec.get("configMapGenerator") and not _hash_suffix_disabled(spec):
        raise NotImplementedError("generated names with hash suffixes")
    manifests = [doc for name in spec.get("resources", []) for doc in _documents(root / name)]
    manifests += [_config_map(root, generator) for generator in spec.get("configMapGenerator", [])]
    for entry in spec.get("labels", []):
        _add_labels(manifests, entry)
    return manifests


def key_of(manifest: Manifest) -> tuple[str, str, str, str]:
    metadata = manifest["metadata"]
    return (
        manifest["apiVersion"],
        manifest["kind"],
        metadata.get("namespace", ""),
        metadata["name"],
    )


def _refuse_unknown(unknown: set[str], what: str) -> None:
    if unknown:
        raise NotImplementedError(f"{what} not supported here: {sorted(unknown)}")


def _hash_suffix_disabled(spec: dict[str, Any]) -> bool:
    return bool((spec.get("generatorOptions") or {}).get("disableNameSuffixHash"))


def _documents(path: Path) -> list[Manifest]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def _config_map(root: Path, generator: dict[str, Any]) -> Manifest:
    _refuse_unknown(set(generator) - SUPPORTED_GENERATOR_FIELDS, "configMapGenerator fields")
    data = {}
    for entry in generator.get("files", []):
        key, _, source = entry.rpartition("=")
        data[key or Path(source).name] = (root / source).read_text(encoding="utf-8")
    metadata = {"name": generator["name"]}
    if generator.get("namespace"):
        metadata["namespace"] = generator["namespace"]
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def _add_labels(manifests: list[Manifest], entry: dict[str, Any]) -> None:
    if entry.get("includeSelectors") or entry.get("includeTemplates"):
        raise NotImplementedError("labels on selectors or templates")
    _refuse_unknown(set(entry) - {"pairs", "includeSelectors", "includeTemplates"}, "labels")
    for manifest in manifests:
        manifest["metadata"].setdefault("labels", {}).update(entry["pairs"])
