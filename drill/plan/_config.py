"""drill's own config file: tier targets (and, later, defaults for flags).

Where it is read from, first match wins: ``--config FILE``, ``$DRILL_CONFIG``,
``$XDG_CONFIG_HOME/drill/config.yaml`` (``~/.config/drill/config.yaml``). Only an explicitly
named file must exist; otherwise the built-in tiers apply.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drill.errors import PlanError, Problem
from drill.fieldtypes import PositiveDuration
from drill.locations import config_path
from drill.plan._validate import pydantic_problems_for
from drill.plan._yaml import YamlProblems, load_located
from drill.tiers import DEFAULT_TIERS, Targets, configured_tier


class _TierSpec(BaseModel):
    # Built on first use: most runs read no config file.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    rpo: PositiveDuration
    rto: PositiveDuration


class _ConfigFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)
    tiers: dict[str, _TierSpec] = Field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    tiers: Mapping[str, Targets]
    source: str | None  # the file it came from, None for built-in defaults


def load_config(explicit: str | None, environ: Mapping[str, str] | None = None) -> Config:
    env = os.environ if environ is None else environ
    path, named = config_path(explicit, env)
    if not named and not path.exists():
        return Config(tiers=DEFAULT_TIERS, source=None)
    text = read_text(path)
    try:
        located = load_located(text, str(path))
    except YamlProblems as exc:
        raise PlanError(exc.problems) from None
    try:
        parsed = _ConfigFile.model_validate(located.data)
    except ValidationError as exc:
        raise PlanError(pydantic_problems_for(exc, located, _ConfigFile)) from None
    tiers = dict(DEFAULT_TIERS)
    tiers.update({name: configured_tier(name, t.rpo, t.rto) for name, t in parsed.tiers.items()})
    return Config(tiers=tiers, source=str(path))


# The largest plan or config file drill reads; shipped plans are under 5 KiB.
MAX_FILE_BYTES = 1024 * 1024


def read_text(path: Path) -> str:
    """A file's text, or one problem saying why it cannot be read.

    Reads at most MAX_FILE_BYTES (plus one, to tell): a plan or config is a few kilobytes,
    and parsing a huge file would take the time and memory a run needs.
    """
    try:
        with path.open("rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            message = f"larger than {MAX_FILE_BYTES // 1024} KiB: not a plan or config file"
        else:
            return data.decode("utf-8")
    except FileNotFoundError:
        message = "file not found"
    except IsADirectoryError:
        message = "is a directory, not a file"
    except PermissionError:
        message = "permission denied"
    except UnicodeDecodeError:
        message = "not UTF-8 text"
    except OSError as exc:
        message = exc.strerror or "cannot be read"
    raise PlanError([Problem(str(path), 1, 1, "", message)])
