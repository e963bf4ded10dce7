"""The sandbox: local emulators and simulated controllers that a plan can run against offline.

- emulators: ``kube`` (a Kubernetes API with Velero: ``transport``, ``api``, ``controllers``),
  ``gcp`` (Cloud DNS, its nameserver, Compute), ``gcs``, ``aws`` (moto) and ``gateway``,
  served over real HTTP on 127.0.0.1 so the real SDK clients and kubectl talk to them; they
  record the ground truth of what happened and when, and take injected faults. All are
  ``emulator.Emulator``s; their request faults queue in one ``faults.FaultQueue``.
- ``worlds``: derives from plans what must exist (clusters per role, fresh backups and their
  contents, standby workloads, zones, buckets, backends), reads and writes it as a world file,
  and names the faults a rehearsal can inject (``worlds.faults``); ``runtime`` and ``clouds``
  start the emulators, seed them, write the kubeconfig and carry out fault actions;
  ``python -m drill.sandbox serve`` keeps one up for ``drill sandbox up``, with a control
  endpoint for runs in other processes. The layers are drawn in docs/architecture.md.

Must not: be imported by drill's run path except through the CLI's ``--sandbox`` wiring, or
import a client SDK (it is the far side of the wire).
"""
