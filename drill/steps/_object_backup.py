"""What the object-store freshness checks (GCS, S3) share: params, prefix templates, the check.

A backup lands as an object; the newest one under the prefix must be younger than ``max_age``
and at least ``min_size`` bytes. Its creation time (or a timestamp the plan names in object
metadata) is the recovery point. Judged at t0: only objects created by t0 count (a recovery to
t0 cannot use a later one), and the age is t0 minus the recovery point.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import Field, field_validator

from drill.durations import format_duration, format_moment
from drill.errors import StepFailed
from drill.fieldtypes import ByteSize, PositiveDuration
from drill.steps._base import RecoveryPoint, StepEnv, StepParams, StepResult
from drill.steps._recovery import parse_moment

if TYPE_CHECKING:
    # Annotations only (or built inside the function that needs one): checking a plan
    # builds none of the providers' result types.
    from providers.protocols import ObjectStore, StoredObject

_TEMPLATE = re.compile(r"\{date:([^{}]*)\}")
_FINER_THAN_AN_HOUR = re.compile(r"%[MSfsXcT]")
# A template spanning more folders than this within max_age would list too much to be useful.
MAX_PREFIXES = 62


class ObjectBackupParams(StepParams):
    bucket: str = Field(
        min_length=3,
        max_length=222,
        description="The bucket the backups land in.",
        examples=["prod-backups"],
    )
    # May hold date templates, e.g. "db/{date:%Y-%m-%d}/" (UTC). Every folder a backup
    # younger than max_age can be in is listed, so a check just after midnight still finds
    # the one written into yesterday's folder.
    prefix: str = Field(
        default="",
        description="Where under the bucket the backups are. May hold {date:FORMAT} (UTC, "
        "strftime, hours at the finest): every folder a backup younger than max_age can be in "
        "is listed.",
        examples=["db/{date:%Y-%m-%d}/"],
    )
    max_age: PositiveDuration = Field(
        description="How old the newest object may be; its time becomes the recovery point.",
        examples=["10m"],
    )
    min_size: ByteSize = Field(
        default=1,
        description="The smallest size the newest object may have: an empty or cut-off "
        "backup fails.",
        examples=["1MiB"],
    )
    # Object metadata key holding the backup's own timestamp (ISO 8601); else creation time.
    timestamp_metadata: str | None = Field(
        default=None,
        description="An object metadata key holding the backup's own time (ISO 8601, with a "
        "time zone), used instead of the object's creation time.",
        examples=["backup-time"],
    )

    @field_validator("prefix")
    @classmethod
    def _known_templates(cls, prefix: str) -> str:
        leftover = _TEMPLATE.sub("", prefix)
        if "{" in leftover or "}" in leftover:
            raise ValueError("the only template is {date:FORMAT}, e.g. {date:%Y-%m-%d}")
        for date_format in _TEMPLATE.findall(prefix):
            if _FINER_THAN_AN_HOUR.search(date_format):
                raise ValueError(f"{{date:{date_format}}}: templates finer than an hour")
        return prefix


def describe_object_backup(scheme: str, params: ObjectBackupParams) -> str:
    return (
        f"newest object under {scheme}://{params.bucket}/{params.prefix} is under "
        f"{format_duration(params.max_age)} old and at least {params.min_size} bytes"
    )


def rendered_prefixes(prefix: str, now: datetime, max_age_s: float) -> list[str]:
    """Every folder name the template takes between ``now - max_age`` and ``now``."""
    if not _TEMPLATE.search(prefix):
        return [prefix]
    oldest = now - timedelta(seconds=max_age_s)
    moments = [now]
    while moments[-1] - timedelta(hours=1) > oldest:
        moments.append(moments[-1] - timedelta(hours=1))
    moments.append(oldest)
    found = dict.fromkeys(_render(prefix, moment) for moment in moments)
    if len(found) > MAX_PREFIXES:
        raise StepFailed(
            f"prefix {prefix!r} spans {len(found)} folders within max_age; "
            f"narrow the template or max_age (at most {MAX_PREFIXES})"
        )
    return list(found)


def _render(prefix: str, moment: datetime) -> str:
    return _TEMPLATE.sub(lambda match: moment.strftime(match.group(1)), prefix)


def check_object_backup(
    store: ObjectStore, scheme: str, params: ObjectBackupParams, env: StepEnv
) -> StepResult:
    t0 = env.t0()
    prefixes = rendered_prefixes(params.prefix, t0, params.max_age)
    listed = [obj for prefix in prefixes for obj in store.list_objects(params.bucket, prefix)]
    objects = [obj for obj in listed if obj.created_at <= t0]
    where = f"{scheme}://{params.bucket}/{params.prefix}"
    if listed and not objects:
        oldest = min(listed, key=lambda obj: obj.created_at)
        raise StepFailed(
            f"no object under {where} existed at {env.t0_words()}: the oldest of "
            f"{len(listed)}, {oldest.name}, was created {format_moment(oldest.created_at)}"
        )
    newest, point = _newest(objects, params.timestamp_metadata, where)
    age_s = (t0 - point).total_seconds()
    url = f"{scheme}://{newest.bucket}/{newest.name}"
    _require_fresh_and_big(url, newest, age_s, params)
    source = (
        f"metadata {params.timestamp_metadata}" if params.timestamp_metadata else "creation time"
    )
    return StepResult(
        summary=f"{url}: {newest.size} bytes, {format_duration(max(age_s, 0))} old at t0",
        facts={
            "object": url,
            "size_bytes": newest.size,
            "age_s": round(age_s, 3),
            "objects_seen": len(listed),
            "prefixes": ", ".join(prefixes),
        },
        recovery_point=RecoveryPoint(at=point, source=f"{url} {source}"),
    )


def _newest(
    objects: Iterable[StoredObject], metadata_key: str | None, where: str
) -> tuple[StoredObject, datetime]:
    dated = [(_recovery_time(obj, metadata_key), obj) for obj in objects]
    usable = [(at, obj) for at, obj in dated if at is not None]
    if not usable:
        carrying = f" carrying metadata {metadata_key!r}" if metadata_key and dated else ""
        raise StepFailed(f"no object{carrying} under {where}")
    at, obj = max(usable, key=lambda pair: (pair[0], pair[1].name))
    return obj, at


def _recovery_time(obj: StoredObject, metadata_key: str | None) -> datetime | None:
    if metadata_key is None:
        return obj.created_at
    raw = obj.metadata.get(metadata_key)
    if raw is None:
        return None
    return parse_moment(raw, f"{obj.bucket}/{obj.name}: metadata {metadata_key}")


def _require_fresh_and_big(
    url: str, newest: StoredObject, age_s: float, params: ObjectBackupParams
) -> None:
    if age_s > params.max_age:
        raise StepFailed(
            f"newest backup {url} is {format_duration(age_s)} old, "
            f"over max_age {format_duration(params.max_age)}"
        )
    if newest.size < params.min_size:
        raise StepFailed(
            f"newest backup {url} is {newest.size} bytes, under min_size {params.min_size}: "
            "an interrupted or empty dump?"
        )
