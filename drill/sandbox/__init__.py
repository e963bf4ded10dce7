"""The sandbox: local emulators and simulated controllers that a plan can run against offline.

- ``drill.sandbox.kube``: a Kubernetes API emulator (with Velero) served over real HTTP on
  127.0.0.1, so the real SDK clients and kubectl talk to it; it records the ground truth of what
  happened and when, and takes injected faults. It imports only ``drill.clock`` from drill.
- ``world``: derives from plans what must exist (clusters per role, fresh backups and their
  contents, standby workloads); ``runtime`` starts the emulators, seeds them and writes the
  kubeconfig; ``python -m drill.sandbox serve`` keeps one up for ``drill sandbox up``.

Must not: be imported by drill's run path except through the CLI's ``--sandbox`` wiring, or
import an SDK (it is the far side of the wire).
"""
