// Fair share in the lab: tenants download flat out at once through one proxy, each from its own spoke with as many
// connections as asked, and the bytes each got in a fixed time say how the proxy shared its line. An emulated
// instance line (an ifb shaper in the hub namespace, fed from the proxy's port) stands in for the bandwidth AWS
// gives an instance, so "the same proxy with no isolation" has a real bottleneck to compare with.
// Used by test/lab/fair-share.test.ts and bench/fair.ts.
import { labPaths } from './state';
import { inNs, spawnInNs, sleep, waitFor } from './sh';
import type { LabProxy, LabTenant, LabTopology } from './topology';

/** The proxy's device toward the hub: where it answers tenants in the lab (the listener ENI on AWS). */
export const PROXY_DEVICE = 'px-hub';

/** The largest `/bytes/<n>` the lab's origin serves (256 MiB): each download asks for that and is cut by time. */
const BODY_BYTES = 256 * 1024 * 1024;

export interface Demand {
  readonly tenant: LabTenant;
  /** Parallel downloads the tenant runs. */
  readonly connections: number;
}

export interface Shares {
  /** Mbit/s each demand got, in order. */
  readonly mbps: readonly number[];
  /** Each demand's percentage of the total. */
  readonly percent: readonly number[];
  /** Downloads that did not run for the whole time (refused, failed early): a measurement with any is void. */
  readonly failed: number;
}

/**
 * Runs every demand at once for `seconds` (HTTPS through the tenant's proxy name, as a client would) and returns
 * what each got. Waits first until no earlier download still holds a tenant port: a leftover transfer would take
 * a share of its own.
 */
export async function measureShares(topo: LabTopology, demands: readonly Demand[], seconds: number): Promise<Shares> {
  await waitForQuiet(topo);
  const ca = labPaths(topo.stateDir).caCert;
  const runs = demands.map(({ tenant, connections }) => {
    const curl = [
      'curl -s -o /dev/null',
      '--max-time "$(printf %d.%03d $((left / 1000)) $((left % 1000)))"',
      `--cacert ${ca}`,
      `-x http://${tenant.proxyHost}:${tenant.tenant.port}`,
      `-w "$1 %{size_download} %{http_code} %{time_total}\\n"`,
      `https://www.example.net/bytes/${BODY_BYTES}`,
    ].join(' ');
    // Each connection downloads until the shared deadline (a fast line finishes a body early and starts another);
    // the last download is cut by --max-time. Its rate is its bytes over the time it spent transferring, so the
    // idle end of the window (no new body started in its last half second) does not count against it.
    const script = [
      `deadline=$(( $(date +%s%3N) + ${seconds * 1000} ))`,
      `one() { while left=$(( deadline - $(date +%s%3N) )); [ "$left" -gt 500 ]; do ${curl}; done; }`,
      `for c in $(seq ${connections}); do one "$c" & done`,
      'wait',
    ].join('\n');
    const child = spawnInNs(tenant.spokeNs, ['bash', '-c', script], { timeoutMs: (seconds + 15) * 1000 });
    child.stdin.end();
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    return new Promise<{ mbps: number; failed: number }>((resolve) =>
      child.on('close', () => {
        const perConnection = new Map<string, { bytes: number; seconds: number }>();
        let failed = 0;
        for (const line of out.trim().split('\n').filter(Boolean)) {
          const [c = '', bytes = '0', code = '000', time = '0'] = line.split(' ');
          // A download cut by --max-time reports the bytes it got and the 200 it started with.
          if (code !== '200') {
            failed++;
            continue;
          }
          const sum = perConnection.get(c) ?? { bytes: 0, seconds: 0 };
          perConnection.set(c, { bytes: sum.bytes + Number(bytes), seconds: sum.seconds + Number(time) });
        }
        const mbps = [...perConnection.values()].reduce((a, v) => a + (v.seconds > 0 ? (v.bytes * 8) / v.seconds / 1e6 : 0), 0);
        resolve({ mbps, failed: failed + Math.max(0, connections - perConnection.size) });
      }),
    );
  });
  const results = await Promise.all(runs);
  const mbps = results.map((r) => r.mbps);
  const total = mbps.reduce((a, b) => a + b, 0);
  return {
    mbps,
    percent: mbps.map((m) => (total > 0 ? (100 * m) / total : 0)),
    failed: results.reduce((a, r) => a + r.failed, 0),
  };
}

