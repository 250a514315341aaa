import { GatehouseError } from '../errors.js';
import type { ServiceConnection } from './service-connection.js';
import { str } from './user.js';

/** The domain's password and lockout policy, read once at start-up. */
export interface DomainPolicy {
  /** AD's lockoutThreshold; 0 means AD never locks accounts. */
  lockoutThreshold: number;
  /** AD's lockOutObservationWindow ("reset account lockout counter after"), in minutes. */
  observationWindowMinutes: number | undefined;
}

/** The domain's lockout threshold and observation window, from the domain head named by the rootDSE. @throws GH_DIRECTORY_UNAVAILABLE */
export function readDomainPolicy(service: ServiceConnection): Promise<DomainPolicy> {
  return service.use('domain policy read', async (client) => {
    const root = await client.search('', { scope: 'base', attributes: ['defaultNamingContext'] });
    const domain = str(root.searchEntries[0]?.defaultNamingContext);
    if (!domain) throw new GatehouseError('GH_DIRECTORY_UNAVAILABLE', { detail: 'rootDSE has no defaultNamingContext' });
    const { searchEntries } = await client.search(domain, { scope: 'base', attributes: ['lockoutThreshold', 'lockOutObservationWindow'] });
    // A negative count of 100 ns intervals.
    const window = Number(str(searchEntries[0]?.lockOutObservationWindow) ?? 0);
    return {
      lockoutThreshold: Number(str(searchEntries[0]?.lockoutThreshold) ?? 0),
      observationWindowMinutes: window < 0 ? Math.round(-window / 600_000_000) : undefined,
    };
  });
}
