import { sign as cryptoSign } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import type { FastifyReply } from 'fastify';
import { ALG } from '../../constants.js';
import type { SigningKey } from '../../keys/keystore.js';
import { renderFormPost, type PasswordExpiryNotice } from '../../http/pages.js';
import { saml20Message, signEnveloped } from '../../tokens/sign.js';

type Param = 'SAMLRequest' | 'SAMLResponse';

/**
 * HTTP-POST binding (saml-bindings 3.5): an auto-submitting form with the base64 message and the
 * RelayState echoed unchanged.
 */
export function sendPost(reply: FastifyReply, url: string, param: Param, xml: string, relayState: string | undefined, notice?: PasswordExpiryNotice) {
  const fields: { name: string; value: string }[] = [{ name: param, value: Buffer.from(xml, 'utf8').toString('base64') }];
  if (relayState !== undefined) fields.push({ name: 'RelayState', value: relayState });
  return renderFormPost(reply, url, fields, notice);
}

/** A LogoutRequest or LogoutResponse by HTTP-POST, its XML signed (the Redirect binding signs the query instead). */
export function sendSignedPost(
  reply: FastifyReply,
  url: string,
  param: Param,
  xml: string,
  relayState: string | undefined,
  key: SigningKey,
  root: 'LogoutRequest' | 'LogoutResponse',
) {
  return sendPost(reply, url, param, signEnveloped(xml, key, saml20Message(root)), relayState);
}

/**
 * HTTP-Redirect binding (saml-bindings 3.4.4.1): DEFLATE, base64, URL-encode; the query
 * `param=…&RelayState=…&SigAlg=…` is signed with RSA-SHA256 and the signature appended.
 */
export function redirectUrl(url: string, param: Param, xml: string, relayState: string | undefined, key: SigningKey): string {
  let query = `${param}=${encodeURIComponent(deflateRawSync(Buffer.from(xml, 'utf8')).toString('base64'))}`;
  if (relayState !== undefined) query += `&RelayState=${encodeURIComponent(relayState)}`;
  query += `&SigAlg=${encodeURIComponent(ALG.rsaSha256)}`;
  const signature = cryptoSign('sha256', Buffer.from(query, 'utf8'), key.privateKey).toString('base64');
  query += `&Signature=${encodeURIComponent(signature)}`;
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}

export function sendRedirect(reply: FastifyReply, url: string, param: Param, xml: string, relayState: string | undefined, key: SigningKey) {
  return reply.header('cache-control', 'no-store').redirect(redirectUrl(url, param, xml, relayState, key), 302);
}
