"""Where drill finds its config file and keeps what it remembers, from the environment alone.

Kept free of pydantic and the plan models: the answer cache (``drill.answers``) needs the
config file's location to know whether a stored answer still holds, before anything heavy loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def default_config_path(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "drill" / "config.yaml"


def config_path(explicit: str | None, environ: Mapping[str, str]) -> tuple[Path, bool]:
    """The config file drill reads, and whether it was named (``--config``, ``$DRILL_CONFIG``):
    a named file must exist; the default one may be absent (the built-in tiers apply)."""
    named = explicit or environ.get("DRILL_CONFIG")
    return (Path(named), True) if named else (default_config_path(environ), False)


def default_answers_dir(environ: Mapping[str, str]) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "drill" / "answers"
