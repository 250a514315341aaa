/** One sample of a Prometheus text exposition: its value, or undefined when absent. Labels must all match (others may be present). */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Every label value in the exposition (to show that no user name or client address became one). */
export function labelValues(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    for (const l of line.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) out.add(l[2]!);
  }
  return out;
}

/** GET /metrics with an optional bearer token. */
export async function scrape(url: string, token?: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}
