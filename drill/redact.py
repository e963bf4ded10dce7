"""Keep secrets out of logs, reports and journals.

Secrets reach drill only as references (``${env:NAME}`` in a header, a file path); the values
are read at the moment of use. What can still carry one by accident is a URL with a password
or a token in its query string: those are masked before anything is printed or stored.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
_SECRET_QUERY_KEYS = re.compile(r"(token|secret|key|password|passwd|signature|sig|auth)", re.I)


def redact_url(url: str) -> str:
    """``https://user:pw@host/p?token=x`` becomes ``https://***@host/p?token=***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = urlencode(
        [
            (key, MASK if _SECRET_QUERY_KEYS.search(key) else value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
        ],
        safe="*",
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
