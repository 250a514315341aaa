/**
 * A binary security identifier (objectSid) in its text form, S-1-5-21-...: revision, the 48-bit
 * identifier authority (big-endian) and the sub-authorities (32-bit little-endian), as Windows writes it.
 * @throws Error when the bytes are not a SID
 */
export function sidToString(sid: Buffer): string {
  const count = sid[1] ?? -1;
  if (sid.length < 8 || sid[0] !== 1 || count < 0 || count > 15 || sid.length !== 8 + 4 * count) {
    throw new Error(`not a SID (${sid.length} bytes)`);
  }
  const authority = sid.readUIntBE(2, 6);
  const subs: number[] = [];
  for (let i = 0; i < count; i++) subs.push(sid.readUInt32LE(8 + 4 * i));
  return ['S', 1, authority, ...subs].join('-');
}
