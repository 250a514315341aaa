import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { loadConfig, type Config } from '../config/load.js';
import { runCommand } from './run.js';
import { issuersPerDomain } from '../config/federated-domains.js';
import { loadCertificate, type SigningCertificate } from '../keys/keystore.js';
import { rolloverFiles } from '../keys/rollover.js';
import { compareFederation, type Difference } from '../tenant/compare.js';
import { checkDomain, federationConfiguration, powershellCommands, type FederationCertificates, type InternalDomainFederation } from '../tenant/federation.js';
import { FederationApi, tenantSettings, type TenantFederation } from '../tenant/federation-api.js';

interface TenantSetupOptions {
  domain: string;
  config?: string;
  json?: boolean;
  apply?: boolean;
  check?: boolean;
  displayName?: string;
}

const out = (s = '') => process.stdout.write(s + '\n');

/** The certificates as Gatehouse serves them: current, next when `certs rollover` made one, and the previous one (to name it). */
export function federationCertificates(config: Config): FederationCertificates & { previous?: SigningCertificate } {
  const files = rolloverFiles(config.signing);
  const current = loadCertificate(files.current.cert);
  const next = existsSync(files.next.cert) ? loadCertificate(files.next.cert, 'signing.nextCertFile') : undefined;
  let previous: SigningCertificate | undefined;
  try {
    previous = existsSync(files.previous.cert) ? loadCertificate(files.previous.cert) : undefined;
  } catch {
    previous = undefined; // only used to name a certificate in --check's messages
  }
  return { current, ...(next ? { next } : {}), ...(previous ? { previous } : {}) };
}

const certLine = (c: SigningCertificate) => `${c.thumbprint}  (${c.certificate.subject.replace(/\n/g, ', ')}, expires ${c.notAfter.toISOString().slice(0, 10)})`;

function printDifferences(domain: string, diffs: Difference[]): void {
  if (!diffs.length) {
    out(`${domain}: the tenant's federation configuration matches Gatehouse (issuer, certificates, endpoints, protocol, MFA and prompt behaviour).`);
    return;
  }
  out(`${domain}: ${diffs.length} difference${diffs.length === 1 ? '' : 's'} between the tenant and Gatehouse:`);
  for (const d of diffs) {
    out('');
    out(`  ${d.property}`);
    out(`    Microsoft 365: ${d.tenant ?? '(not set)'}`);
    out(`    Gatehouse:     ${d.gatehouse ?? '(none)'}`);
    out(`    Effect: ${d.effect}`);
    out(`    Fix:    ${d.fix}`);
  }
}

/** The PATCH body: what Gatehouse sets, and clears a next certificate Gatehouse no longer has. */
function patchBody(body: InternalDomainFederation, existing: TenantFederation): Record<string, unknown> {
  const { '@odata.type': _type, ...rest } = body;
  const patch: Record<string, unknown> = { ...rest };
  if (!body.nextSigningCertificate && existing.nextSigningCertificate) patch.nextSigningCertificate = null;
  return patch;
}

