"""Adapters to the external systems drill drives, one module each.

Each adapter implements a Protocol from ``providers.protocols`` and returns drill's own models.
This is the only layer that imports SDKs, and it imports them lazily, inside the adapter that
needs one, so ``drill --help`` and ``drill validate`` never pay for them. SDK exceptions are
caught here and re-raised as ``TransientError`` (a retry can help) or ``PermanentError``.

Must not: hold run state, decide what a step means, or read the clock for anything but
timeouts handed to it.
"""
