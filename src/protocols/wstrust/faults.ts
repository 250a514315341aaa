import { NS, WSA } from '../../constants.js';
import { GatehouseError } from '../../errors.js';
import { UnsafeXmlError } from '../../xml/parse.js';
import { escapeAttr as a, escapeText as t } from '../../xml/escape.js';
import type { TrustVersion } from './versions.js';

/**
 * The faults a WS-Trust client can get. Deliberately few: a caller learns "your credentials were not
 * accepted", "your message was not acceptable" or "try again later", never which check failed.
 */
export type FaultKind = 'FailedAuthentication' | 'InvalidRequest' | 'MustUnderstand' | 'IntranetOnly' | 'TooManyRequests' | 'DirectoryUnavailable' | 'Internal';

const REASONS: Record<FaultKind, string> = {
  FailedAuthentication: 'The security token could not be authenticated or authorized.',
  InvalidRequest: 'The request was invalid or malformed.',
  MustUnderstand: 'A header marked mustUnderstand was not understood.',
  IntranetOnly: 'Windows authentication (windowstransport) is only available inside the corporate network. Use usernamemixed, or connect to the corporate network.',
  TooManyRequests: 'Too many sign-in attempts. Try again later.',
  DirectoryUnavailable: 'The directory is unavailable. Try again later.',
  Internal: 'The server could not process the request.',
};

export class WsTrustFault extends Error {
  override name = 'WsTrustFault';
  constructor(
    readonly kind: FaultKind,
    /** For the log only: names the check that failed, never a password. */
    readonly detail: string,
    /** For MustUnderstand: the header block that was not understood. */
    readonly notUnderstood?: { ns: string; localName: string },
  ) {
    super(REASONS[kind]);
  }
}

/** Any error raised while answering a request, as the fault to send. */
export function toFault(err: unknown): WsTrustFault {
  if (err instanceof WsTrustFault) return err;
  if (err instanceof UnsafeXmlError) return new WsTrustFault('InvalidRequest', `XML refused: ${err.message}`);
  if (err instanceof GatehouseError) {
    const detail = `${err.code}${err.detail ? `: ${err.detail}` : ''}`;
    // Wrong password, unknown user and every account state (disabled, locked, expired...) look the same.
    if (err.isCredentialProblem) return new WsTrustFault('FailedAuthentication', detail);
    if (err.code === 'GH_DIRECTORY_UNAVAILABLE') return new WsTrustFault('DirectoryUnavailable', detail);
    if (err.status === 429) return new WsTrustFault('TooManyRequests', detail);
    if (err.status < 500) return new WsTrustFault('InvalidRequest', detail);
    return new WsTrustFault('Internal', detail);
  }
  // Fastify's own refusals (wrong content type, body too large, schema) are the client's fault.
  const status = (err as { statusCode?: unknown })?.statusCode;
  if (status === 429) return new WsTrustFault('TooManyRequests', (err as Error).message);
  if (typeof status === 'number' && status < 500) return new WsTrustFault('InvalidRequest', (err as Error).message);
  return new WsTrustFault('Internal', (err as Error)?.message ?? String(err));
}

function code(version: TrustVersion, f: WsTrustFault): string {
  switch (f.kind) {
    case 'FailedAuthentication':
    case 'InvalidRequest':
      return (
        '<s:Code><s:Value>s:Sender</s:Value>' +
        `<s:Subcode><s:Value xmlns:t="${version.trustNs}">t:${f.kind}</s:Value></s:Subcode></s:Code>`
      );
    case 'MustUnderstand':
      return '<s:Code><s:Value>s:MustUnderstand</s:Value></s:Code>';
    case 'IntranetOnly':
      // WS-Trust's own "the request could not be honoured", from the client's side of the line.
      return `<s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value xmlns:t="${version.trustNs}">t:RequestFailed</s:Value></s:Subcode></s:Code>`;
    case 'TooManyRequests':
    case 'DirectoryUnavailable':
    case 'Internal':
      return '<s:Code><s:Value>s:Receiver</s:Value></s:Code>';
  }
}

/** A SOAP 1.2 fault envelope (sent with HTTP 500, as ADFS does for every fault). */
export function renderFault(version: TrustVersion, f: WsTrustFault, relatesTo: string | undefined): string {
  const notUnderstood = f.notUnderstood
    ? `<s:NotUnderstood xmlns:n="${a(f.notUnderstood.ns)}" qname="n:${a(f.notUnderstood.localName)}"/>`
    : '';
  return (
    `<s:Envelope xmlns:s="${NS.soap12}" xmlns:a="${NS.wsa}">` +
    '<s:Header>' +
    `<a:Action s:mustUnderstand="1">${WSA.soapFault}</a:Action>` +
    (relatesTo ? `<a:RelatesTo>${t(relatesTo)}</a:RelatesTo>` : '') +
    notUnderstood +
    '</s:Header>' +
    '<s:Body><s:Fault>' +
    code(version, f) +
    `<s:Reason><s:Text xml:lang="en-US">${t(f.message)}</s:Text></s:Reason>` +
    '</s:Fault></s:Body>' +
    '</s:Envelope>'
  );
}
