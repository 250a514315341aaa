/**
 * A certificate in PEM from its DER in base64 (what KeyInfo, metadata and Microsoft Graph carry): white
 * space dropped, lines of 64 characters.
 */
export function certificatePem(base64Der: string): string {
  const body = base64Der.replace(/\s+/g, '').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`;
}
