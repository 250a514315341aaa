// The slice of OData query syntax Microsoft Graph accepts on /users that the emulator needs:
// $filter with eq / ne / startswith / in, joined by and / or; $select; $top; $skiptoken.

export type Predicate = (item: Record<string, unknown>) => boolean;

export class ODataError extends Error {}

const literal = (s: string): unknown => {
  if (s.startsWith("'")) return s.slice(1, -1).replace(/''/g, "'");
  if (s === 'true') return true;
  if (s === 'false') return false;
  if (s === 'null') return null;
  if (/^-?\d+$/.test(s)) return Number(s);
  throw new ODataError(`Invalid filter clause: unsupported literal ${s}`);
};

const STRING = `'(?:[^']|'')*'`;
const VALUE = `(${STRING}|true|false|null|-?\\d+)`;
const CLAUSES: [RegExp, (m: RegExpMatchArray) => Predicate][] = [
  [new RegExp(`^(\\w+) eq ${VALUE}$`, 'i'), (m) => eqPredicate(m[1]!, literal(m[2]!))],
  [new RegExp(`^(\\w+) ne ${VALUE}$`, 'i'), (m) => { const p = eqPredicate(m[1]!, literal(m[2]!)); return (i) => !p(i); }],
  [new RegExp(`^startswith\\((\\w+),\\s*(${STRING})\\)$`, 'i'), (m) => {
    const prefix = String(literal(m[2]!)).toLowerCase();
    return (i) => typeof i[m[1]!] === 'string' && (i[m[1]!] as string).toLowerCase().startsWith(prefix);
  }],
  [new RegExp(`^(\\w+) in \\(((?:${STRING})(?:\\s*,\\s*${STRING})*)\\)$`, 'i'), (m) => {
    const values = m[2]!.match(new RegExp(STRING, 'g'))!.map(literal);
    const ps = values.map((v) => eqPredicate(m[1]!, v));
    return (i) => ps.some((p) => p(i));
  }],
];

function eqPredicate(prop: string, value: unknown): Predicate {
  // Graph compares strings case-insensitively (userPrincipalName, mail), except onPremisesImmutableId.
  const caseSensitive = prop === 'onPremisesImmutableId' || prop === 'id';
  return (i) => {
    const v = i[prop] ?? null;
    if (typeof v === 'string' && typeof value === 'string') return caseSensitive ? v === value : v.toLowerCase() === value.toLowerCase();
    return v === value;
  };
}

/** Splits on " and " / " or " outside quotes. */
function split(expr: string, op: 'and' | 'or'): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  const needle = ` ${op} `;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === "'") quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && expr.slice(i, i + needle.length).toLowerCase() === needle) {
      parts.push(expr.slice(start, i));
      start = i + needle.length;
      i += needle.length - 1;
    }
  }
  parts.push(expr.slice(start));
  return parts.map((p) => p.trim());
}

export function parseFilter(expr: string, allowed: Set<string>): Predicate {
  const ors = split(expr.trim(), 'or');
  if (ors.length > 1) {
    const ps = ors.map((o) => parseFilter(o, allowed));
    return (i) => ps.some((p) => p(i));
  }
  const ands = split(expr.trim(), 'and');
  if (ands.length > 1) {
    const ps = ands.map((a) => parseFilter(a, allowed));
    return (i) => ps.every((p) => p(i));
  }
  let clause = expr.trim();
  while (clause.startsWith('(') && clause.endsWith(')') && !/^\w+\(/.test(clause)) clause = clause.slice(1, -1).trim();
  if (clause !== expr.trim()) return parseFilter(clause, allowed);
  for (const [re, make] of CLAUSES) {
    const m = clause.match(re);
    if (m) {
      const prop = m[1]!;
      if (!allowed.has(prop)) throw new ODataError(`Unsupported or invalid query filter clause specified for property '${prop}' of resource 'User'.`);
      return make(m);
    }
  }
  throw new ODataError(`Invalid filter clause: ${clause}`);
}

/** Keeps the $select-ed properties (and id, which Graph always returns). */
export function project(item: Record<string, unknown>, select: string[] | undefined, defaults: string[]): Record<string, unknown> {
  const keys = select ?? defaults;
  const out: Record<string, unknown> = {};
  for (const k of new Set(['id', ...keys])) out[k] = item[k] ?? null;
  return out;
}
