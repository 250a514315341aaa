// The layers of src/ and the rule between them: a module imports from its own layer or the ones below,
// never from one above, and no import loop. Checked by `npm run layers` and by test/layers.unit.test.ts
// (so `npm test` fails on a new violation). Type-only imports count: they tie the layers as much.
//
// From the ground up:
const LAYERS = [
  {
    name: 'foundation',
    what: 'configuration (schema, loading, relying-party validation), named errors, protocol constants, the Prometheus metrics every layer records into',
    paths: ['src/config/', 'src/errors\\.ts$', 'src/constants\\.ts$', 'src/types/', 'src/metrics/'],
  },
  {
    name: 'toolkits',
    what: 'XML, crypto, keys and certificates, Active Directory, Microsoft Graph, SQLite state, HTTP helpers and the pages\' layout, message catalogues, relying-party registry',
    paths: ['src/xml/', 'src/crypto/', 'src/keys/', 'src/directory/', 'src/graph/', 'src/state/', 'src/http/', 'src/i18n/', 'src/relying-parties/'],
  },
  {
    name: 'claims and tokens',
    what: 'what a relying party receives, and the SAML assertions that carry it',
    paths: ['src/claims/', 'src/tokens/'],
  },
  {
    name: 'services',
    what: 'sign-in (password check, sessions, forms), the second factor, smart lockout, the sync worker, tenant set-up, farm mode (shared state, leader lease, shared keys), the activity view (audit events kept, help-desk page)',
    paths: ['src/authn/', 'src/mfa/', 'src/lockout/', 'src/sync/', 'src/tenant/', 'src/farm/', 'src/activity/'],
  },
  {
    name: 'pipeline',
    what: 'the sign-in pipeline every protocol runs: request shape, steps, authentication methods, error policy',
    paths: ['src/pipeline/'],
  },
  {
    name: 'endpoints',
    what: 'WS-Federation, WS-Trust and SAML 2.0 adapters and routes, the /adfs/ls/ front door, metadata, health, the services the routes share',
    paths: ['src/protocols/', 'src/metadata/', 'src/health/', 'src/services\\.ts$'],
  },
  {
    name: 'entry points',
    what: 'the Fastify app, the server, its worker processes, the command line and its commands',
    paths: ['src/app\\.ts$', 'src/server\\.ts$', 'src/cluster\\.ts$', 'src/cli\\.ts$', 'src/commands/'],
  },
];

// Imports that point up a layer today, in files being reworked elsewhere: each is allowed as it is (that
// file to that file only), any other upward import fails. None now; an entry looks like
// { from: 'src/authn/forms\\.ts$', to: 'src/cluster\\.ts$' }.
const KNOWN_UPWARD = [];

// Import loops allowed because they go through one of these modules. None now.
const KNOWN_LOOPS_VIA = [];

const any = (paths) => `^(${paths.join('|')})`;

const layerRules = LAYERS.slice(0, -1).flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flatMap((l) => l.paths);
  const known = KNOWN_UPWARD.filter((k) => new RegExp(any(layer.paths)).test(k.from.replace(/\\\./g, '.').replace(/\$$/, '')));
  const rule = (name, from, to) => ({
    name,
    severity: 'error',
    comment: `The ${layer.name} layer (${layer.what}) must not import from a layer above it.`,
    from,
    to,
  });
  return [
    rule(`layer-${i}-${layer.name.replace(/\W+/g, '-')}`, { path: any(layer.paths), ...(known.length ? { pathNot: any(known.map((k) => k.from)) } : {}) }, { path: any(above) }),
    ...known.map((k, j) => rule(`layer-${i}-known-${j}`, { path: `^${k.from}` }, { path: any(above), pathNot: `^${k.to}` })),
  ];
});

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-import-loop',
      severity: 'error',
      comment: 'Modules must not import each other in a loop, directly or through others.',
      from: { path: '^src/' },
      to: KNOWN_LOOPS_VIA.length ? { circular: true, viaOnly: { pathNot: any(KNOWN_LOOPS_VIA) } } : { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
