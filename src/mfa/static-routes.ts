import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const require = createRequire(import.meta.url);
const VIEWS_STATIC = fileURLToPath(new URL('../../views/static/', import.meta.url));
// The package's exports map hides its browser bundle; it sits beside its CommonJS entry (script/index.js).
const BROWSER_BUNDLE = join(dirname(dirname(require.resolve('@simplewebauthn/browser'))), 'dist/bundle/index.umd.min.js');

/**
 * The two scripts of the passkey pages, served from this server (the CSP allows 'self' on those pages
 * only, and no CDN): @simplewebauthn/browser's own bundle, and the few lines that hand it the options and
 * post its answer (views/static/mfa-webauthn.js).
 */
export async function mfaStaticRoutes(app: FastifyInstance): Promise<void> {
  const files = {
    '/adfs/portal/simplewebauthn-browser.js': readFileSync(BROWSER_BUNDLE),
    '/adfs/portal/mfa-webauthn.js': readFileSync(`${VIEWS_STATIC}mfa-webauthn.js`),
  };
  for (const [path, body] of Object.entries(files)) {
    app.get(path, (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(body));
  }
}
