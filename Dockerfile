# gws-bridge: one image for every role (subscriber, worker, receiver, simulate).
#   docker build -t gws-bridge .
#   docker run --rm gws-bridge --help
# The role is the command: `docker run gws-bridge receiver --config /etc/gws-bridge/bridge.toml`.

# -- build: wheels for the project and all its dependencies --------------------------------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bridge ./bridge
COPY connectors ./connectors
COPY simulator ./simulator
RUN pip wheel --wheel-dir /wheels .

# -- run: the wheels only, as an unprivileged user --------------------------------------------------
FROM python:3.11-slim AS run
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 gwsb \
 && useradd --system --uid 10001 --gid gwsb --home-dir /home/gwsb --create-home --shell /usr/sbin/nologin gwsb
COPY --from=build /wheels /wheels
RUN pip install --no-index --find-links /wheels gws-bridge && rm -rf /wheels
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
