"""The sandbox: local emulators and simulated controllers that a plan can run against offline.

Each subpackage emulates one external system over real HTTP on 127.0.0.1, so the real SDK
clients (and kubectl) can talk to it, and records the ground truth of what happened and when.
The sandbox sits beside the other layers: it imports only ``drill.clock`` and ``drill.errors``
from drill, never an SDK, and nothing in drill's run path imports it except the CLI's
``--sandbox`` wiring.
"""
