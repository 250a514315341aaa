/**
 * The ImmutableID (Entra ID's onPremisesImmutableId) of an AD user: base64 of ms-DS-ConsistencyGuid when
 * the user has one (as Azure AD Connect anchors), otherwise base64 of the objectGUID bytes as stored.
 * The sign-in server and the sync worker must both call this one function.
 */
export function immutableIdOf(user: { objectGUID: Buffer; consistencyGuid?: Buffer | undefined }): string {
  const anchor = user.consistencyGuid && user.consistencyGuid.length === 16 ? user.consistencyGuid : user.objectGUID;
  return anchor.toString('base64');
}
