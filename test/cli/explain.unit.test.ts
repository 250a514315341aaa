// The wording of errors that the real directory tests (check-config.test.ts) cannot produce here: AD codes
// only Windows gives (525, 530, 531), DNS answers this machine does not get, and how runCommand prints
// each kind of error. The errors are built as Node, ldapts and AD give them; nothing talks LDAP.
import { describe, expect, it } from 'vitest';
import { InvalidCredentialsError, StrongAuthRequiredError, UnavailableError } from 'ldapts';
import { explainDirectoryError, rawText, type ExplainContext } from '../../src/commands/check-directory.js';
import { describeFailure, UsageError } from '../../src/commands/run.js';
import { NoConfigurationError } from '../../src/config/load.js';
import { ConfigError, GatehouseError } from '../../src/errors.js';

const ctx: ExplainContext = {
  url: 'ldap://dc1.corp.example.com',
  host: 'dc1.corp.example.com',
  port: 389,
  timeoutMs: 5000,
  bindDn: 'CORP\\svc-gatehouse',
};
const adBind = (data: string) => new InvalidCredentialsError(`80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data ${data}, v4563`);
const sysError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('explainDirectoryError', () => {
  it.each([
    ['52e', "the service account's password is wrong: set directory.bindPassword (or the file directory.bindPasswordFile names) to the current password of CORP\\svc-gatehouse"],
    ['525', "AD has no account CORP\\svc-gatehouse: set directory.bindDn to the service account's DN, UPN (name@domain) or DOMAIN\\name"],
    ['530', 'the service account CORP\\svc-gatehouse may not sign in at this time (logon hours): allow every hour for it in AD'],
    ['531', 'the service account CORP\\svc-gatehouse may not sign in from this machine ("Log On To" workstations): allow it in AD'],
    ['532', "the service account CORP\\svc-gatehouse's password has expired: set a new one in AD and in directory.bindPassword (or directory.bindPasswordFile), and make it never expire"],
    ['533', 'the service account CORP\\svc-gatehouse is disabled in AD: enable it'],
    ['701', 'the service account CORP\\svc-gatehouse has expired in AD (accountExpires): extend or clear its expiry date'],
    ['773', 'the service account CORP\\svc-gatehouse must change its password at next logon'],
    ['775', 'the service account CORP\\svc-gatehouse is locked out in AD'],
  ])('AD data %s on the service account bind', (data, says) => {
    expect(explainDirectoryError(adBind(data), 'ldap', ctx)).toContain(says);
  });

  it('an AD code it does not know still names the account and the code', () => {
    expect(explainDirectoryError(adBind('568'), 'ldap', ctx)).toBe(
      'the DC refused the service account CORP\\svc-gatehouse (AD data 568): check directory.bindDn and directory.bindPassword',
    );
  });

  it('keeps AD\'s text as the raw part, without ldapts\'s "Code: 0x31"', () => {
    const err = adBind('52e');
    expect(err.message).toMatch(/ Code: 0x31$/); // as ldapts words it
    expect(rawText(err)).toBe('LDAP result 49: 80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext error, data 52e, v4563');
  });

  it.each([
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND dc1.corp.example.com', 'DNS has no address for dc1.corp.example.com: correct the host in directory.urls, or add the name to DNS'],
    ['EAI_AGAIN', 'getaddrinfo EAI_AGAIN dc1.corp.example.com', "DNS did not answer for dc1.corp.example.com (temporary failure): check this machine's DNS servers (/etc/resolv.conf), or put the DC's address in directory.urls"],
    ['ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.5:389', 'dc1.corp.example.com port 389 refused the connection: nothing listens there; check the port in directory.urls (ldap:// 389, ldaps:// 636) and that the DC is running'],
    ['ENETUNREACH', 'connect ENETUNREACH 10.0.0.5:389', 'network unreachable: this machine has no route to dc1.corp.example.com; check its network (routes, VPN) or the address in directory.urls'],
    ['EHOSTUNREACH', 'connect EHOSTUNREACH 10.0.0.5:389', 'dc1.corp.example.com is unreachable (no route to the host, or a firewall rejects the connection): check the address in directory.urls and the network'],
    ['GH_CONNECT_TIMEOUT', 'connect timed out after 5000 ms', 'dc1.corp.example.com port 389 did not accept a connection within 5000 ms (directory.timeoutMs): a firewall drops the packets, or the host is down'],
  ])('%s while connecting', (code, message, says) => {
    const err = sysError(code, message);
    expect(explainDirectoryError(err, 'tcp', ctx)).toBe(says);
    expect(rawText(err)).toBe(code.startsWith('GH_') ? `${code}: ${message}` : message);
  });

  it('a DC that wants an encrypted connection for binds', () => {
    expect(explainDirectoryError(new StrongAuthRequiredError('00002028: LdapErr: DSID-0C09020A, comment: The server requires binds to turn on integrity checking'), 'ldap', ctx)).toMatch(
      /^the DC requires an encrypted connection for binds \(LDAP signing policy\): use ldaps:\/\/ in directory\.urls, or set directory\.startTls: true/,
    );
  });

  it('a DC without a certificate refuses StartTLS: password changes would fail', () => {
    expect(explainDirectoryError(new UnavailableError('no certificate'), 'password-change', ctx)).toMatch(
      /^password changes would fail \(AD takes a new password only over TLS: StartTLS on ldap:\/\/\): the DC refused StartTLS \(it has no certificate for LDAP over TLS\)/,
    );
  });

  it('an expired DC certificate', () => {
    const err = sysError('CERT_HAS_EXPIRED', 'certificate has expired');
    const cert = { subject: { CN: 'dc1.corp.example.com' }, issuer: { CN: 'Corp CA' }, valid_to: 'Jan  1 00:00:00 2024 GMT' };
    expect(explainDirectoryError(err, 'tls', { ...ctx, cert: cert as never })).toBe("the DC's certificate expired on Jan  1 00:00:00 2024 GMT: renew it on the DC");
    expect(rawText(err)).toBe('CERT_HAS_EXPIRED: certificate has expired');
  });

  it('a CA file that is not the right one', () => {
    const err = sysError('UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate');
    expect(explainDirectoryError(err, 'tls', { ...ctx, caFile: '/etc/gatehouse/ca.pem' })).toBe(
      "directory.caFile (/etc/gatehouse/ca.pem) does not hold the CA that issued the DC's certificate: set it to that CA's certificate (PEM; the root, and any intermediates the DC does not send)",
    );
  });
});

