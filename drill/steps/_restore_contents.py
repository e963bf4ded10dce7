"""Restore completeness: what a Velero restore brought back against what its backup holds.

Velero says little on the Restore itself (``progress.itemsRestored`` counts items it tried;
an existing object it did not overwrite is only a warning). The files it keeps in the bucket
say more, and drill reads them as ``velero describe --details`` does, by DownloadRequest: the
backup's resource list (every item, by ``group/version/Kind``), the restore's resource list
(each item with what became of it: created, updated, skipped, failed) and its results (the
warnings and errors, by namespace). Velero passes over a finished Pod or Job without listing
it, saying so only in its log ("NS/NAME is complete - skipping"): drill reads the restore's log
too when a backed-up Pod or Job is missing from the list, and only then.

Per kind, each backed-up item the restore's namespaces cover is one of:
- restored: created or updated;
- excluded: left out by a rule, not lost: Velero never restores some kinds (events, nodes),
  the plan's own filters left it out, a namespace that already existed is kept (Velero only
  creates missing ones), an existing object already equal to the backup was skipped, the
  target cluster's own CA bundle that its controllers write into every namespace
  (``kube-root-ca.crt``; Istio's and OpenShift's likewise: ``CLUSTER_OWN``) was kept, or a
  finished Pod or Job was passed over, as the restore's log says;
- skipped: asked for and not restored (an existing object that differs, a failure, or missing
  from the restore's list with no rule or log line to explain it): the restore is then not
  complete.

A Pod or Job missing from the list while the log cannot be read, or holds no info-level line
(where Velero says it), may be finished or lost: the restore's completeness is then not
measured, and the reason says why.

A step-support module: velero.restore imports it; it never imports a step type.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drill.errors import ProviderError

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import VeleroApi

# Velero's nonRestorableResources (pkg/controller/restore_controller.go).
NEVER_RESTORED = frozenset(
    {
        "nodes",
        "events",
        "events.events.k8s.io",
        "backups.velero.io",
        "restores.velero.io",
        "resticrepositories.velero.io",
        "csinodes.storage.k8s.io",
        "volumeattachments.storage.k8s.io",
        "backuprepositories.velero.io",
    }
)
NAMESPACE_KEY = "v1/Namespace"
# What a cluster's controllers write into every namespace for that cluster alone: a restore
# keeps the target's, and a copy backed up in another cluster differs. (The default
# ServiceAccount is one too, but Velero merges that one instead of skipping it.)
CLUSTER_OWN = {
    ("v1/ConfigMap", "kube-root-ca.crt"): (
        "the target cluster's own CA bundle, which Kubernetes writes into every namespace: "
        "Velero keeps it (the backed-up one verifies another API server)"
    ),
    ("v1/ConfigMap", "istio-ca-root-cert"): (
        "the target mesh's own root certificate, which Istio writes into every namespace: "
        "Velero keeps it (the backed-up one is another mesh's)"
    ),
    ("v1/ConfigMap", "openshift-service-ca.crt"): (
        "the target cluster's own service CA bundle, which OpenShift writes into every "
        "namespace: Velero keeps it (the backed-up one is another cluster's)"
    ),
}
RESTORED_ACTIONS = frozenset({"created", "updated"})
# What else Velero lists as skipped, by kind: its restore's own rules and its plugins'
# (pkg/restore/restore.go, pkg/restore/actions).
PASSED_OVER = {
    "v1/Pod": "a mirror pod (a static pod's copy), which Velero never restores",
    "v1/PersistentVolume": "a volume Velero lets the cluster provision anew for its claim",
    "v1/Secret": "a service account's token, which the cluster makes anew",
    "apiregistration.k8s.io/v1/APIService": "an APIService Kubernetes manages",
}
# Kinds of which Velero passes over finished items without listing them (``isCompleted``).
FINISHING_KINDS = frozenset({"v1/Pod", "batch/v1/Job"})
# Its log line for one, in logrus's text format (msg="...") or JSON ("msg":"..."); the item
# is named by its namespace in the backup, before any mapping.
_COMPLETE_SKIPPED = re.compile(r'(?:\bmsg=|"msg":)"(?P<item>[^"\s]+) is complete - skipping"')
_INFO_LINE = re.compile(r'\blevel=info\b|"level":"info"')
FINISHED = "finished: Velero never restores a finished Pod or Job, and its log says so"
_SHOWN_ITEMS = 10  # reasons listed per kind; the counts are always whole


@dataclass(frozen=True)
class Scope:
    """What the restore asked for, as the plan gave it to Velero."""

    include_namespaces: tuple[str, ...]
    exclude_namespaces: tuple[str, ...]
    namespace_mapping: Mapping[str, str]
    include_resources: tuple[str, ...]
    exclude_resources: tuple[str, ...]
    label_selector: str | None
    include_cluster_resources: bool

    def covers_namespace(self, namespace: str) -> bool:
        included = not self.include_namespaces or bool(
            {"*", namespace} & set(self.include_namespaces)
        )
        return included and namespace not in self.exclude_namespaces


@dataclass
class KindTally:
    kind: str  # group/version/Kind, as Velero's lists key it
    in_backup: int | None = None
    restored: int | None = None
    skipped: int = 0
    excluded: int = 0
    why_skipped: list[str] = field(default_factory=list)
    why_excluded: list[str] = field(default_factory=list)

    def skip(self, why: str) -> None:
        self.skipped += 1
        if len(self.why_skipped) < _SHOWN_ITEMS:
            self.why_skipped.append(why)

    def exclude(self, why: str) -> None:
        self.excluded += 1
        if why not in self.why_excluded and len(self.why_excluded) < _SHOWN_ITEMS:
            self.why_excluded.append(why)


@dataclass(frozen=True)
class RestoreTally:
    restore: str
    backup: str
    complete: bool | None  # None: a list could not be read (``reason`` says why)
    reason: str
    kinds: tuple[KindTally, ...]


def tally_restore(
    velero: VeleroApi, restore: str, backup: str, scope: Scope, timeout_s: float
) -> RestoreTally:
    """Read the three files and count, per kind; never raises for a file it cannot read."""
    backed_up, backup_problem = _read(velero, "BackupResourceList", backup, timeout_s)
    listed, restore_problem = _read(velero, "RestoreResourceList", restore, timeout_s)
    results, _ = _read(velero, "RestoreResults", restore, timeout_s)
    actions = _actions(listed) if listed is not None else None
    messages = _messages(results)
    if backed_up is None or actions is None:
        problem = backup_problem or restore_problem
        what = "the backup's contents" if backed_up is None else "the restore's resource list"
        kinds = _restored_only(actions) if actions is not None else _backed_up_only(backed_up)
        reason = f"not measured: {what} could not be read ({problem})"
        return RestoreTally(restore, backup, None, reason, kinds)
    finished = FinishedLog(lambda: _download(velero, "RestoreLog", restore, timeout_s))
    kinds = _compared(backed_up, actions, messages, scope, finished)
    skipped = sum(k.skipped for k in kinds)
    if skipped:
        reason = f"{skipped} backed-up item(s) the restore asked for were not restored"
        return RestoreTally(restore, backup, False, reason, kinds)
    if finished.unverified:
        reason = (
            f"not measured: {finished.unverified} backed-up Pod(s) or Job(s) are not in the "
            "restore's resource list, and its log cannot say which of them Velero passed over "
            f"as finished ({finished.problem})"
        )
        return RestoreTally(restore, backup, None, reason, kinds)
    reason = "every backed-up item the restore asked for was restored"
    return RestoreTally(restore, backup, True, reason, kinds)


class FinishedLog:
    """Which backed-up Pods and Jobs the restore's log says Velero passed over as finished,
    read when first asked; ``unverified`` counts the items it could not tell about."""

    def __init__(self, read: Callable[[], tuple[bytes | None, str]]) -> None:
        self._read = read
        self._named: frozenset[str] | None = None
        self._asked = False
        self.problem = ""  # why the log cannot tell
        self.unverified = 0

    def says_finished(self, item: str) -> bool | None:
        """Whether the log names ``item`` (NS/NAME, as backed up) finished; None when the log
        cannot tell."""
        if not self._asked:
            self._asked = True
            self._named = self._load()
        return None if self._named is None else item in self._named

    def _load(self) -> frozenset[str] | None:
        text, self.problem = self._read()
        if text is None:
            return None
        lines = text.decode("utf-8", errors="replace")
        if not _INFO_LINE.search(lines):
            # Velero says which items it passed over at info level only: a server run with
            # --log-level warning or above leaves them unsaid, not absent.
            self.problem = "it holds no info-level line (Velero's --log-level is above info)"
            return None
        return frozenset(m["item"] for m in _COMPLETE_SKIPPED.finditer(lines))


def _read(
    velero: VeleroApi, kind: str, name: str, timeout_s: float
) -> tuple[dict[str, object] | None, str]:
    """A JSON file of Velero's, or None and why it could not be had."""
    raw, problem = _download(velero, kind, name, timeout_s)
    if raw is None:
        return None, problem
    try:
        document = json.loads(raw)
    except ValueError:
        return None, f"{kind} of {name} is not JSON"
    if not isinstance(document, dict):
        return None, f"{kind} of {name} is not a JSON object"
    return document, ""


