// The documentation's links lead somewhere: every relative link in README.md, docs/*.md and
// certs/README.md names a file that exists, and every #anchor a heading of that page (GitHub's slugs).
// Pure file reads: no directory, no server.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const docsDir = join(root, 'docs');
const pages = [
  'README.md',
  ...readdirSync(docsDir).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`),
  'certs/README.md',
];

/** The text outside fenced code blocks (their lines blanked, so line numbers stay right). */
function prose(markdown: string): string {
  let fence: string | undefined;
  return markdown
    .split('\n')
    .map((line) => {
      const m = /^ {0,3}(`{3,}|~{3,})/.exec(line);
      if (fence) {
        if (m && m[1]![0] === fence[0] && m[1]!.length >= fence.length && line.trim() === m[1]) fence = undefined;
        return '';
      }
      if (m) {
        fence = m[1];
        return '';
      }
      return line;
    })
    .join('\n');
}

/** GitHub's heading id (github-slugger): lower case, punctuation and symbols dropped, spaces to hyphens. */
function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // links and images: their text
    .replace(/<[^>]+>/g, '') // inline HTML tags
    .replace(/(`+)([\s\S]*?)\1/g, '$2'); // code spans: their content
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** The anchors a page offers: its headings' slugs (repeats get -1, -2, …) and explicit name/id attributes. */
function anchorsOf(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of prose(markdown).split('\n')) {
    const m = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line);
    if (m) {
      const base = githubSlug(m[1]!);
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      anchors.add(n ? `${base}-${n}` : base);
    }
    for (const a of line.matchAll(/<a\s+[^>]*(?:name|id)="([^"]+)"/g)) anchors.add(a[1]!);
  }
  return anchors;
}

interface Link {
  page: string;
  line: number;
  target: string;
}

/** Inline links and images, and reference definitions, outside code. */
function linksOf(page: string, markdown: string): Link[] {
  // Code spans blanked (same length), so `[x](y)` in code is not a link and offsets stay right.
  const text = prose(markdown).replace(/(`+)[\s\S]*?\1/g, (m) => m.replace(/[^\n]/g, ' '));
  const lineAt = (offset: number) => text.slice(0, offset).split('\n').length;
  const links: Link[] = [];
  for (const m of text.matchAll(/!?\[(?:[^[\]]|\[[^[\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
    links.push({ page, line: lineAt(m.index!), target: m[1]! });
  }
  for (const m of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) {
    links.push({ page, line: lineAt(m.index!), target: m[1]! });
  }
  return links;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** What is wrong with a link, or undefined when it leads somewhere. */
function problem(link: Link): string | undefined {
  if (isExternal(link.target)) return undefined;
  if (link.target === '') return 'empty link';
  const [path, anchor] = link.target.split('#', 2) as [string, string | undefined];
  const file = path ? resolve(root, dirname(link.page), decodeURIComponent(path)) : join(root, link.page);
  const rel = relative(root, file);
  if (rel.startsWith('..')) return `${path} is outside the repository`;
  if (!existsSync(file)) return `${rel} does not exist`;
  if (anchor === undefined) return undefined;
  if (statSync(file).isDirectory() || !file.endsWith('.md')) return `#${anchor} on ${rel}, which is not a Markdown page`;
  const anchors = anchorsOf(readFileSync(file, 'utf8'));
  if (!anchors.has(decodeURIComponent(anchor).toLowerCase())) return `${rel} has no heading #${anchor}`;
  return undefined;
}

describe('documentation links', () => {
  it('the pages exist', () => {
    for (const page of ['README.md', 'docs/README.md', 'certs/README.md']) expect(existsSync(join(root, page)), page).toBe(true);
  });

  it.each(pages)('%s: every relative link and #anchor leads somewhere', (page) => {
    const links = linksOf(page, readFileSync(join(root, page), 'utf8'));
    const broken = links.flatMap((l) => {
      const p = problem(l);
      return p ? [`${l.page}:${l.line}: (${l.target}) ${p}`] : [];
    });
    expect(broken).toEqual([]);
  });

  it('the README stays short (details belong in docs/)', () => {
    const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n').length;
    expect(lines).toBeLessThan(250);
  });

  it('docs/README.md lists every page in docs/', () => {
    const index = linksOf('docs/README.md', readFileSync(join(docsDir, 'README.md'), 'utf8')).map((l) => l.target.split('#')[0]);
    for (const page of readdirSync(docsDir).filter((f) => f.endsWith('.md') && f !== 'README.md')) {
      expect(index, page).toContain(page);
    }
  });
});

describe('the link checker itself', () => {
  it('makes GitHub slugs', () => {
    expect(githubSlug('SAML 2.0')).toBe('saml-20');
    expect(githubSlug('Rich clients (WS-Trust)')).toBe('rich-clients-ws-trust');
    expect(githubSlug('1. An app registration for `--apply` and `--check` (optional)')).toBe('1-an-app-registration-for---apply-and---check-optional');
    expect(githubSlug('Web hardening and headers')).toBe('web-hardening-and-headers');
    expect(githubSlug('Sync users to Microsoft Entra ID')).toBe('sync-users-to-microsoft-entra-id');
    expect(githubSlug('[Linked](x.md) heading')).toBe('linked-heading');
  });

  it('finds broken links and ignores code', () => {
    const md = [
      '# Title',
      '## Title',
      '[ok](#title) [dup](#title-1) [bad](#nope) [ext](https://example.com/#x)',
      '`[code](missing.md)`',
      '```',
      '[fenced](missing.md)',
      '# not a heading',
      '```',
      '[ref]: docs/nothing-here.md',
    ].join('\n');
    const anchors = anchorsOf(md);
    expect([...anchors]).toEqual(['title', 'title-1']);
    const targets = linksOf('README.md', md).map((l) => l.target);
    expect(targets).toEqual(['#title', '#title-1', '#nope', 'https://example.com/#x', 'docs/nothing-here.md']);
  });
});
