# Perch's service (`perch serve`: the HTTP API and the web UI) in a container.
#
#   docker build -t perch .            (or: podman build -t perch .)
#   docker compose up -d               (compose.yaml: 127.0.0.1:8080, a volume for /data)
#
# Two stages: the first has the compilers and every dev tool (it builds better-sqlite3 from
# source and out/ with electron-vite); the second has Node, the production dependencies, out/
# and bin/ only — no compilers, no Electron, no Vite, no sources, no secrets. Node 24 is the
# LTS line used (maintained until April 2028); NODE_VERSION=22 also works.
ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-bookworm-slim AS build
# node-gyp compiles better-sqlite3 (no prebuilt binary is fetched: npm_config_build_from_source).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# Electron is a dev dependency for the desktop app: its binary is never needed here.
ENV ELECTRON_SKIP_BINARY_DOWNLOAD=1 \
    npm_config_build_from_source=true \
    npm_config_audit=false \
    npm_config_fund=false \
    npm_config_update_notifier=false
COPY package.json package-lock.json .npmrc ./
# --ignore-scripts: `prepare` would build before the sources are here; better-sqlite3's own
# build runs next. npm installs the agent's platform package (the `claude` binary) for the
# platform this stage runs on, which is the image's platform (buildx runs it per platform).
RUN npm ci --ignore-scripts && npm rebuild better-sqlite3
COPY . .
# Then only the production dependencies stay (better-sqlite3 without SQLite's sources and its
# compiler's leftovers, as in the desktop build), and the build fails if the agent is missing.
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && (cd node_modules/better-sqlite3 && rm -rf deps src build/deps build/node_gyp_bins build/Release/obj \
      build/Release/obj.target build/Release/.deps build/Release/test_extension.node) \
 && ls -l node_modules/better-sqlite3/build/Release/better_sqlite3.node node_modules/@anthropic-ai/claude-agent-sdk-linux-*/claude

FROM node:${NODE_VERSION}-bookworm-slim
# tini: PID 1 that passes SIGTERM on to Perch and reaps the processes tasks leave behind.
# git: tasks read a workspace's status and the agent uses it. ca-certificates: HTTPS for them.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini git ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    PERCH_DATA_DIR=/data \
    PERCH_HOST=0.0.0.0
WORKDIR /app
# Owned by root and read-only to the service's user.
COPY --from=build /app/package.json ./
COPY --from=build /app/bin ./bin
COPY --from=build /app/out ./out
COPY --from=build /app/node_modules ./node_modules
RUN ln -s /app/bin/perch.js /usr/local/bin/perch \
 && mkdir -p /data \
 && chown node:node /data \
 && chmod 700 /data
# The node image's unprivileged user (uid 1000, gid 1000).
USER node
VOLUME ["/data"]
EXPOSE 8080
# Every 10 s (Docker checks first one interval after the start; compose.yaml checks every
# second while starting). 503 only when Perch cannot serve; no Claude is "degraded", still 200.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PERCH_PORT || 8080) + '/api/v1/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["perch", "serve"]
