import { parse } from 'node-html-parser';

/** A minimal cookie-keeping HTTP client that never follows redirects, so tests see every hop. */
export class Browser {
  readonly cookies = new Map<string, string>();

  /** Sent with every request, e.g. X-Forwarded-For to play a client behind a trusted proxy. */
  constructor(readonly headers: Record<string, string> = {}) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private keep(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (!value || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(url: string): Promise<Page> {
    const res = await fetch(url, { redirect: 'manual', headers: { ...this.headers, cookie: this.cookieHeader() } });
    this.keep(res);
    return Page.from(res);
  }

  async post(url: string, fields: Record<string, string>): Promise<Page> {
    const res = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...this.headers, cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    this.keep(res);
    return Page.from(res);
  }
}

export class Page {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: string,
  ) {}

  static async from(res: Response): Promise<Page> {
    return new Page(res.status, res.headers, await res.text());
  }

  /** The first form: its action and its inputs (HTML entities decoded, as a browser would submit them). */
  form(): { action: string; method: string; fields: Record<string, string> } {
    const root = parse(this.body);
    const form = root.querySelector('form');
    if (!form) throw new Error(`no form in page (status ${this.status}):\n${this.body.slice(0, 500)}`);
    const fields: Record<string, string> = {};
    for (const input of form.querySelectorAll('input')) {
      const name = input.getAttribute('name');
      if (name) fields[name] = input.getAttribute('value') ?? '';
    }
    return { action: form.getAttribute('action') ?? '', method: (form.getAttribute('method') ?? 'get').toLowerCase(), fields };
  }

  text(selector: string): string | undefined {
    return parse(this.body).querySelector(selector)?.text.trim();
  }
}
