# gws-bridge: one image for every role (subscriber, worker, receiver, simulate).
#   docker build -t gws-bridge .
#   docker run --rm gws-bridge --help
# The role is the command: `docker run gws-bridge receiver --config /etc/gws-bridge/bridge.toml`.
#
# The base image is an exact release (Python 3.11.16, Debian 13 slim). To move it, or to pin its
# digest as well, look the tag up and build with it:
#   docker buildx imagetools inspect python:3.11.16-slim-trixie        # "Digest: sha256:…"
#   docker build --build-arg PYTHON_IMAGE=python:3.11.16-slim-trixie@sha256:… -t gws-bridge .
# (tests/e2e/test_containers.py checks that the tag stays exact and admitted by requires-python).
ARG PYTHON_IMAGE=python:3.11.16-slim-trixie

# -- build: a virtualenv holding exactly requirements/run.lock, then the project ------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/gws-bridge
ENV PATH=/opt/gws-bridge/bin:$PATH
WORKDIR /src
# The locked dependencies first, hash-checked: this layer changes only with the lock.
COPY requirements/run.lock requirements/
RUN pip install --require-hashes -r requirements/run.lock
COPY pyproject.toml README.md ./
COPY bridge ./bridge
COPY connectors ./connectors
COPY simulator ./simulator
RUN pip install --no-deps --no-build-isolation .

# -- run: the virtualenv and tini, as an unprivileged user ----------------------------------------
FROM ${PYTHON_IMAGE} AS run
# tini is PID 1: it forwards SIGTERM to the role (Python as PID 1 gets no default signal
# handling) and reaps orphaned children.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 gwsb \
 && useradd --system --uid 10001 --gid gwsb --home-dir /home/gwsb --create-home --shell /usr/sbin/nologin gwsb
COPY --from=build /opt/gws-bridge /opt/gws-bridge
# Bytecode was compiled at install time; nothing writes outside /tmp, so every role runs on a
# read-only root filesystem with a tmpfs at /tmp (docker-compose.yml, deploy/kubernetes/).
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PATH=/opt/gws-bridge/bin:$PATH
USER 10001:10001
WORKDIR /home/gwsb
# The receiver listens on 8080 (inbound.port); workers and subscribers serve metrics where
# --metrics-port says (9100 in docker-compose.yml and deploy/kubernetes/).
EXPOSE 8080
# No image-wide check: what is healthy depends on the role, which is the command. Each role's
# check is in docker-compose.yml and deploy/kubernetes/ (receiver: /healthz; worker and
# subscriber: `gws-bridge healthcheck`, their metrics and event-loop heartbeat; simulator: the
# GWS version URL).
HEALTHCHECK NONE
ENTRYPOINT ["tini", "--", "gws-bridge"]
CMD ["--help"]
