import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse, type RunningGatehouse } from '../support/gatehouse.js';
import { value as wsfedValue } from '../support/wsfed.js';
import { childElements, parseXml, METADATA_ID, xmlsecVerify } from '../support/xml.js';

let gh: RunningGatehouse;
beforeAll(async () => {
  gh = await startGatehouse();
});
afterAll(async () => gh?.close());

const NS = {
  wsdl: 'http://schemas.xmlsoap.org/wsdl/',
  wsp: 'http://schemas.xmlsoap.org/ws/2004/09/policy',
  sp: 'http://docs.oasis-open.org/ws-sx/ws-securitypolicy/200702',
  sp2005: 'http://schemas.xmlsoap.org/ws/2005/07/securitypolicy',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  soap12: 'http://schemas.xmlsoap.org/wsdl/soap12/',
  wsa10: 'http://www.w3.org/2005/08/addressing',
};
const ISSUE_13 = 'http://docs.oasis-open.org/ws-sx/ws-trust/200512/RST/Issue';
const ISSUE_2005 = 'http://schemas.xmlsoap.org/ws/2005/02/trust/RST/Issue';

function descendants(el: Element, ns: string, name: string): Element[] {
  return Array.from(el.getElementsByTagNameNS(ns, name) as unknown as ArrayLike<Element>);
}

/**
 * Reads the MEX document the way MSAL's MexDocument does: policies (under the root) whose
 * ExactlyOne/All holds a TransportBinding and supporting tokens → Policy → UsernameToken → Policy →
 * WssUsernameToken10; the bindings that reference those policies, with a SOAP 1.2 HTTP binding and an
 * Issue soapAction (which tells the version); then the service ports' wsa10 addresses.
 */
function usernamePasswordEndpoints(xml: string): Array<{ version: '1.3' | '2005'; url: string }> {
  const doc = parseXml(xml);
  const root = doc.documentElement;
  const policies = new Set<string>();
  for (const policy of childElements(root, NS.wsp, 'Policy')) {
    const exactlyOne = childElements(policy, NS.wsp, 'ExactlyOne')[0];
    if (!exactlyOne) continue;
    for (const all of descendants(exactlyOne, NS.wsp, 'All')) {
      const supporting =
        childElements(all, NS.sp, 'SignedEncryptedSupportingTokens').map((e) => ({ e, sp: NS.sp }))[0] ??
        childElements(all, NS.sp2005, 'SignedSupportingTokens').map((e) => ({ e, sp: NS.sp2005 }))[0];
      if (!supporting) continue;
      const inner = childElements(supporting.e, NS.wsp, 'Policy')[0];
      const token = inner && childElements(inner, supporting.sp, 'UsernameToken')[0];
      const tokenPolicy = token && childElements(token, NS.wsp, 'Policy')[0];
      if (!tokenPolicy || childElements(tokenPolicy, supporting.sp, 'WssUsernameToken10').length === 0) continue;
      const transport = descendants(policy, NS.sp, 'TransportBinding')[0] ?? descendants(policy, NS.sp2005, 'TransportBinding')[0];
      const id = policy.getAttributeNS(NS.wsu, 'Id');
      if (transport && id) policies.add(`#${id}`);
    }
  }
  const bindings = new Map<string, '1.3' | '2005'>();
  for (const binding of childElements(root, NS.wsdl, 'binding')) {
    for (const ref of childElements(binding, NS.wsp, 'PolicyReference')) {
      if (!policies.has(ref.getAttribute('URI') ?? '')) continue;
      const op = childElements(binding, NS.wsdl, 'operation')[0];
      const action = op && childElements(op, NS.soap12, 'operation')[0]?.getAttribute('soapAction');
      if (action !== ISSUE_13 && action !== ISSUE_2005) continue;
      if (childElements(binding, NS.soap12, 'binding')[0]?.getAttribute('transport') !== 'http://schemas.xmlsoap.org/soap/http') continue;
      bindings.set(binding.getAttribute('name')!, action === ISSUE_13 ? '1.3' : '2005');
    }
  }
  const out: Array<{ version: '1.3' | '2005'; url: string }> = [];
  const service = childElements(root, NS.wsdl, 'service')[0]!;
  for (const port of childElements(service, NS.wsdl, 'port')) {
    const [, name] = (port.getAttribute('binding') ?? '').split(':', 2);
    const version = name ? bindings.get(name) : undefined;
    const epr = childElements(port, NS.wsa10, 'EndpointReference')[0];
    const address = epr && childElements(epr, NS.wsa10, 'Address')[0]?.textContent;
    if (version && address) out.push({ version, url: new URL(address).href });
  }
  return out;
}

