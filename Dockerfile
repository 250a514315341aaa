# Gatehouse sign-in server. Build: docker build -t gatehouse .   Run: see docker-compose.yml.
# The full image has python3, make and g++: better-sqlite3 compiles its native module during npm ci.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY views ./views
COPY schemas ./schemas
COPY docker/entrypoint.sh /usr/local/bin/gatehouse-entrypoint
RUN mkdir -p /app/certs /app/var && chown -R node:node /app/certs /app/var
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/adfs/probe').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["gatehouse-entrypoint"]
CMD ["serve"]
