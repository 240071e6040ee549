// The emulated internet's certificates: a throwaway CA and the origin's server certificate it signs (the lab's
// clients trust the CA; the proxies only peek at the SNI and never see inside).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './sh';
import { INTERNET, type LabTopology } from './topology';
import { labPaths } from './state';

export function makeCertificates(topo: LabTopology, p: ReturnType<typeof labPaths>): void {
  run(['openssl', 'req', '-x509', ...EC_KEY, '-keyout', p.caKey, '-out', p.caCert, '-days', '2', '-subj', '/CN=egresshub lab CA']);
  issueCertificate(p, {
    stem: join(topo.stateDir, 'server'),
    subject: '/CN=egresshub lab origin',
    altNames: `${topo.certNames.map((n) => `DNS:${n}`).join(',')},IP:${INTERNET.webIp}`,
    key: p.key,
    cert: p.cert,
  });
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A server certificate signed by the lab's CA (`altNames` as for subjectAltName, e.g. `IP:203.0.113.20`). */
export function issueCertificate(
  p: ReturnType<typeof labPaths>,
  c: { stem: string; subject: string; altNames: string; key: string; cert: string },
): void {
  const csr = `${c.stem}.csr`;
  const ext = `${c.stem}.ext`;
  run(['openssl', 'req', '-new', ...EC_KEY, '-keyout', c.key, '-out', csr, '-subj', c.subject]);
  writeFileSync(ext, `subjectAltName=${c.altNames}\n`);
  run([
    'openssl',
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    p.caCert,
    '-CAkey',
    p.caKey,
    '-CAcreateserial',
    '-out',
    c.cert,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
}