describe('metadata exchange (/adfs/services/trust/mex)', () => {
  it('lists the 1.3 and 2005 usernamemixed endpoints with a UsernameToken policy, 1.3 first', async () => {
    const res = await fetch(`${gh.url}/adfs/services/trust/mex`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/xml/);
    const xml = await res.text();
    expect(usernamePasswordEndpoints(xml)).toEqual([
      { version: '1.3', url: `${gh.url}/adfs/services/trust/13/usernamemixed` },
      { version: '2005', url: `${gh.url}/adfs/services/trust/2005/usernamemixed` },
    ]);
    // Each port also has its soap12:address, like a WCF-generated WSDL.
    const doc = parseXml(xml);
    const locations = Array.from(doc.getElementsByTagNameNS(NS.soap12, 'address') as unknown as ArrayLike<Element>).map((e) => e.getAttribute('location'));
    expect(locations).toEqual([`${gh.url}/adfs/services/trust/13/usernamemixed`, `${gh.url}/adfs/services/trust/2005/usernamemixed`]);
  });

  it('does not list windowstransport when Windows sign-in is off, and its paths are not served', async () => {
    const xml = await (await fetch(`${gh.url}/adfs/services/trust/mex`)).text();
    expect(xml).not.toContain('windowstransport');
    expect(xml).not.toContain('NegotiateAuthentication');
    for (const path of ['/adfs/services/trust/13/windowstransport', '/adfs/services/trust/2005/windowstransport']) {
      const res = await fetch(`${gh.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/soap+xml' }, body: '<x/>' });
      expect(res.status).toBe(404);
    }
  });

  it('the advertised endpoints answer SOAP (a fault for an empty envelope, not a 404)', async () => {
    for (const path of ['/adfs/services/trust/13/usernamemixed', '/adfs/services/trust/2005/usernamemixed']) {
      const res = await fetch(`${gh.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/soap+xml' },
        body: '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>',
      });
      expect(res.status).toBe(500);
      expect(await res.text()).toContain('InvalidRequest');
    }
  });
});

describe('federation metadata', () => {
  it('lists the WS-Trust 1.3 endpoint as SecurityTokenServiceEndpoint, before the passive endpoint, and stays signed', async () => {
    const xml = await (await fetch(`${gh.url}/FederationMetadata/2007-06/FederationMetadata.xml`)).text();
    const v = xmlsecVerify(xml, gh.certPem, METADATA_ID);
    expect(v.ok, v.output).toBe(true);
    const doc = parseXml(xml);
    expect(wsfedValue(doc, '/md:EntityDescriptor/md:RoleDescriptor/fed:SecurityTokenServiceEndpoint/wsa:EndpointReference/wsa:Address')).toBe(
      `${gh.url}/adfs/services/trust/13/usernamemixed`,
    );
    const role = doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:metadata', 'RoleDescriptor')[0]!;
    const names = Array.from(role.childNodes as unknown as ArrayLike<Node>)
      .filter((n) => n.nodeType === 1)
      .map((n) => (n as Element).localName);
    expect(names.indexOf('SecurityTokenServiceEndpoint')).toBe(names.indexOf('PassiveRequestorEndpoint') - 1);
  });
});