def _download(
    velero: VeleroApi, kind: str, name: str, timeout_s: float
) -> tuple[bytes | None, str]:
    """A file of Velero's, or None and why it could not be had."""
    try:
        return velero.download(kind, name, timeout_s), ""
    except ProviderError as exc:
        return None, str(exc)


def _actions(listed: Mapping[str, object]) -> dict[str, dict[str, str]]:
    """``{"apps/v1/Deployment": ["ns/name(created)"]}`` -> kind -> item -> action."""
    found: dict[str, dict[str, str]] = {}
    for kind, entries in listed.items():
        for entry in entries if isinstance(entries, list) else []:
            item, _, action = str(entry).rpartition("(")
            found.setdefault(kind, {})[item] = action.rstrip(")")
    return found


def _messages(results: Mapping[str, object] | None) -> list[str]:
    """Every warning and error of the restore's results, prefixed with where it was."""
    said: list[str] = []
    for level in ("errors", "warnings"):
        result = (results or {}).get(level)
        if not isinstance(result, dict):
            continue
        for namespace, lines in (result.get("namespaces") or {}).items():
            said += [f"{namespace}: {line}" for line in lines]
        said += [str(line) for line in (result.get("cluster") or []) + (result.get("velero") or [])]
    return said


def _compared(
    backed_up: Mapping[str, object],
    actions: Mapping[str, Mapping[str, str]],
    messages: list[str],
    scope: Scope,
    finished: FinishedLog,
) -> tuple[KindTally, ...]:
    kinds: dict[str, KindTally] = {}
    for kind, entries in sorted(backed_up.items()):
        tally = kinds.setdefault(kind, KindTally(kind, in_backup=0, restored=0))
        for entry in entries if isinstance(entries, list) else []:
            _count(tally, str(entry), actions.get(kind, {}), messages, scope, finished)
        if tally.in_backup == 0 and not actions.get(kind):
            del kinds[kind]  # only namespaces the restore does not cover
    for kind, items in sorted(actions.items()):
        if kind not in kinds:  # made by the restore without a backed-up item (a namespace)
            made = sum(action in RESTORED_ACTIONS for action in items.values())
            kinds[kind] = KindTally(kind, in_backup=0, restored=made)
    return tuple(kinds.values())


