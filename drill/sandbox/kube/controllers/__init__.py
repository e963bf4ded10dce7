"""The simulated controllers that make one emulated cluster move, by the injected clock.

Deployments and StatefulSets roll out, the kubelet moves pods through their lifecycle and runs
Jobs' commands against the cluster's network, Jobs retry and finish, Terminating namespaces
empty and go, Velero's backups exist and its restores progress. Each
controller reads the shared ``context`` (API, clock, timing profile, faults, ground truth),
and records in ``truth`` when things really happened.

Must not: touch HTTP (they go through the API's verbs like any client would) or read the
wall clock.
"""
