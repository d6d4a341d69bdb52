# finops-bot: one container (ECS Fargate behind an ALB in production).
# Build: docker build -t finops-bot .
# Try:   docker run --rm -p 3000:3000 finops-bot          (demo organisation, embedded database)

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    FINOPS_DATA_DIR=/data \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force \
 && mkdir -p /data && chown node:node /data
COPY --from=build /app/dist/src ./dist/src
COPY src/adapters/db/migrations ./src/adapters/db/migrations
COPY prompts ./prompts
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/src/cli.js", "serve"]
