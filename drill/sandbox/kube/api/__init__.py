"""The Kubernetes API's semantics over an in-memory store, without HTTP or controllers.

The store (objects, one global resourceVersion, the event window), the resource table and
discovery documents, the verbs (create, get, list, replace, patch, delete) with defaulting,
validation, patches, selectors and the ``scale`` view, and errors shaped as ``Status`` objects.

Must not: read a socket or a URL (``transport`` does), move the world on its own (the
``controllers`` do), or know about injected faults.
"""
