import type { AccessPolicy, AccessRule } from '../config/schema/access-policy.js';
import type { Protocol } from './sign-in.js';

/** What an access rule can look at: the request and the user's group memberships. */
export interface AccessFacts {
  protocol: Protocol;
  endpoint: string;
  insideCorporateNetwork: boolean;
  /** Where the client itself is: Exchange Online's forwarded client address when there is one, else as above. */
  clientInsideCorporateNetwork: boolean;
  /** The X-MS-Client-Application header, when the request has one. */
  clientApplication: string | undefined;
  /** Membership of a group (DN), nested groups included; asked only for the groups a rule names. */
  isMemberOf(groupDn: string): Promise<boolean>;
}

export interface AccessDecision {
  allowed: boolean;
  /** The rule that decided (its name, or "rule N"); `default` when none matched. */
  rule: string;
  /** A deny rule's own message for the user. */
  message?: string | undefined;
}

async function holds(rule: AccessRule, f: AccessFacts, member: (dn: string) => Promise<boolean>): Promise<boolean> {
  if (rule.protocol && !rule.protocol.includes(f.protocol)) return false;
  if (rule.endpoint && !rule.endpoint.includes(f.endpoint)) return false;
  if (rule.network && rule.network !== (f.insideCorporateNetwork ? 'inside' : 'outside')) return false;
  if (rule.clientNetwork && rule.clientNetwork !== (f.clientInsideCorporateNetwork ? 'inside' : 'outside')) return false;
  if (rule.clientApplication) {
    const app = f.clientApplication?.toLowerCase();
    if (!app || !rule.clientApplication.some((c) => c.toLowerCase() === app)) return false;
  }
  // Groups last: they cost a directory search each, and the request's own conditions usually decide first.
  if (rule.memberOf && !(await someAsync(rule.memberOf, member))) return false;
  if (rule.notMemberOf && (await someAsync(rule.notMemberOf, member))) return false;
  return true;
}

async function someAsync(dns: readonly string[], member: (dn: string) => Promise<boolean>): Promise<boolean> {
  for (const dn of dns) if (await member(dn)) return true;
  return false;
}

/**
 * A relying party's client access policy: the first rule whose conditions all hold decides, otherwise the
 * default (allow). Each group is looked up once per decision.
 * @throws what isMemberOf throws (GH_DIRECTORY_UNAVAILABLE): a policy that cannot be evaluated refuses.
 */
export async function decideAccess(policy: AccessPolicy, facts: AccessFacts): Promise<AccessDecision> {
  const known = new Map<string, Promise<boolean>>();
  const member = (dn: string) => {
    const key = dn.toLowerCase();
    if (!known.has(key)) known.set(key, facts.isMemberOf(dn));
    return known.get(key)!;
  };
  for (const [i, rule] of policy.rules.entries()) {
    if (await holds(rule, facts, member)) {
      return { allowed: rule.effect === 'allow', rule: rule.name ?? `rule ${i + 1}`, message: rule.effect === 'deny' ? rule.message : undefined };
    }
  }
  return { allowed: (policy.default ?? 'allow') === 'allow', rule: 'default' };
}
