import type { RelyingPartyConfig } from '../config/schema.js';

/** Microsoft 365 / Entra ID, worldwide cloud. Override by listing the same id in `relyingParties`. */
export const MICROSOFT_365: RelyingPartyConfig = {
  id: 'urn:federation:MicrosoftOnline',
  name: 'Microsoft 365',
  replyUrls: ['https://login.microsoftonline.com/login.srf'],
};

export const builtInRelyingParties: readonly RelyingPartyConfig[] = [MICROSOFT_365];
