import type { AssertionAttribute } from '../tokens/assertion.js';
import type { AttributeValues, ResolvedClaims } from './resolved.js';
import type { ClaimRule, ClaimRules, ClaimTransform } from '../config/schema/claim-rules.js';

/** The computed source anchor, usable as an attribute name in rules (AD has no attribute of that name). */
export const IMMUTABLE_ID = 'immutableid';

/**
 * Attributes AD stores as bytes. They are read as raw bytes; a value still binary after the transforms
 * goes out in base64 rather than as mangled text.
 */
const KNOWN_BINARY = new Set([
  'objectguid', 'objectsid', 'ms-ds-consistencyguid', 'sidhistory', 'thumbnailphoto', 'jpegphoto',
  'usercertificate', 'msexchmailboxguid', 'msds-generationid',
]);

export interface ClaimNeeds {
  /** Attribute names the rules read (as written, deduplicated without regard to case). */
  attributes: string[];
  /** Those among them to read as raw bytes. */
  binary: string[];
  /** Group DNs the rules' conditions name. */
  groups: string[];
}

function hasBase64(transform: readonly ClaimTransform[] | undefined): boolean {
  return (transform ?? []).includes('base64');
}

/** What resolution must read for these rules: attributes, which of them are binary, and groups. */
export function claimNeeds(rules: ClaimRules | undefined): ClaimNeeds {
  const attrs = new Map<string, { name: string; binary: boolean }>();
  const groups = new Set<string>();
  const want = (name: string, transform: readonly ClaimTransform[] | undefined) => {
    const key = name.toLowerCase();
    if (key === IMMUTABLE_ID) return;
    const binary = KNOWN_BINARY.has(key) || hasBase64(transform) || attrs.get(key)?.binary === true;
    attrs.set(key, { name: attrs.get(key)?.name ?? name, binary });
  };
  for (const r of rules?.rules ?? []) {
    if (r.attribute !== undefined) want(r.attribute, r.transform);
    if (r.ifMemberOf !== undefined) groups.add(r.ifMemberOf);
  }
  const list = [...attrs.values()];
  return { attributes: list.map((a) => a.name), binary: list.filter((a) => a.binary).map((a) => a.name), groups: [...groups] };
}

const regexCache = new WeakMap<object, RegExp>();

function regexOf(t: Extract<ClaimTransform, { replace: string }>): RegExp {
  let re = regexCache.get(t);
  if (!re) {
    re = new RegExp(t.replace, t.ignoreCase ? 'gi' : 'g');
    regexCache.set(t, re);
  }
  return re;
}

/** Text of a value: binary values are written in base64, the only faithful text form of bytes. */
function text(v: string | Buffer): string {
  return Buffer.isBuffer(v) ? v.toString('base64') : v;
}

/** Applies the transforms in order to one value; undefined when nothing (an empty string) is left. */
export function transformValue(value: string | Buffer, transform: readonly ClaimTransform[] | undefined): string | undefined {
  let v: string | Buffer = value;
  for (const t of transform ?? []) {
    if (t === 'base64') v = (Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8')).toString('base64');
    else if (t === 'lowercase') v = text(v).toLowerCase();
    else if (t === 'uppercase') v = text(v).toUpperCase();
    else v = text(v).replace(regexOf(t), t.with ?? '');
  }
  const out = text(v);
  return out === '' ? undefined : out;
}

function sourceValues(rule: Pick<ClaimRule, 'attribute' | 'value'>, claims: ResolvedClaims): AttributeValues {
  if (rule.value !== undefined) return [rule.value];
  if (rule.attribute !== undefined) return claims.attributes.get(rule.attribute.toLowerCase()) ?? [];
  return [];
}

/**
 * One rule against the resolved claims: the claim it issues, or undefined when its group condition is not
 * met or no value is left (a missing attribute is left out, never sent empty).
 */
export function applyRule(rule: ClaimRule, claims: ResolvedClaims): AssertionAttribute | undefined {
  // Fail closed: a group that resolution did not check counts as "not a member".
  if (rule.ifMemberOf !== undefined && claims.memberOf.get(rule.ifMemberOf) !== true) return undefined;
  const values: string[] = [];
  for (const v of sourceValues(rule, claims)) {
    const out = transformValue(v, rule.transform);
    if (out !== undefined && !values.includes(out)) values.push(out);
  }
  if (values.length === 0) return undefined;
  return {
    type: rule.type,
    values,
    ...(rule.name !== undefined ? { name: rule.name } : {}),
    ...(rule.nameFormat !== undefined ? { nameFormat: rule.nameFormat } : {}),
  };
}

/**
 * Adds claims to a list, merging those of the same type into one claim with all values (as a SAML
 * Attribute with several AttributeValues), in first-seen order and without duplicates.
 */
export function mergeClaims(into: AssertionAttribute[], more: readonly AssertionAttribute[]): AssertionAttribute[] {
  for (const c of more) {
    const same = into.find((x) => x.type === c.type);
    if (!same) {
      into.push({ ...c, values: [...c.values] });
      continue;
    }
    for (const v of c.values) if (!same.values.includes(v)) same.values.push(v);
    if (same.name === undefined && c.name !== undefined) same.name = c.name;
    if (same.nameFormat === undefined && c.nameFormat !== undefined) same.nameFormat = c.nameFormat;
  }
  return into;
}

/** Every rule, in order, merged by claim type. */
export function applyRules(rules: readonly ClaimRule[], claims: ResolvedClaims): AssertionAttribute[] {
  return mergeClaims(
    [],
    rules.map((r) => applyRule(r, claims)).filter((c): c is AssertionAttribute => c !== undefined),
  );
}
