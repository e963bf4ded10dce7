"""drill: rehearse and perform disaster recovery for services on Kubernetes.

Layers, from the top down (imports only point downward):

- ``drill.cli``: click commands. Parses flags, builds dependencies, maps errors to exit
  codes. Holds no logic of its own.
- ``drill.plan``: loads plan YAML into frozen, typed models and validates it. Never talks to
  any external system.
- ``drill.executor``: runs a resolved plan: phases, timing, journal, retries, rollback.
  Knows step types only through the registry's protocol.
- ``drill.steps``: one module per step type. Talks to the outside world only through
  ``providers`` protocols.
- ``providers``: one adapter per external system. The only place SDKs are imported.
- ``drill.report``, ``drill.clock``, ``drill.errors``, ``drill.durations``: the bottom;
  they import nothing else from drill.
"""

__version__ = "0.1.0"
