# syntax=docker/dockerfile:1
# framecast images: one Dockerfile, one target per service.
#
#   docker build --target gateway       -t framecast/gateway:0.1.0 .
#   docker build --target registry      -t framecast/registry:0.1.0 .
#   docker build --target capture-agent -t framecast/capture-agent:0.1.0 .
#
# Each image holds the workspace layout with only its service, the shared packages it needs and
# their production dependencies (deploy/docker/assemble.sh, which deploy/test/image-start.test.ts
# runs too), and starts the service exactly as its `start` script does: `node [flags]
# services/<name>/bin/<command>.js`. Node 24 strips the TypeScript types itself; there is no build
# step and no TypeScript tooling in the image. Each image runs its service once with `--version` at
# build time, which loads every module and exits: Node's compile cache (NODE_COMPILE_CACHE) then
# holds every module stripped and compiled, and the service never loads the type stripper (~27 MB
# less RSS, a faster start; docs/PERFORMANCE.md). Only the capture agent carries ffmpeg.
#
# Run them as uid 1000 (the default here) with a read-only root filesystem: nothing is written
# outside /tmp. SIGTERM stops a service gracefully within FRAMECAST_SHUTDOWN_TIMEOUT_MS.

ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: the source and pnpm (as pinned in package.json's packageManager) ----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json ./
RUN npm install -g "pnpm@$(node -p "require('./package.json').packageManager.split('@')[1]")" \
 && npm cache clean --force
COPY . .

FROM build AS build-gateway
RUN --mount=type=cache,id=framecast-pnpm-store,target=/pnpm-store \
    PNPM_INSTALL_FLAGS="--store-dir /pnpm-store" sh deploy/docker/assemble.sh services/gateway /src /app

FROM build AS build-registry
RUN --mount=type=cache,id=framecast-pnpm-store,target=/pnpm-store \
    PNPM_INSTALL_FLAGS="--store-dir /pnpm-store" sh deploy/docker/assemble.sh services/registry /src /app

FROM build AS build-capture-agent
RUN --mount=type=cache,id=framecast-pnpm-store,target=/pnpm-store \
    PNPM_INSTALL_FLAGS="--store-dir /pnpm-store" sh deploy/docker/assemble.sh services/capture-agent /src /app

# ---- runtime base: Node only; the app tree belongs to root, the service runs as uid 1000 ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# Filled at build time by each service's `--version` run, as uid 1000 and with the CMD's flags
# (the cache is kept per user and per V8 flags); read-only at run time, which Node accepts.
ENV NODE_COMPILE_CACHE=/var/cache/framecast/node-compile
WORKDIR /app
# A directory the compose bootstrap and the agent share through a volume (a new named volume
# takes this owner); nothing else is writable but /tmp.
RUN mkdir -p /var/lib/framecast /var/cache/framecast && chown 1000:1000 /var/lib/framecast /var/cache/framecast
# Numeric, so Kubernetes' runAsNonRoot can check it (the image's `node` user is uid 1000).
USER 1000:1000
STOPSIGNAL SIGTERM

FROM runtime AS gateway
COPY --from=build-gateway /app /app
EXPOSE 8080
# Liveness only: /readyz (Redis connected, public rooms loaded) is for load balancers, and a
# gateway waiting for Redis is not broken.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The V8 heap flags of the gateway's `start` script (services/gateway/package.json): a 1 MB young
# generation frees each frame's buffers in cheap scavenges, and external (Buffer) memory counted in
# the heap's global limit, with an old generation starting at 32 MB, stops it from forcing a full
# GC every few hundred ms. docs/PERFORMANCE.md, "GC flags": CPU per frame on the camera shape 1.8× →
# 0.7× the floor's.
RUN ["node", "--max-semi-space-size=1", "--external-memory-accounted-in-global-limit", "--initial-old-space-size=32", "services/gateway/bin/framecast-gateway.js", "--version"]
CMD ["node", "--max-semi-space-size=1", "--external-memory-accounted-in-global-limit", "--initial-old-space-size=32", "services/gateway/bin/framecast-gateway.js"]

FROM runtime AS registry
COPY --from=build-registry /app /app
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8081) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
RUN ["node", "services/registry/bin/framecast-registry.js", "--version"]
CMD ["node", "services/registry/bin/framecast-registry.js"]

FROM runtime AS capture-agent
USER root
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg \
 && rm -rf /var/lib/apt/lists/*
USER 1000:1000
COPY --from=build-capture-agent /app /app
# /metrics and /healthz, which the health check reads (the agent's own default is 0 = off).
ENV FRAMECAST_METRICS_PORT=9464
EXPOSE 9464
# The agent's /healthz is 503 while Redis is down or a camera does not stream.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + process.env.FRAMECAST_METRICS_PORT + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The agent's `start` script flag: a 1 MB young generation frees each frame's buffers in cheap
# scavenges instead of full GCs (docs/PERFORMANCE.md, capture agent: ~15 % less CPU per frame).
RUN ["node", "--max-semi-space-size=1", "services/capture-agent/bin/framecast-agent.js", "--version"]
CMD ["node", "--max-semi-space-size=1", "services/capture-agent/bin/framecast-agent.js"]
