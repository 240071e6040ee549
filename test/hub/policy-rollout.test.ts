// The "apply policy" command of the rollout, run for real: the exact text the SSM document carries, under a
// plain POSIX sh (as the agent might run it), against a real Squid in a throwaway namespace, with a fake `aws` on
// PATH (S3 = a local directory; Auto Scaling and ELB calls are recorded) and a `squid` shim that records whether
// the drain file exists at the moment of each reconfigure before running the real binary.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EgressPlan } from '../../src/config';
import { APPLY_TAG, renderApplyCommand, type PolicyApplyOptions } from '../../src/hub/policy-rollout';
import type { ProxyPaths } from '../../src/hub/user-data';
import { acquireLabLock } from '../support/lab-lock';
import { exampleConfig, planOf } from '../support/stack';
import { NS_TENANT_IP, squidAvailable, startNsSquid, type NsSquid } from './support/squid-netns';

const FAKE_AWS = `#!/bin/bash
echo "aws $*" >> "$CALLS"
case "$1 $2" in
  's3 cp')
    src=; for a in "$@"; do case $a in s3://*) src=$a ;; esac; done
    cp "$FAKE_S3/\${src#s3://*/}" "\${@: -1}" ;;
  'autoscaling describe-auto-scaling-instances') echo egresshub-proxies ;;
  'autoscaling describe-auto-scaling-groups') printf 'arn:tg/p1\\tarn:tg/p2\\n' ;;
esac
`;

/** Records the drain file's state at each reconfigure, then runs the real squid. */
const squidShim = (realSquid: string) => `#!/bin/bash
if [ "$1 $2" = '-k reconfigure' ]; then
  if [ -e "$DRAIN_FILE" ]; then echo 'squid reconfigure drain=present' >> "$CALLS"; else echo 'squid reconfigure drain=absent' >> "$CALLS"; fi
fi
exec ${realSquid} "$@"
`;

/** Listens on the given port (IPv6 socket, dual-stack) until killed: a port Squid cannot bind. */
const HOLD_PORT = `import socket, sys, time
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(('::', int(sys.argv[1])))
s.listen()
time.sleep(60)`;

const base = planOf(exampleConfig());
/** project-a may now reach example.org, and a third tenant arrives on 3203: a typical day-2 change. */
function changedPlan(): EgressPlan {
  const config = exampleConfig() as { tenants: { allow: string[] | string }[] };
  (config.tenants[0]!.allow as string[]).push('example.org');
  config.tenants.push({ name: 'project-c', port: 3203, allow: ['example.org'] } as never);
  return planOf(config);
}
const changed = changedPlan();

