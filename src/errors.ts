/**
 * Named errors. Each code has an HTTP status and a message that is safe to show a user; `detail` only
 * goes to the log. Protocol plugins turn these into their wire format (an error page for WS-Federation).
 */
export const ERRORS = {
  GH_BAD_REQUEST: [400, 'The sign-in request is not valid.'],
  GH_RP_UNKNOWN: [400, 'The application that sent you here is not registered with this sign-in service.'],
  GH_UNSUPPORTED_ACTION: [400, 'This sign-in action is not supported.'],
  GH_FORBIDDEN: [403, 'The request was refused.'],
  GH_AUTHN_FAILED: [401, 'The user name or password is incorrect.'],
  GH_PASSWORD_EMPTY: [401, 'Enter your password.'],
  GH_ACCOUNT_DISABLED: [403, 'Your account is disabled. Contact your help desk.'],
  GH_ACCOUNT_LOCKED: [403, 'Your account is locked because of too many failed sign-in attempts. Try again later or contact your help desk.'],
  GH_ACCOUNT_EXPIRED: [403, 'Your account has expired. Contact your help desk.'],
  GH_PASSWORD_EXPIRED: [403, 'Your password has expired and must be changed before you can sign in.'],
  GH_PASSWORD_MUST_CHANGE: [403, 'You must change your password before you can sign in.'],
  GH_LOGON_HOURS: [403, 'You are not allowed to sign in at this time.'],
  GH_LOGON_WORKSTATION: [403, 'You are not allowed to sign in from here.'],
  GH_PASSWORD_REJECTED: [400, 'The new password was not accepted. It may be too short, too simple, used before, or changed too recently.'],
  GH_PASSWORD_MISMATCH: [400, 'The new passwords do not match.'],
  GH_EXTRANET_LOCKOUT: [401, 'The user name or password is incorrect.'],
  GH_RATE_LIMITED: [429, 'Too many sign-in attempts. Wait a minute and try again.'],
  GH_CSRF: [403, 'This form has expired. Go back, reload the page and try again.'],
  GH_LOGIN_AMBIGUOUS: [403, 'More than one account answers to this user name, so it cannot be used to sign in. Sign in with your Windows user name (DOMAIN\\name) and ask your help desk to correct the directory.'],
  GH_DOMAIN_NOT_FEDERATED: [403, 'Your account is in a domain that does not sign in to Microsoft 365 here. Contact your help desk.'],
  GH_USER_INCOMPLETE: [403, 'Your account cannot be used with this application (it has no user principal name). Contact your help desk.'],
  GH_DIRECTORY_UNAVAILABLE: [503, 'Sign-in is unavailable right now. Try again in a few minutes.'],
  GH_RP_METADATA_UNAVAILABLE: [503, 'The application that sent you here cannot be reached by this sign-in service right now (its metadata is unavailable).'],
  GH_SAML_ENDPOINT_UNREGISTERED: [400, 'The sign-in request asks for an answer address that is not registered for this application.'],
  GH_SAML_SIGNATURE: [400, 'The sign-in request is not correctly signed.'],
  GH_SAML_LOGOUT: [400, 'The sign-out request is not valid.'],
  GH_MFA_CODE_WRONG: [401, 'That code is not right. Enter the code your authenticator app shows now (each code works once).'],
  GH_MFA_LOCKED: [403, 'Too many wrong codes: your second factor is locked for a while. Try again later, or contact your help desk.'],
  GH_MFA_ENROL_INSIDE_ONLY: [403, 'You need to set up a second factor, and that can only be done from the office network. Sign in there once, or contact your help desk.'],
  GH_MFA_NOT_POSSIBLE: [403, 'This application needs a second factor, which this program cannot ask for. Sign in through a browser instead, or contact your help desk.'],
  GH_MFA_UNAVAILABLE: [503, 'The second sign-in step is unavailable right now. Try again in a few minutes.'],
  GH_SAML_LOGOUT_SIGNATURE: [400, 'The sign-out request is not correctly signed.'],
  GH_ACCESS_DENIED: [403, 'You are not allowed to use this application from here. If you need it, contact your help desk.'],
  GH_INTERNAL: [500, 'Something went wrong on our side. Try again; if it keeps happening, contact your help desk.'],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

export class GatehouseError extends Error {
  override name = 'GatehouseError';
  readonly code: ErrorCode;
  readonly status: number;
  /** For logs only; may name users, DNs, realms. */
  readonly detail: string | undefined;

  constructor(code: ErrorCode, opts: { detail?: string; cause?: unknown; message?: string } = {}) {
    const [status, message] = ERRORS[code];
    super(opts.message ?? message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.status = status;
    this.detail = opts.detail;
  }

  /** A sign-out (single logout) message was refused: its page must not speak of signing in. */
  get isSignOutProblem(): boolean {
    return this.code === 'GH_SAML_LOGOUT' || this.code === 'GH_SAML_LOGOUT_SIGNATURE';
  }

  /** Errors about the user's own account, shown on the login form rather than an error page. */
  get isCredentialProblem(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export function isGatehouseError(err: unknown): err is GatehouseError {
  return err instanceof GatehouseError;
}

/** Raised for any configuration problem; the message names the key and what is wrong. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
