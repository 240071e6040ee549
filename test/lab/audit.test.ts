// The rollout a platform team follows for a new allowlist, end to end with real Squid: a tenant in audit mode
// keeps working while the proxy logs what enforcement would refuse; `allowlist suggest` turns that traffic into an
// allowlist; the same tenant, now enforcing that list (a policy reconfigure, as the hub's rollout applies it),
// still reaches everything it used, and nothing else.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AllowlistLearner } from '../../src/allowlist/suggest';
import { buildPlan, loadConfigFile, parseConfig } from '../../src/config';
import { labDown, labUp } from '../../src/lab/lab';
import { labReconfigure } from '../../src/lab/reconfigure';
import { labPaths } from '../../src/lab/state';
import { accessLogLength, checkAccessLog, checkRules, runMatrix } from '../../src/lab/matrix';
import { curlIn, proxyRefusal } from '../../src/lab/curl';
import { parseLogLine } from '../../src/usage/access-log';
import { holdLabForThisFile } from '../support/lab-lock';

const quiet = () => {};
const FIXTURE = 'test/fixtures/lab-audit.yaml';
const audit = buildPlan(loadConfigFile(FIXTURE));

holdLabForThisFile();

/** What the tenant's servers do, by URL; `sni` sends that name in the ClientHello while CONNECTing to the URL's host. */
const TRAFFIC: readonly { url: string; sni?: string }[] = [
  { url: 'https://www.example.net/' },
  { url: 'https://api.example.net/' },
  { url: 'https://cdn.example.net/' },
  { url: 'http://downloads.example.net/' },
  { url: 'https://www.example.info/' },
];

type Got = 'allowed' | 'refused' | 'other';

function request(spokeNs: string, port: number, proxyHost: string, url: string, sni?: string): Got {
  const host = new URL(url).hostname;
  const r = curlIn(spokeNs, sni ? url.replace(host, sni) : url, {
    proxy: `http://${proxyHost}:${port}`,
    caCert: labPaths().caCert,
    args: sni ? ['-k', '--connect-to', `${sni}:443:${host}:443`] : [],
  });
  if (r.exit === 0 && r.code === '200') return 'allowed';
  return proxyRefusal(r) ? 'refused' : 'other';
}

describe('audit → allowlist suggest → enforce (root, real Squid)', () => {
  it('learns the allowlist from audited traffic; enforcing it keeps that traffic and refuses the rest', async () => {
    try {
      const { topo } = await labUp(audit, FIXTURE, quiet);
      const lt = topo.tenants[0]!;
      const send = (url: string, sni?: string) => request(lt.spokeNs, lt.tenant.port, lt.proxyHost, url, sni);
      const log = labPaths().accessLog;
      // The whole matrix first, with audit expectations: names off the list pass, SNI and non-TLS checks only log,
      // address checks and port rules still refuse; and the log holds one line per request.
      const mark = accessLogLength(topo);
      const rows = runMatrix(topo);
      expect(rows.length).toBeGreaterThan(30);
      expect(rows.filter((r) => !r.pass).map((r) => ({ case: r.case.id, expected: r.case.expected, got: r.got }))).toEqual([]);
      expect(checkAccessLog(topo, rows, mark).map((c) => c.pass)).toEqual([true]);
      expect(checkRules(topo, rows, mark).filter((c) => !c.pass)).toEqual([]);
      const from = readFileSync(log, 'utf8').split('\n').filter(Boolean).length;

      // 1. Audit: everything the tenant does passes, and what the guess would refuse is logged as would-deny.
      for (const t of TRAFFIC) expect(send(t.url), t.url).toBe('allowed');
      // SSRF protections never relax in audit.
      expect(send('http://169.254.169.254/latest/meta-data/')).toBe('refused');
      expect(send('https://rebind.example.net/')).toBe('refused');
      const lines = readFileSync(log, 'utf8').split('\n').filter(Boolean).slice(from);
      const fields = lines.map(parseLogLine);
      expect(
        fields
          .filter((f) => f.decision === 'would-deny')
          .map((f) => f.host)
          .sort(),
      ).toEqual(['api.example.net', 'cdn.example.net', 'downloads.example.net', 'www.example.info']);
      expect(fields.find((f) => f.host === '169.254.169.254')).toMatchObject({ decision: 'denied', rule: 'blocked-destination' });

      // 2. Review: the proposal from those lines (what `egresshub allowlist suggest` prints).
      const learner = new AllowlistLearner('learner');
      for (const l of lines) learner.add(l);
      const s = learner.suggestion();
      const allow = s.entries.map((e) => e.pattern).sort();
      expect(allow).toEqual(['*.example.net', 'www.example.info']);
      expect(s.hosts.some((h) => h.host === '169.254.169.254' || h.host.startsWith('rebind.'))).toBe(false);

      // 3. Enforce: the reviewed list, mode enforce, applied by reconfigure (no restart, as on the hub).
      const enforced = buildPlan(
        parseConfig(
          readFileSync(FIXTURE, 'utf8')
            .replace("allow: ['www.example.net']", `allow: [${allow.map((a) => `'${a}'`).join(', ')}]`)
            .replace('mode: audit', 'mode: enforce'),
        ),
      );
      expect(enforced.tenants[0]).toMatchObject({
        mode: 'enforce',
        allow: { any: false, exact: ['www.example.info'], suffixes: ['example.net'] },
      });
      await labReconfigure(enforced, quiet);
      for (const t of TRAFFIC) expect(send(t.url), t.url).toBe('allowed');
      // Anything else is refused now: a name never seen, and an allowlisted CONNECT whose SNI names another site.
      expect(send('https://other.example.org/')).toBe('refused');
      expect(send('https://www.example.info/', 'www.example.org')).toBe('refused');
      const after = readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .slice(from + lines.length)
        .map(parseLogLine);
      expect(after.some((f) => f.decision === 'would-deny')).toBe(false);
      expect(
        after
          .filter((f) => f.decision === 'denied')
          .map((f) => f.rule)
          .sort(),
      ).toEqual(['not-allowlisted', 'sni-mismatch']);
    } finally {
      await labDown(quiet);
    }
  });
});
