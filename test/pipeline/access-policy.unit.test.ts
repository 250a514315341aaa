// The access policy's decision alone (the end-to-end tests per protocol are in test/access-policy/).
import { describe, expect, it } from 'vitest';
import { decideAccess, type AccessFacts } from '../../src/pipeline/access-policy.js';
import type { AccessPolicy } from '../../src/config/schema/access-policy.js';

const G = 'CN=Legacy,CN=Users,DC=corp,DC=example,DC=test';

function facts(over: Partial<AccessFacts> & { groups?: string[] } = {}): AccessFacts & { asked: string[] } {
  const asked: string[] = [];
  const groups = (over.groups ?? []).map((g) => g.toLowerCase());
  return {
    protocol: 'ws-trust', endpoint: 'ws-trust-2005', insideCorporateNetwork: false, clientApplication: undefined,
    ...over,
    clientInsideCorporateNetwork: over.clientInsideCorporateNetwork ?? over.insideCorporateNetwork ?? false,
    asked,
    isMemberOf: async (dn) => {
      asked.push(dn);
      return groups.includes(dn.toLowerCase());
    },
  };
}

const policy: AccessPolicy = {
  rules: [
    { name: 'activesync', effect: 'deny', clientApplication: ['microsoft.exchange.activesync'] },
    { effect: 'deny', protocol: ['ws-trust'], network: 'outside', notMemberOf: [G], message: 'Only inside.' },
  ],
};

describe('decideAccess', () => {
  it('the first rule whose conditions all hold decides; the rest are not asked', async () => {
    const f = facts({ clientApplication: 'Microsoft.Exchange.ActiveSync', groups: [G] });
    expect(await decideAccess(policy, f)).toEqual({ allowed: false, rule: 'activesync', message: undefined });
    expect(f.asked).toEqual([]);
  });

  it('names an unnamed rule by its position and carries its message', async () => {
    expect(await decideAccess(policy, facts())).toEqual({ allowed: false, rule: 'rule 2', message: 'Only inside.' });
  });

  it('a member of the excepted group, inside the network, or another protocol: no rule holds, the default allows', async () => {
    for (const f of [facts({ groups: [G.toUpperCase()] }), facts({ insideCorporateNetwork: true }), facts({ protocol: 'wsfed', endpoint: 'wsfed' })]) {
      expect(await decideAccess(policy, f)).toEqual({ allowed: true, rule: 'default' });
    }
  });

  it('default deny refuses what no rule allows; a group is looked up once per decision', async () => {
    const p: AccessPolicy = { default: 'deny', rules: [{ effect: 'allow', memberOf: [G], endpoint: ['saml2'] }, { effect: 'allow', memberOf: [G] , network: 'inside' }] };
    const f = facts({ protocol: 'saml2', endpoint: 'saml2' });
    expect(await decideAccess(p, f)).toEqual({ allowed: false, rule: 'default' });
    expect(f.asked).toEqual([G]);
    expect((await decideAccess(p, facts({ protocol: 'saml2', endpoint: 'saml2', groups: [G] }))).allowed).toBe(true);
  });

  it("clientNetwork: Exchange Online's call is outside, the client it relays may be inside", async () => {
    const p: AccessPolicy = { rules: [{ name: 'basic-auth-outside', effect: 'deny', protocol: ['ws-trust'], clientNetwork: 'outside' }] };
    expect(await decideAccess(p, facts({ insideCorporateNetwork: false, clientInsideCorporateNetwork: true }))).toEqual({ allowed: true, rule: 'default' });
    expect(await decideAccess(p, facts({ insideCorporateNetwork: false, clientInsideCorporateNetwork: false }))).toMatchObject({ allowed: false, rule: 'basic-auth-outside' });
  });
});
