# The Docker trial's domain controller: Debian 12 with Samba's AD DC packages, installed once, when the image
# is built (not at every start). The domain itself is provisioned on the container's first start, into the
# volume at SAMBA_DC_DIR, with the same sample users as npm run demo.  Build: see docker-compose.yml.
FROM debian:bookworm-slim
COPY test/fixtures/samba-dc.sh /usr/local/bin/samba-dc.sh
RUN bash /usr/local/bin/samba-dc.sh install && rm -rf /var/lib/apt/lists/*
COPY docker/dc-entrypoint.sh /usr/local/bin/dc-entrypoint
ENV SAMBA_DC_DIR=/var/lib/gatehouse-dc DC_CA_DIR=/var/lib/gatehouse-dc-ca
ENTRYPOINT ["dc-entrypoint"]
