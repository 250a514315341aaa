# Gatehouse sign-in server. Build: docker build -t gatehouse .   Run: see docker-compose.yml.
# Node.js 26, the active LTS line (Gatehouse supports 22, 24 and 26: package.json engines).
# The full image has python3, make, g++ and libkrb5-dev: better-sqlite3 and kerberos compile their native
# modules during npm ci when no prebuilt one fits.
FROM node:26-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
RUN npm ci && npm prune --omit=dev

FROM node:26-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
# MIT Kerberos's GSSAPI library, which the kerberos module needs for Windows sign-in (kerberos.enabled).
RUN apt-get update && apt-get install -y --no-install-recommends libgssapi-krb5-2 && rm -rf /var/lib/apt/lists/*
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY views ./views
COPY locales ./locales
COPY schemas ./schemas
# The demo application of the docker-compose trial (it runs from this image too).
COPY scripts/demo-rp.mjs ./scripts/demo-rp.mjs
COPY docker/entrypoint.sh /usr/local/bin/gatehouse-entrypoint
RUN mkdir -p /app/certs /app/var && chown -R node:node /app/certs /app/var
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8080/adfs/probe').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["gatehouse-entrypoint"]
CMD ["serve"]