async function tenantSetup(opts: TenantSetupOptions): Promise<number> {
  if (opts.apply && opts.check) throw new Error('use --apply or --check, not both (--apply checks after writing)');
  const domain = checkDomain(opts.domain);
  const config = loadConfig({ file: opts.config, secrets: false }) // Graph only: the directory's secret is not needed;
  const certs = federationCertificates(config);
  const body = federationConfiguration(config, certs, opts.displayName ?? config.tenant?.displayName ?? domain, domain);

  if (!opts.apply && !opts.check) {
    if (opts.json) {
      out(JSON.stringify(body, null, 2));
      return 0;
    }
    out(`Federation of ${domain} with Gatehouse (${config.source})`);
    out(`  issuer:              ${body.issuerUri}${issuersPerDomain(config) ? `  (${domain}'s own: federatedDomains lists ${config.federatedDomains.length} domains)` : ''}`);
    out(`  sign-in (passive):   ${body.passiveSignInUri}`);
    out(`  rich clients:        ${body.activeSignInUri}`);
    out(`  metadata exchange:   ${body.metadataExchangeUri}`);
    out(`  token signing:       ${certLine(certs.current)}`);
    out(`  next token signing:  ${certs.next ? certLine(certs.next) : '(none; "gatehouse certs rollover" makes one)'}`);
    out('');
    out(`Microsoft Graph: POST /v1.0/domains/${domain}/federationConfiguration`);
    out(JSON.stringify(body, null, 2));
    out('');
    out('Microsoft Graph PowerShell SDK:');
    out(powershellCommands(domain, body));
    out('');
    out(`Or let Gatehouse make the call (an app registration with Domain-InternalFederation.ReadWrite.All, see the README):`);
    out(`  gatehouse tenant-setup --domain ${domain} --apply    then    gatehouse tenant-setup --domain ${domain} --check`);
    return 0;
  }

  const api = FederationApi.create(tenantSettings(config));
  const existing = await api.get(domain);

  if (opts.check) {
    const diffs: Difference[] = existing
      ? compareFederation(domain, body, existing, certs)
      : [
          {
            property: 'federationConfiguration',
            tenant: null,
            gatehouse: body.issuerUri,
            effect: `${domain} is not federated: Microsoft 365 signs its users in with cloud passwords and never sends them to Gatehouse.`,
            fix: `Run gatehouse tenant-setup --domain ${domain} --apply (or the PowerShell command that tenant-setup prints).`,
          },
        ];
    if (opts.json) out(JSON.stringify({ domain, match: diffs.length === 0, federationConfigurationId: existing?.id ?? null, differences: diffs }, null, 2));
    else printDifferences(domain, diffs);
    return diffs.length ? 1 : 0;
  }

  // --apply
  let id: string;
  if (!existing) {
    const created = await api.create(domain, body);
    id = created.id;
    if (!opts.json) out(`${domain}: created the federation configuration ${id} (POST /domains/${domain}/federationConfiguration): the domain is now federated with Gatehouse.`);
  } else {
    id = existing.id;
    const before = compareFederation(domain, body, existing, certs);
    await api.update(domain, id, patchBody(body, existing));
    if (!opts.json) {
      out(`${domain}: updated the federation configuration ${id} (PATCH).`);
      for (const d of before) out(`  ${d.property}: ${d.tenant ?? '(not set)'}  ->  ${d.gatehouse ?? '(cleared)'}`);
      if (!before.length) out('  (nothing differed; the values were written again)');
    }
  }
  const after = await api.get(domain);
  const diffs = after ? compareFederation(domain, body, after, certs) : [];
  if (opts.json) out(JSON.stringify({ domain, federationConfigurationId: id, created: !existing, match: !!after && diffs.length === 0, differences: diffs }, null, 2));
  else if (!after) out(`warning: Microsoft Graph does not list the configuration yet; run --check in a minute.`);
  else printDifferences(domain, diffs);
  return after && diffs.length === 0 ? 0 : 1;
}

/** Adds `gatehouse tenant-setup` to the command line. */
export function registerTenantSetupCommand(program: Command): void {
  program
    .command('tenant-setup')
    .description("print (or, with --apply, make) the Microsoft 365 domain's federation configuration; --check compares the tenant's with Gatehouse's")
    .requiredOption('--domain <name>', 'the Microsoft 365 domain to federate, e.g. corp.example.com (added and verified in the tenant)')
    .addOption(new Option('-c, --config <file>', 'configuration file (.yaml, .yml or .json); default $GATEHOUSE_CONFIG'))
    .option('--json', 'print only JSON (the Graph request body; with --apply/--check, the result)')
    .option('--apply', 'create the configuration through Microsoft Graph, or update it when the domain is already federated')
    .option('--check', "compare the tenant's configuration with Gatehouse's; exit 1 when they differ")
    .option('--display-name <text>', 'displayName (default tenant.displayName, else the domain)')
    // runCommand exits with the status tenantSetup returns (keep-alive sockets would hold the process a while);
    // 2 when it could not print, apply or check (1 means --check found differences).
    .action(runCommand('tenant-setup', tenantSetup, { failureStatus: 2 }));
}
