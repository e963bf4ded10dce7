"""``kube.reachable``: every kube context the plan uses answers, or says why not.

drill puts this step first in preflight by itself whenever a plan uses context roles, so an
unreachable cluster is reported once, by name and cause, before anything else runs.
"""

from __future__ import annotations

from pydantic import Field

from drill.errors import ProviderError, StepFailed
from drill.steps._base import StepEnv, StepParams, StepResult, StepType


class KubeReachableParams(StepParams):
    contexts: dict[str, str] = Field(
        min_length=1,
        description="Context role -> kubeconfig context, each asked for its API server's version.",
        examples=[{"dr": "dr-cluster"}],
    )


class KubeReachable(StepType[KubeReachableParams]):
    name = "kube.reachable"
    params_model = KubeReachableParams
    summary = "every kube context answers (added to preflight automatically)"
    default_timeout_s = 60.0

    def describe(self, params: KubeReachableParams) -> str:
        pairs = ", ".join(f"{role} ({ctx})" for role, ctx in params.contexts.items())
        return f"kube contexts reachable: {pairs}"

    def run(self, params: KubeReachableParams, env: StepEnv) -> StepResult:
        versions: dict[str, str] = {}
        problems = []
        for role, context in params.contexts.items():
            try:
                versions[role] = env.providers.kube(context).server_version()
            except ProviderError as exc:
                problems.append(f"{role}: {exc}")
        if problems:
            raise StepFailed("unreachable: " + "; ".join(problems))
        summary = ", ".join(f"{role} {version}" for role, version in versions.items())
        return StepResult(summary=f"reachable: {summary}", facts=dict(versions))
