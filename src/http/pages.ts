import { createHash } from 'node:crypto';
import type {} from '@fastify/view';
import type { FastifyReply } from 'fastify';
import { ERRORS, type GatehouseError } from '../errors.js';
import { directionOf, fill, SOURCE_LANGUAGE } from '../i18n/catalogue.js';
import { chooseLanguage, formatLocale, hintsFromQuery } from '../i18n/negotiate.js';
import type { LayoutBrand, PageKit } from './page-kit.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Languages, branding and stylesheet of every page (app.ts decorates the server with it). */
    pageKit: PageKit;
  }
}

/** The only script Gatehouse ever runs in a page; allowed by its hash, so the CSP needs no 'unsafe-inline'. */
export const AUTO_POST_SCRIPT = "document.getElementById('autopost').submit();";
const AUTO_POST_HASH = `'sha256-${createHash('sha256').update(AUTO_POST_SCRIPT).digest('base64')}'`;

/**
 * Strict CSP for every page; `formAction` adds the relying party's origin for the auto-post page, and
 * `scripts` allows this server's own script files (the passkey pages), never inline script.
 */
export function contentSecurityPolicy(formAction?: string, scripts = false): string {
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self'",
    `script-src ${formAction ? AUTO_POST_HASH : scripts ? "'self'" : "'none'"}`,
    `form-action 'self'${formAction ? ' ' + formAction : ''}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

/** A page's language and its texts. */
export interface PageText {
  lang: string;
  /** The locale dates and numbers are formatted in: `lang`, or a regional tag of it the request names (en-GB). */
  locale: string;
  dir: 'ltr' | 'rtl';
  /** The text of `key` in the page's language, placeholders filled (the key itself if no catalogue has it). */
  t(key: string, params?: Record<string, string>): string;
  /**
   * The text of `key` split around one placeholder, for a template that wraps that value in markup
   * ("to continue to <strong>{app}</strong>") in whatever place the language puts it.
   */
  around(key: string, name: string, params?: Record<string, string>): [string, string];
}

const texts = new WeakMap<object, PageText>();
/** One PageText per language and kit, made on first use (its functions close over the catalogue only). */
const byLanguage = new WeakMap<PageKit, Map<string, PageText>>();

function textsOf(kit: PageKit, lang: string): PageText {
  let cache = byLanguage.get(kit);
  if (!cache) byLanguage.set(kit, (cache = new Map()));
  let text = cache.get(lang);
  if (!text) {
    const catalogue = kit.catalogues.get(lang) ?? kit.catalogues.get(SOURCE_LANGUAGE)!;
    text = {
      lang,
      locale: lang,
      dir: directionOf(lang),
      t: (key, params) => fill(catalogue[key] ?? key, params),
      around(key, name, params) {
        const [before = '', after = ''] = fill(catalogue[key] ?? key, params).split(`{${name}}`);
        return [before, after];
      },
    };
    cache.set(lang, text);
  }
  return text;
}

/** The language of the page answering this request: the protocol's hints, then Accept-Language, then the default. */
export function pageText(reply: FastifyReply): PageText {
  const request = reply.request;
  let text = texts.get(request);
  if (text) return text;
  const kit = reply.server.pageKit;
  const q = request.url.indexOf('?');
  const query = q < 0 ? undefined : new URLSearchParams(request.url.slice(q + 1));
  // The hints are in the URL, so a form that posts back to it (login, change password, second factor)
  // answers in the same language, its error page too.
  const hints = { ...hintsFromQuery(query), acceptLanguage: request.headers['accept-language'] };
  const lang = chooseLanguage(hints, kit.languages, kit.defaultLanguage);
  const locale = formatLocale(lang, hints);
  text = locale === lang ? textsOf(kit, lang) : { ...textsOf(kit, lang), locale };
  texts.set(request, text);
  return text;
}

/**
 * What a user reads about an error: its code's text in the page's language (the English one is in ERRORS).
 * A message of its own (an access rule's denyMessage, the user's UPN named) is shown as it was written.
 */
export function errorText(reply: FastifyReply, err: GatehouseError): string {
  // A message of the error's own (an access rule's, the administrator's words; one naming the user's
  // domain) is shown as it is: the catalogue has the general text only.
  if (err.message !== ERRORS[err.code][1]) return err.message;
  const key = `errors.${err.code}`;
  const text = pageText(reply).t(key);
  return text === key ? ERRORS[err.code][1] : text;
}

/** What the layout (views/partials) reads besides the page's own data. */
export interface LayoutData extends PageText {
  brand: LayoutBrand;
  cssUrl: string;
}

function layoutData(reply: FastifyReply): LayoutData {
  const kit = reply.server.pageKit;
  return { ...pageText(reply), brand: kit.brand, cssUrl: kit.cssUrl };
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

/**
 * Renders a view inside the one layout, in the request's language; the answer varies with Accept-Language.
 * `scripts`: this server's script files the layout loads at the end of the page (the CSP then allows 'self').
 */
export function renderPage(reply: FastifyReply, view: string, data: Record<string, unknown>, status = 200, opts: { scripts?: string[] } = {}) {
  const scriptUrls = opts.scripts ?? [];
  return noStore(reply)
    .code(status)
    .header('content-security-policy', contentSecurityPolicy(undefined, scriptUrls.length > 0))
    .header('vary', 'Accept-Language')
    .header('content-language', pageText(reply).lang)
    .view(view, { ...data, ...layoutData(reply), scriptUrls });
}

/** Shown instead of the automatic post when the user's password expires soon (passwordExpiry.noticeDays). */
export interface PasswordExpiryNotice {
  /** Whole days left (0: expires today). */
  daysLeft: number;
  /** The change-password page (passwordExpiry.changeUrl, default /adfs/portal/updatepassword). */
  changeUrl: string;
}

/**
 * The HTML form that POSTs a token to the relying party (works without JavaScript: a visible button). With a
 * password-expiry notice it is not posted automatically: the page tells the user and waits for Continue.
 */
export function renderFormPost(reply: FastifyReply, action: string, fields: { name: string; value: string }[], notice?: PasswordExpiryNotice) {
  noStore(reply)
    .header('content-security-policy', contentSecurityPolicy(new URL(action).origin))
    .header('vary', 'Accept-Language')
    .header('content-language', pageText(reply).lang);
  if (notice) return reply.view('password-expiry-notice', { action, fields, ...notice, ...layoutData(reply) });
  return reply.view('form-post', { action, fields, autoPostScript: AUTO_POST_SCRIPT, ...layoutData(reply) });
}
