import { readFileSync, statSync } from 'node:fs';
import type { Config } from '../config/load.js';
import { loadKerberos } from '../authn/kerberos-acceptor.js';
import { ENCTYPE_NAMES, readKeytab } from '../authn/keytab.js';

export interface KerberosLine {
  status: 'ok' | 'warning' | 'problem';
  text: string;
}

/** How to make the keytab, on a Windows DC or on Samba, for the messages. */
export function keytabHowTo(spn: string, file: string): string {
  const [service] = spn.split('@');
  return (
    `make it with a service account of its own (here svc-gatehouse-http): on Windows, setspn -S ${service} CORP\\svc-gatehouse-http ` +
    `then ktpass /out ${file} /princ ${spn} /mapuser CORP\\svc-gatehouse-http /crypto AES256-SHA1 /ptype KRB5_NT_PRINCIPAL /pass *; ` +
    `on Samba, samba-tool spn add ${service} svc-gatehouse-http then samba-tool domain exportkeytab ${file} --principal=${service} (docs/kerberos.md)`
  );
}

/**
 * check-config's Kerberos lines: the keytab holds the service principal's key (and which kinds), only
 * Gatehouse can read it, the native module loads, and Windows sign-in can be offered at all.
 */
export function checkKerberos(config: Config): KerberosLine[] {
  const k = config.kerberos;
  if (!k.enabled) return [{ status: 'ok', text: 'Windows sign-in off (kerberos.enabled)' }];
  const out: KerberosLine[] = [];
  const file = k.keytab!;
  const host = new URL(config.publicUrl).hostname.toLowerCase();
  const spnHost = k.servicePrincipal.slice('HTTP/'.length).split('@')[0]!.toLowerCase();
  if (spnHost !== host) {
    out.push({ status: 'warning', text: `kerberos.servicePrincipal: ${k.servicePrincipal} is not for the host of publicUrl (${host}): browsers ask tickets for HTTP/${host}` });
  }
  if (config.network.corporate.length === 0) {
    out.push({ status: 'warning', text: 'network.corporate is empty: no client is inside the corporate network, so Windows sign-in is never offered' });
  }
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (err) {
    out.push({ status: 'problem', text: `kerberos.keytab: cannot read ${file} (${(err as NodeJS.ErrnoException).code}); ${keytabHowTo(k.servicePrincipal, file)}` });
    return out;
  }
  let entries;
  try {
    entries = readKeytab(data);
  } catch (err) {
    out.push({ status: 'problem', text: `kerberos.keytab: ${file} is ${(err as Error).message}; ${keytabHowTo(k.servicePrincipal, file)}` });
    return out;
  }
  const ours = entries.filter((e) => e.principal.toLowerCase() === k.servicePrincipal.toLowerCase());
  if (ours.length === 0) {
    const held = [...new Set(entries.map((e) => e.principal))].join(', ') || 'nothing';
    out.push({ status: 'problem', text: `kerberos.keytab: ${file} has no key for ${k.servicePrincipal} (it holds ${held}); ${keytabHowTo(k.servicePrincipal, file)}` });
  } else {
    const kvno = Math.max(...ours.map((e) => e.kvno));
    const kinds = [...new Set(ours.filter((e) => e.kvno === kvno).map((e) => ENCTYPE_NAMES[e.enctype] ?? `enctype ${e.enctype}`))];
    out.push({ status: 'ok', text: `${k.servicePrincipal} in ${file} (key version ${kvno}: ${kinds.join(', ')})` });
    if (ours.every((e) => e.enctype === 23)) {
      out.push({ status: 'warning', text: `only an RC4 key for ${k.servicePrincipal}: set msDS-SupportedEncryptionTypes to AES (24) on its account and export the keytab again` });
    }
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    out.push({ status: 'warning', text: `kerberos.keytab: ${file} can be read by other users than Gatehouse's (chmod 600): its key lets anyone pose as this service` });
  }
  try {
    loadKerberos();
  } catch (err) {
    out.push({ status: 'problem', text: (err as Error).message });
  }
  return out;
}
