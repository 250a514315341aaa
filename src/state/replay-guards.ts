import { GatehouseError } from '../errors.js';
import { ReplayStoreUnavailable, type ReplayCache } from './replay-cache.js';

/**
 * WS-Trust: a wsa:MessageID is accepted once in the whole farm for as long as its timestamp could be
 * accepted (`ttlMs`). Fails closed: while the farm's cache is unreachable the request is answered "try
 * again later", since another server could not tell a replay.
 */
export async function refuseReplayedMessage(replay: ReplayCache, messageId: string, ttlMs: number): Promise<void> {
  let first: boolean;
  try {
    first = await replay.firstUse(`wstrust:${messageId}`, ttlMs, 'refuse');
  } catch (err) {
    if (err instanceof ReplayStoreUnavailable) throw new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: `WS-Trust refused: ${err.message}` });
    throw err;
  }
  if (!first) throw new GatehouseError('GH_BAD_REQUEST', { detail: 'replayed wsa:MessageID' });
}

/**
 * SAML 2.0: true when this AuthnRequest (issuer and ID) was already received by any server of the farm
 * within `ttlMs`. While the farm's cache is unreachable, this server's own cache decides (a request is
 * no credential; the sign-in still needs the user's password or session).
 */
export async function isReplayedRequest(replay: ReplayCache, issuer: string, id: string, ttlMs: number): Promise<boolean> {
  return !(await replay.firstUse(`saml2:${issuer}\n${id}`, ttlMs, 'local'));
}
