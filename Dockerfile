# drill as a container: `docker run IMAGE run namespace-restore --context dr=in-cluster`.
#
# Two stages on one base: the builder turns the source into a wheel and installs it, with its
# runtime dependencies only (no dev or sandbox extras) at the versions in
# requirements/runtime.txt, into /opt/venv; the final stage copies that venv and the shipped
# plans, nothing else.
#
# The base is pinned by tag. For reproducible builds pin it by digest as well, e.g.
#   FROM python:3.11-slim@sha256:<digest> AS builder
# (`docker buildx imagetools inspect python:3.11-slim` prints it) and let Renovate or
# Dependabot keep the digest current, so security fixes of the base still arrive.
#
# The image runs as UID/GID 10001 and writes only to /var/lib/drill (HOME, reports) and /tmp,
# the two declared volumes, so it works with a read-only root filesystem
# (`docker run --read-only --tmpfs /tmp -v drill-state:/var/lib/drill ...`; on Kubernetes,
# readOnlyRootFilesystem with emptyDir volumes, see deploy/base/cronjob.yaml).

FROM python:3.11-slim AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY requirements/ requirements/
COPY pyproject.toml README.md ./
COPY drill/ drill/
COPY providers/ providers/

# Every package at its locked version, hashes checked: the build tools into a throw-away venv
# that builds drill's wheel, the runtime dependencies (no dev or sandbox extras) into /opt/venv,
# then the wheel without resolving anything. pip compiles the byte-code here, once: the final
# image cannot write it at run time.
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes -r requirements/build.txt \
    && /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /tmp/wheels . \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes -r requirements/runtime.txt \
    && /opt/venv/bin/pip install --no-deps /tmp/wheels/drill-*.whl \
    && /opt/venv/bin/pip check \
    && /opt/venv/bin/drill --version


FROM python:3.11-slim

ARG VERSION=0.1.0
ARG REVISION=unknown

LABEL org.opencontainers.image.title="drill" \
      org.opencontainers.image.description="Disaster-recovery drills for services on Kubernetes: plans, timed runs, measured RPO and RTO." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim"

# A fixed numeric identity, so Kubernetes can check runAsNonRoot without a passwd lookup and
# volume ownership (fsGroup) is predictable.
RUN groupadd --system --gid 10001 drill \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/drill \
        --no-create-home --shell /usr/sbin/nologin drill \
    && mkdir -p /var/lib/drill \
    && chown 10001:10001 /var/lib/drill

COPY --from=builder /opt/venv /opt/venv
COPY plans/ /etc/drill/plans/

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/var/lib/drill \
    DRILL_PLANS_DIR=/etc/drill/plans \
    DRILL_REPORT_DIR=/var/lib/drill/reports

VOLUME ["/var/lib/drill", "/tmp"]
WORKDIR /var/lib/drill
USER 10001:10001

ENTRYPOINT ["drill"]
CMD ["--help"]