describe.runIf(squidAvailable())('the policy apply command (real Squid, fake AWS)', () => {
  let squid: NsSquid;
  let release: (() => void) | undefined;
  let work: string;
  let paths: ProxyPaths;
  let calls: string;
  let drainFile: string;
  let objects = 0;

  beforeAll(async () => {
    release = await acquireLabLock();
    work = mkdtempSync(join(tmpdir(), 'egresshub-rollout-'));
    // example.org resolves from Squid's own hosts file to a documentation address with no route: an allowed
    // request gets as far as the connect (503), a denied one stops at the policy (403).
    squid = startNsSquid(base, 'roll', { squidHosts: '203.0.113.10 example.org\n' });
    for (const d of ['bin', 's3', 'state']) mkdirSync(join(work, d));
    const realSquid = squid.exec(['sh', '-c', 'command -v squid']).stdout.trim();
    writeFileSync(join(work, 'bin', 'aws'), FAKE_AWS);
    writeFileSync(join(work, 'bin', 'squid'), squidShim(realSquid));
    chmodSync(join(work, 'bin', 'aws'), 0o755);
    chmodSync(join(work, 'bin', 'squid'), 0o755);
    paths = {
      squidConf: squid.conf,
      env: join(work, 'proxy.env'),
      bootstrapped: join(work, 'bootstrapped'),
      sysctl: join(work, '90-egresshub.conf'),
      stateDir: join(work, 'state'),
    };
    calls = join(work, 'calls');
    drainFile = join(work, 'run', 'drain');
    writeFileSync(paths.env, `REGION='ap-northeast-1'\nINSTANCE_ID='i-0123456789abcdef0'\nLISTENER_IP='${NS_TENANT_IP}'\n`);
    writeFileSync(paths.bootstrapped, '');
  });
  afterAll(() => {
    try {
      squid?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    } finally {
      release?.();
    }
  });

  /** Stores `conf` as a new "S3 object" and runs the document's command for it; resolves with what happened. */
  async function apply(conf: string, opts: Partial<PolicyApplyOptions> = {}, during?: () => void) {
    const key = `policy-${objects++}.conf`;
    writeFileSync(join(work, 's3', key), conf);
    writeFileSync(calls, '');
    const command = renderApplyCommand({ drain: 'none', drainFile, listenSeconds: 10, paths, ...opts }).replace(
      '{{ policyObject }}',
      `s3://cdk-hnb659fds-assets-123456789012-ap-northeast-1/${key}`,
    );
    const started = Date.now();
    const child = spawn('ip', ['netns', 'exec', squid.ns, 'sh', '-c', command], {
      env: { PATH: `${join(work, 'bin')}:${process.env.PATH}`, CALLS: calls, FAKE_S3: join(work, 's3'), DRAIN_FILE: drainFile },
      timeout: 120_000,
    });
    let out = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // `during` plays the outside world once the drain has begun waiting (not on a clock: a loaded machine
      // would get there late).
      if (during && !timer && out.includes('drain: waiting')) timer = setTimeout(during, 1_000);
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const status = await new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
    if (timer) clearTimeout(timer);
    return {
      status,
      ms: Date.now() - started,
      said: out
        .split('\n')
        .filter((l) => l.startsWith(APPLY_TAG))
        .map((l) => l.slice(APPLY_TAG.length + 1)),
      out,
      calls: readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean),
    };
  }

  const request = (port: number, url: string) =>
    squid.exec([
      'curl',
      '-s',
      '-o',
      '/dev/null',
      '-w',
      '%{http_code}',
      '-m',
      '10',
      '--interface',
      NS_TENANT_IP,
      '-x',
      `http://${NS_TENANT_IP}:${port}`,
      url,
    ]).stdout;
  const reconfigures = () => (squid.exec(['cat', join(squid.dir, 'cache.log')]).stdout.match(/Reconfiguring Squid Cache/g) ?? []).length;

  it('does nothing on a proxy whose boot has not finished (the boot installs the current policy)', async () => {
    rmSync(paths.bootstrapped);
    try {
      const r = await apply(squid.render(changed));
      expect(r.status).toBe(0);
      expect(r.said).toEqual(['bootstrap has not finished: it installs the current policy itself']);
      expect(r.calls).toEqual([]);
    } finally {
      writeFileSync(paths.bootstrapped, '');
    }
  });

  it('leaves Squid alone when the policy is the running one (no reconfigure)', async () => {
    const pid = squid.masterPid();
    const before = reconfigures();
    const r = await apply(readFileSync(squid.conf, 'utf8'));
    expect(r.status, r.out).toBe(0);
    expect(r.said).toEqual([expect.stringMatching(/^unchanged: s3:\/\/.*policy-\d+\.conf is the running policy$/)]);
    expect(r.calls.filter((c) => c.startsWith('squid'))).toEqual([]);
    expect(reconfigures()).toBe(before);
    expect(squid.masterPid()).toBe(pid);
  });

  it('applies a changed allowlist and a new tenant in place: same master process, new rules and port active', async () => {
    expect(request(3201, 'http://example.org/')).toBe('403');
    const pid = squid.masterPid();
    const r = await apply(squid.render(changed));
    expect(r.status, r.out).toBe(0);
    expect(r.said[0]).toBe('no drain (single proxy): reconfiguring in place');
    expect(r.said.at(-1)).toMatch(/^applied s3:\/\/.* \(ports: 3201 3202 3203\)$/);
    expect(r.calls.filter((c) => c.startsWith('squid'))).toEqual(['squid reconfigure drain=absent']);
    expect(squid.masterPid()).toBe(pid);
    expect(readFileSync(squid.conf, 'utf8')).toBe(squid.render(changed));
    expect(squid.listeningPorts()).toEqual(expect.arrayContaining([3201, 3202, 3203]));
    // Allowed now: the request reaches the connect to example.org's (unroutable) address.
    expect(request(3201, 'http://example.org/')).toBe('503');
    expect(request(3203, 'http://example.org/')).toBe('503');
    expect(squid.exec(['tail', '-n', '1', squid.accessLog]).stdout).toMatch(/tenant=project-c .*decision=allowed rule=tenant-allow/);
    expect(readFileSync(paths.sysctl, 'utf8')).toBe('net.ipv4.ip_local_reserved_ports = 3201-3203\n');
    expect(squid.exec(['sysctl', '-n', 'net.ipv4.ip_local_reserved_ports']).stdout.trim()).toBe('3201-3203');
  });

  it('refuses a policy that does not parse: exit 1, no reconfigure, the running policy keeps serving', async () => {
    const running = readFileSync(squid.conf, 'utf8');
    const pid = squid.masterPid();
    const r = await apply(`${squid.render(base)}http_access allw all\n`);
    expect(r.status).toBe(1);
    expect(r.said.at(-1)).toMatch(/^FAILED: s3:\/\/.* does not pass squid -k parse; the running policy stays$/);
    expect(r.out).toMatch(/allw/);
    expect(r.calls.filter((c) => c.startsWith('squid'))).toEqual([]);
    expect(readFileSync(squid.conf, 'utf8')).toBe(running);
    expect(squid.masterPid()).toBe(pid);
    expect(request(3201, 'http://example.org/')).toBe('503');
  });

  it('health drain: waits while the failover name answers this proxy, reconfigures drained, undrains after', async () => {
    // The namespace's own hosts file plays Route 53: the name answers this proxy until the "alarm" withdraws it.
    squid.setNsHosts(`${NS_TENANT_IP} proxy.test.internal\n`);
    const r = await apply(
      squid.render(base),
      { drain: 'health', failoverName: { name: 'proxy.test.internal', ttlSeconds: 1 }, maxDrainSeconds: 30 },
      () => squid.setNsHosts('198.51.100.99 proxy.test.internal\n'),
    );
    expect(r.status, r.out).toBe(0);
    expect(r.said.slice(0, 2)).toEqual([
      'drain: waiting (at most 30 s) until proxy.test.internal stops answering this proxy',
      'drain: withdrawn after about 5 s; waiting 6 s for cached answers to expire',
    ]);
    expect(r.calls).toContain('squid reconfigure drain=present');
    expect(existsSync(drainFile)).toBe(false);
    expect(r.ms).toBeGreaterThanOrEqual(11_000);
    expect(request(3201, 'http://example.org/')).toBe('403');
  });

  it('health drain: skips the wait when the failover name answers another proxy (this one carries no new connections)', async () => {
    squid.setNsHosts('198.51.100.99 proxy.test.internal\n');
    const r = await apply(squid.render(changed), { drain: 'health', failoverName: { name: 'proxy.test.internal', ttlSeconds: 10 } });
    expect(r.status, r.out).toBe(0);
    expect(r.said[0]).toBe('drain: proxy.test.internal does not answer this proxy; no new connections to wait for');
    expect(r.calls).toContain('squid reconfigure drain=present');
    expect(existsSync(drainFile)).toBe(false);
    expect(r.ms).toBeLessThan(5_000);
  });

  it('nlb drain: leaves every target group of its Auto Scaling group before the reconfigure and rejoins after', async () => {
    const r = await apply(squid.render(base), { drain: 'nlb' });
    expect(r.status, r.out).toBe(0);
    const verbs = r.calls.map((c) =>
      c.replace(/ --region \S+/, '').replace(/ --(query|output|targets|instance-ids|auto-scaling-group-names) \S+/g, ''),
    );
    expect(verbs.filter((v) => !v.startsWith('aws s3'))).toEqual([
      'aws autoscaling describe-auto-scaling-instances',
      'aws autoscaling describe-auto-scaling-groups',
      'aws elbv2 deregister-targets --target-group-arn arn:tg/p1',
      'aws elbv2 deregister-targets --target-group-arn arn:tg/p2',
      'aws elbv2 wait target-deregistered --target-group-arn arn:tg/p1',
      'aws elbv2 wait target-deregistered --target-group-arn arn:tg/p2',
      'squid reconfigure drain=absent',
      'aws elbv2 register-targets --target-group-arn arn:tg/p1',
      'aws elbv2 register-targets --target-group-arn arn:tg/p2',
      'aws elbv2 wait target-in-service --target-group-arn arn:tg/p1',
      'aws elbv2 wait target-in-service --target-group-arn arn:tg/p2',
    ]);
    expect(r.calls.find((c) => c.includes('deregister-targets'))).toContain('--targets Id=i-0123456789abcdef0');
  });

  it('restores the previous policy and exits 1 when Squid cannot open a listener of the new one', async () => {
    const running = readFileSync(squid.conf, 'utf8');
    expect(running).not.toContain('http_port 3203');
    // Something else holds 3203 in the namespace (on every address, as Squid would bind it).
    const holder = spawn('ip', ['netns', 'exec', squid.ns, 'python3', '-c', HOLD_PORT, '3203'], { stdio: 'ignore', timeout: 60_000 });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const r = await apply(squid.render(changed));
      expect(r.status, r.out).toBe(1);
      expect(r.said.at(-1)).toMatch(/^FAILED: squid did not serve every port of s3:\/\/.*; restoring the previous policy$/);
      expect(r.calls.filter((c) => c.startsWith('squid'))).toEqual(['squid reconfigure drain=absent', 'squid reconfigure drain=absent']);
      expect(readFileSync(squid.conf, 'utf8')).toBe(running);
      expect(request(3201, 'http://example.org/')).toBe('403');
      expect(request(3202, 'http://example.org/')).toBe('503');
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