/** Waits (at most 15 s) until no connection to any tenant port is left on the proxies. */
export async function waitForQuiet(topo: LabTopology): Promise<void> {
  const ports = new Set(topo.tenants.map((t) => `:${t.tenant.port}`));
  const busy = () =>
    topo.proxies.some((p) =>
      inNs(p.ns, ['ss', '-tnH', 'state', 'established'], { allowFail: true })
        .stdout.split('\n')
        .some((l) => [...ports].some((port) => l.split(/\s+/)[2]?.endsWith(port))),
    );
  await waitFor(() => !busy(), 15_000, 200);
  await sleep(200);
}

/** Bytes a proxy sent through one HTB class of its fair-share tree (0 when there is no such class). */
export function classBytes(proxy: Pick<LabProxy, 'ns'>, classId: string): number {
  const out = inNs(proxy.ns, ['tc', '-s', 'class', 'show', 'dev', PROXY_DEVICE, 'classid', classId], { allowFail: true }).stdout;
  return Number(/Sent (\d+) bytes/.exec(out)?.[1] ?? 0);
}

/** Whether the proxy's fair-share tree is loaded (an HTB root on its device). */
export function hasTree(proxy: Pick<LabProxy, 'ns'>): boolean {
  return /^qdisc htb 1: root/m.test(inNs(proxy.ns, ['tc', 'qdisc', 'show', 'dev', PROXY_DEVICE], { allowFail: true }).stdout);
}

/** Removes the proxy's fair-share tree: the same proxy "with no isolation at all". */
export function removeTree(proxy: Pick<LabProxy, 'ns'>): void {
  inNs(proxy.ns, ['tc', 'qdisc', 'del', 'dev', PROXY_DEVICE, 'root'], { allowFail: true });
}

const ifbName = (proxy: Pick<LabProxy, 'letter'>) => `ifb-px-${proxy.letter}`;

/**
 * Emulates the instance's line: everything the proxy sends into the hub (to clients and origins alike) passes an
 * ifb shaped at `mbit` with a 1,000-packet FIFO, as a hypervisor's shaper would. In the hub namespace, so the
 * proxy's own tree sees none of it; `lab down` removes it with the namespace.
 */
export function emulateLine(topo: LabTopology, proxy: Pick<LabProxy, 'hubIf' | 'letter'>, mbit: number): void {
  const ifb = ifbName(proxy);
  const tc = (...args: string[]) => inNs(topo.hubNs, ['tc', ...args]);
  clearLine(topo, proxy);
  inNs(topo.hubNs, ['ip', 'link', 'add', ifb, 'type', 'ifb']);
  inNs(topo.hubNs, ['ip', 'link', 'set', ifb, 'up']);
  tc('qdisc', 'add', 'dev', ifb, 'root', 'handle', '1:', 'htb', 'default', '1');
  tc('class', 'add', 'dev', ifb, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', `${mbit}mbit`, 'ceil', `${mbit}mbit`);
  tc('qdisc', 'add', 'dev', ifb, 'parent', '1:1', 'pfifo', 'limit', '1000');
  tc('qdisc', 'add', 'dev', proxy.hubIf, 'handle', 'ffff:', 'ingress');
  tc(
    'filter',
    'add',
    'dev',
    proxy.hubIf,
    'parent',
    'ffff:',
    'protocol',
    'all',
    'u32',
    'match',
    'u32',
    '0',
    '0',
    'action',
    'mirred',
    'egress',
    'redirect',
    'dev',
    ifb,
  );
}

/** Removes the emulated line (if any). */
export function clearLine(topo: LabTopology, proxy: Pick<LabProxy, 'hubIf' | 'letter'>): void {
  inNs(topo.hubNs, ['tc', 'qdisc', 'del', 'dev', proxy.hubIf, 'ingress'], { allowFail: true });
  inNs(topo.hubNs, ['ip', 'link', 'del', ifbName(proxy)], { allowFail: true });
}
