"""How the kubelet reads a container's image before pulling it: the distribution project's
reference grammar, as its ParseNormalizedNamed applies it. The API server never checks an
image (beyond whitespace at its ends); an image the kubelet cannot parse leaves the container
waiting with reason ``InvalidImageName``, for good.

This module must not know about pods or the store.
"""

from __future__ import annotations

import re

_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
_DOMAIN_PART = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_HOST = f"(?:{_DOMAIN_PART}(?:\\.{_DOMAIN_PART})*|\\[(?:[a-fA-F0-9:]+)\\])"
_NAME = f"(?:{_HOST}(?::[0-9]+)?/)?{_COMPONENT}(?:/{_COMPONENT})*"
_TAG = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}"
_DIGEST = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}"
_REFERENCE = re.compile(f"({_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?")
_IDENTIFIER = re.compile("[a-f0-9]{64}")
_NAME_MAX = 255
_DEFAULT_DOMAIN = "docker.io"


def unparseable(image: str) -> str | None:
    """The kubelet's message for an image it cannot parse (the container's waiting
    message); None when it can."""
    problem = _parse_problem(image)
    if problem is None:
        return None
    return (
        f'Failed to apply default image tag "{image}": couldn\'t parse image name '
        f'"{image}": {problem}'
    )


def _parse_problem(image: str) -> str | None:
    if _IDENTIFIER.fullmatch(image):
        return f"invalid repository name ({image}), cannot specify 64-byte hexadecimal strings"
    domain, remainder = _split_domain(image)
    repository = remainder.split(":", 1)[0]
    if repository.lower() != repository:
        return f"invalid reference format: repository name ({repository}) must be lowercase"
    found = _REFERENCE.fullmatch(f"{domain}/{remainder}")
    if found is None:
        return "invalid reference format"
    if len(found.group(1)) > _NAME_MAX:
        return f"repository name must not be more than {_NAME_MAX} characters"
    return None


def _split_domain(image: str) -> tuple[str, str]:
    """splitDockerDomain: the first component names a registry when it has '.' or ':', a
    capital letter, or is localhost; otherwise Docker Hub's, with library/ for one name."""
    first, slash, rest = image.partition("/")
    if slash and (any(c in first for c in ".:") or first == "localhost" or first.lower() != first):
        domain, remainder = first, rest
    else:
        domain, remainder = _DEFAULT_DOMAIN, image
    if domain == "index.docker.io":
        domain = _DEFAULT_DOMAIN
    if domain == _DEFAULT_DOMAIN and "/" not in remainder:
        remainder = f"library/{remainder}"
    return domain, remainder
