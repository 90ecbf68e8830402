# gws-bridge: one image for every role (subscriber, worker, receiver, simulate).
#   docker build -t gws-bridge .
#   docker run --rm gws-bridge --help
# The role is the command: `docker run gws-bridge receiver --config /etc/gws-bridge/bridge.toml`.

# -- build: a virtualenv holding exactly requirements/run.lock, then the project ------------------
FROM python:3.11-slim AS build
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

# -- run: the virtualenv only, as an unprivileged user --------------------------------------------
FROM python:3.11-slim AS run
ENV PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 PATH=/opt/gws-bridge/bin:$PATH
RUN groupadd --system --gid 10001 gwsb \
 && useradd --system --uid 10001 --gid gwsb --home-dir /home/gwsb --create-home --shell /usr/sbin/nologin gwsb
COPY --from=build /opt/gws-bridge /opt/gws-bridge
USER 10001:10001
WORKDIR /home/gwsb
# The receiver listens on 8080 (inbound.port); workers serve metrics where --metrics-port says.
EXPOSE 8080
# Default check: the receiver's liveness endpoint. docker-compose.yml sets one per role
# (worker: its metrics endpoint; subscriber: its process; simulator: the GWS version URL).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["gws-bridge"]
CMD ["--help"]
