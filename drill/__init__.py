"""drill: rehearse and perform disaster recovery for services on Kubernetes.

The layers of the code, what each may import and what each must not do, are drawn in
docs/architecture.md and enforced by tests/test_layering.py.
"""

__version__ = "0.1.0"