def _count(
    tally: KindTally,
    entry: str,
    done: Mapping[str, str],
    messages: list[str],
    scope: Scope,
    finished: FinishedLog,
) -> None:
    namespace, _, name = entry.rpartition("/")
    if tally.kind == NAMESPACE_KEY:
        namespace, name = name, scope.namespace_mapping.get(name, name)
    if namespace and not scope.covers_namespace(namespace):
        return
    assert tally.in_backup is not None
    assert tally.restored is not None
    tally.in_backup += 1
    target = (
        name
        if tally.kind == NAMESPACE_KEY or not namespace
        else (f"{scope.namespace_mapping.get(namespace, namespace)}/{name}")
    )
    action = done.get(target)
    if action in RESTORED_ACTIONS:
        tally.restored += 1
    elif tally.kind == NAMESPACE_KEY:
        tally.exclude("the namespace already existed: Velero creates a missing one, never over one")
    elif action == "skipped":
        tally.exclude(_why_listed_skipped(tally.kind))
    elif action is not None:
        kind = tally.kind.rpartition("/")[2]
        said = _said_about(target, kind, messages)
        kept = _cluster_own(tally.kind, name, said)
        if kept is not None:
            tally.exclude(kept)
        else:
            tally.skip(f"{target}: {action}: {said}")
    else:
        rule = _left_out_by(tally.kind, bool(namespace), scope)
        if rule is not None:
            tally.exclude(rule)
        elif tally.kind in FINISHING_KINDS:
            _unlisted_finishing(tally, entry, target, finished)
        else:
            tally.skip(f"{target}: not in the restore's resource list")


