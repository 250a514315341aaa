import { InvalidCredentialsError } from 'ldapts';
import { GatehouseError, type ErrorCode } from '../errors.js';

/**
 * AD answers a failed simple bind with result 49 and "AcceptSecurityContext error, data XXX".
 * AD only reveals the account states (all but 52e and 775) when the password was right.
 */
const AD_BIND_DATA: Record<string, ErrorCode> = {
  '525': 'GH_AUTHN_FAILED', // user not found
  '52e': 'GH_AUTHN_FAILED', // wrong password
  '530': 'GH_LOGON_HOURS',
  '531': 'GH_LOGON_WORKSTATION',
  '532': 'GH_PASSWORD_EXPIRED',
  '533': 'GH_ACCOUNT_DISABLED',
  '701': 'GH_ACCOUNT_EXPIRED',
  '773': 'GH_PASSWORD_MUST_CHANGE',
  '775': 'GH_ACCOUNT_LOCKED',
};

export function adBindDataCode(message: string): string | undefined {
  return /\bdata ([0-9a-f]{3,4})\b/i.exec(message)?.[1]?.toLowerCase();
}

/** Maps a failed user bind to a named error. Anything that is not result 49 means the directory is at fault. */
export function mapBindError(err: unknown, who: string): GatehouseError {
  if (err instanceof InvalidCredentialsError) {
    const data = adBindDataCode(err.message);
    const code: ErrorCode = (data ? AD_BIND_DATA[data] : undefined) ?? 'GH_AUTHN_FAILED';
    return new GatehouseError(code, { detail: `bind as ${who} refused (AD data ${data ?? 'none'})` });
  }
  return new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: `bind as ${who} failed: ${(err as Error)?.message ?? err}`, cause: err });
}
