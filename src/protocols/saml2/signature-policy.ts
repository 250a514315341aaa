import type { SamlServiceProvider } from '../../relying-parties/sp-metadata.js';
import type { InboundMessage } from './parse.js';
import { hasXmlSignature, SignatureError, verifyRedirectSignature, verifyRootSignature } from '../../xml/signature.js';

/**
 * Which messages must be signed, and how a signature is checked: a signed message must verify against
 * the SP's certificates pinned from its metadata (never a key the message brings); `required` (an SP whose
 * metadata says AuthnRequestsSigned, or for logout any SP with a signing certificate) makes unsigned ones
 * fail. The Redirect binding signs the query, so an XML signature inside a Redirect-bound message is refused.
 * @returns whether the message was signed (and verified)
 * @throws SignatureError
 */
export function checkSignature(msg: InboundMessage, sp: SamlServiceProvider, rawQuery: string, required: boolean): boolean {
  const xmlSigned = hasXmlSignature(msg.doc);
  if (msg.binding === 'redirect') {
    if (xmlSigned) throw new SignatureError('an XML signature inside a Redirect-bound message');
    const hasQuerySig = /(^|&)Signature=/.test(rawQuery);
    if (hasQuerySig && sp.signingCerts.length) {
      verifyRedirectSignature(rawQuery, msg.param, sp.signingCerts, { sha1: sp.acceptSha1 });
      return true;
    }
    if (hasQuerySig && !sp.signingCerts.length && required) throw new SignatureError('no signing certificate registered for the SP');
  } else if (xmlSigned) {
    if (sp.signingCerts.length) {
      verifyRootSignature(msg.xml, msg.doc, sp.signingCerts, { sha1: sp.acceptSha1 });
      return true;
    }
    if (required) throw new SignatureError('no signing certificate registered for the SP');
  }
  if (required) throw new SignatureError('unsigned message from an SP that must sign');
  return false;
}
