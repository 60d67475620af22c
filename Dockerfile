# syntax=docker/dockerfile:1
# The pipeline worker (and CLI) image. Two stages: `build` compiles TypeScript and bundles the
# workflow code once (so workers start without webpack); `runtime` has production dependencies only
# and runs as the unprivileged `node` user.
#
#   docker build -t ecommerce-pipeline .
#   docker run --rm ecommerce-pipeline schedule describe      # any `pipeline` command
#
# package-lock.json holds every platform's build of the native modules (DuckDB, swc, rollup), so
# `npm ci` installs as it is; docker-compose.yml still pins linux/amd64, the platform CI tests. Keep
# a Debian-based (glibc) Node image.

ARG NODE_IMAGE=node:20.19.5-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PIPELINE_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js \
    PIPELINE_LAKE_DIR=/data/lake \
    PIPELINE_WAREHOUSE_PATH=/data/warehouse/warehouse.duckdb \
    PIPELINE_OUTBOX_PATH=/data/warehouse/notifications.jsonl
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# Read at run time by the aws backend (Redshift SQL templates, the Glue job script it uploads).
COPY sql ./sql
COPY glue/ecommerce_etl_job.py ./glue/
RUN mkdir -p /data/lake /data/warehouse && chown -R node:node /data
USER node
VOLUME ["/data/lake", "/data/warehouse"]
ENTRYPOINT ["node", "/app/bin/pipeline"]
CMD ["worker"]
