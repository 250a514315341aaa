/** What an `Authorization: Negotiate` header carries, as far as Gatehouse needs to tell. */
export type NegotiateToken =
  | { kind: 'kerberos'; base64: string }
  /** NTLM, raw or inside SPNEGO: Gatehouse never answers it (it would mean a password pop-up). */
  | { kind: 'ntlm' }
  /** Not base64, too big, empty, or not a first GSS token (a continuation, another mechanism). */
  | { kind: 'unusable'; why: string };

const NTLMSSP = Buffer.from('NTLMSSP\0', 'latin1');
// DER of the Kerberos 5 mechanism OIDs: 1.2.840.113554.1.2.2 and Microsoft's 1.2.840.48018.1.2.2.
const KRB5_OIDS = [Buffer.from('06092a864886f712010202', 'hex'), Buffer.from('06092a864882f712010202', 'hex')];
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * Reads the Authorization header of a Negotiate answer: undefined when the header is not one (absent, or
 * another scheme). Kerberos is a GSS InitialContextToken (RFC 2743 3.1, DER tag 0x60) naming a Kerberos
 * mechanism, bare or in SPNEGO's NegTokenInit; anything holding an NTLMSSP message is NTLM.
 */
export function readNegotiateHeader(header: string | undefined, maxBytes: number): NegotiateToken | undefined {
  if (!header) return undefined;
  const m = /^Negotiate(?:\s+(\S*))?\s*$/i.exec(header);
  if (!m) return undefined;
  const b64 = m[1] ?? '';
  if (!b64) return { kind: 'unusable', why: 'empty token' };
  if (b64.length > Math.ceil(maxBytes / 3) * 4) return { kind: 'unusable', why: `token over ${maxBytes} bytes` };
  if (b64.length % 4 !== 0 || !BASE64.test(b64)) return { kind: 'unusable', why: 'token is not base64' };
  const raw = Buffer.from(b64, 'base64');
  if (raw.includes(NTLMSSP)) return { kind: 'ntlm' };
  if (raw[0] !== 0x60) return { kind: 'unusable', why: `not a first GSS token (tag 0x${(raw[0] ?? 0).toString(16)})` };
  if (!KRB5_OIDS.some((oid) => raw.includes(oid))) return { kind: 'unusable', why: 'no Kerberos mechanism in the token' };
  return { kind: 'kerberos', base64: b64 };
}
