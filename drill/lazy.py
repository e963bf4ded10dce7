"""Packages whose public names load with the module defining them, when first used.

A command pays for what it uses: `drill list` loads plans without the JSON Schema, the field
docs or the resolver, and `drill run` sends its first request (the run lease) before it needs
the runner, the journal or the report models. A package that imported every module of its
public surface up front would make each of them wait for all of it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: each name of ``homes`` is taken from the
    submodule it maps to (``"_module"``, or ``"_module:other_name"`` when the submodule calls
    it otherwise), imported when the name is first asked for."""

    def attribute(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, _, original = home.partition(":")
        value = getattr(importlib.import_module(f"{package}.{module}"), original or name)
        setattr(sys.modules[package], name, value)  # later lookups find it directly
        return value

    return attribute