describe('describeFailure (how runCommand prints an error)', () => {
  it('no configuration: one line', () => {
    expect(describeFailure('gatehouse serve', new NoConfigurationError())).toBe('gatehouse serve: no configuration given (use --config FILE or set GATEHOUSE_CONFIG)\n');
  });

  it('a configuration error: its lines, indented', () => {
    expect(describeFailure('gatehouse serve', new ConfigError('publicUrl: required but missing\ndirectory: required but missing'))).toBe(
      'gatehouse serve: configuration error:\n  publicUrl: required but missing\n  directory: required but missing\n',
    );
  });

  it('a GatehouseError: its code, the detail, and what to do', () => {
    const err = new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: 'ldap://dc1: connect ECONNREFUSED' });
    expect(describeFailure('gatehouse sync', err)).toBe(
      'gatehouse sync: GH_DIRECTORY_UNAVAILABLE: ldap://dc1: connect ECONNREFUSED\n' +
        '  what to do: check directory.urls and the service account; "gatehouse check-config" tests each domain controller and says what to fix\n',
    );
    // A code without a hint of its own: the detail, then the user-facing message.
    expect(describeFailure('gatehouse serve', new GatehouseError('GH_FORBIDDEN', { detail: 'realm urn:x' }))).toBe('gatehouse serve: GH_FORBIDDEN: realm urn:x\n  The request was refused.\n');
    expect(describeFailure('gatehouse serve', new GatehouseError('GH_FORBIDDEN'))).toBe('gatehouse serve: GH_FORBIDDEN: The request was refused.\n');
  });

  it('a usage mistake or any other error: its message; a bug: with its stack', () => {
    expect(describeFailure('gatehouse certs init', new UsageError('--days must be a whole number from 1 to 3650'))).toBe('gatehouse certs init: --days must be a whole number from 1 to 3650\n');
    expect(describeFailure('gatehouse lockout reset', new Error('no lockout state for bob'))).toBe('gatehouse lockout reset: no lockout state for bob\n');
    const bug = describeFailure('gatehouse serve', new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(bug).toMatch(/^gatehouse serve: internal error: Cannot read properties of undefined \(reading 'x'\)\n {2}TypeError: /);
    expect(describeFailure('gatehouse', 'a string')).toBe('gatehouse: a string\n');
  });
});