def _unlisted_finishing(tally: KindTally, entry: str, target: str, finished: FinishedLog) -> None:
    """A backed-up Pod or Job missing from the restore's list: passed over as finished only
    when the restore's log says so."""
    said = finished.says_finished(entry)
    if said:
        tally.exclude(FINISHED)
    elif said is None:
        finished.unverified += 1
        tally.exclude(
            "not in the restore's resource list; not verified that Velero passed it over as "
            "finished: the restore's log cannot say"
        )
    else:
        tally.skip(
            f"{target}: not in the restore's resource list, and the restore's log does not "
            "say Velero passed it over as finished"
        )


def _why_listed_skipped(kind: str) -> str:
    """Why Velero listed an item as skipped: it does so for an object already there and equal
    to the backed-up one, and for each item a rule or one of its own plugins passes over."""
    passed_over = PASSED_OVER.get(kind)
    equal = "already there and equal to the backed-up item"
    return f"{equal}{f', or {passed_over}' if passed_over else ''}: Velero skipped it"


def _cluster_own(kind: str, name: str, said: str) -> str | None:
    """Why an item Velero found already there is the target cluster's own, rightly kept: its
    controllers write it into every namespace the moment the namespace exists, long before
    Velero reaches the backed-up copy, which from another cluster differs. None for any
    other item, or for this one failing some other way."""
    why = CLUSTER_OWN.get((kind, name))
    return why if why is not None and "already exists" in said else None


def _said_about(target: str, kind: str, messages: list[str]) -> str:
    """Velero's message about the item: one naming its kind and name (`Deployment "web"`)
    first, as another kind's item may share the name; else the first that names the name."""
    namespace, _, name = target.rpartition("/")
    names_it = (f'"{name}"', f":{name} ", f"/{name}:")
    here = [m for m in messages if not namespace or m.startswith(f"{namespace}: ")]
    about = [m for m in here if f'{kind} "{name}"' in m]
    for message in about or here:
        if any(mention in message for mention in names_it):
            return message.removeprefix(f"{namespace}: ") if namespace else message
    return "no warning or error names it; see `velero restore logs`"


def _left_out_by(kind: str, namespaced: bool, scope: Scope) -> str | None:
    names = resource_names(kind)
    if names & NEVER_RESTORED:
        return "Velero never restores this kind"
    if names & set(scope.exclude_resources):
        return "left out by the plan's exclude_resources"
    if scope.include_resources and not names & {"*", *scope.include_resources}:
        return "not in the plan's include_resources"
    if not namespaced and not scope.include_cluster_resources:
        return "cluster-scoped, and include_cluster_resources is false"
    if scope.label_selector:
        return f"left out by the plan's label_selector {scope.label_selector}"
    return None


def resource_names(kind: str) -> set[str]:
    """The ways a restore spec may name the resource of ``group/version/Kind``: ``deployment``,
    ``deployments``, ``deployments.apps``."""
    group_version, _, name = kind.rpartition("/")
    group = group_version.rpartition("/")[0]
    lower = name.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        plural = lower if lower.endswith("points") else lower + "es"
    elif lower.endswith("y") and lower[-2:-1] not in ("a", "e", "o", "u"):
        plural = lower[:-1] + "ies"
    else:
        plural = lower + "s"
    return {lower, plural} | ({f"{plural}.{group}"} if group else set())


def _restored_only(actions: Mapping[str, Mapping[str, str]]) -> tuple[KindTally, ...]:
    kinds = []
    for kind, items in sorted(actions.items()):
        tally = KindTally(kind, restored=sum(a in RESTORED_ACTIONS for a in items.values()))
        for item, action in sorted(items.items()):
            if action not in RESTORED_ACTIONS and action != "skipped":
                tally.skip(f"{item}: {action}")
        kinds.append(tally)
    return tuple(kinds)


def _backed_up_only(backed_up: Mapping[str, object] | None) -> tuple[KindTally, ...]:
    return tuple(
        KindTally(kind, in_backup=len(entries) if isinstance(entries, list) else None)
        for kind, entries in sorted((backed_up or {}).items())
    )
