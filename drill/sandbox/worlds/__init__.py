"""What a sandbox must contain for given plans, derived from the plans alone.

``plans`` resolves the plans a sandbox serves in both modes, ``clusters`` derives each context
role's cluster (backups, their contents, standby workloads) and ``clouds`` the buckets, DNS
zones and load balancers.

Must not: start or seed an emulator (``drill.sandbox.runtime`` and ``clouds`` do), or import
one: a world is a plain description.
"""
