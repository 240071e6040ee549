// The "apply policy" command of the rollout, run for real: the exact text the SSM document carries, under a
// plain POSIX sh (as the agent might run it), against a real Squid in a throwaway namespace, with a fake `aws` on
// PATH (S3 = a local directory; Auto Scaling and ELB calls are recorded) and a `squid` shim that records whether
// the drain file exists at the moment of each reconfigure before running the real binary.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EgressPlan } from '../../src/config';
import { APPLY_TAG, policyObjectText, renderApplyCommand, renderPolicyApply, type PolicyApplyOptions } from '../../src/hub/policy-rollout';
import { LOG_DAEMON_SOURCE } from '../../src/policy';
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
  # The healthy targets other than this instance, per target group (OTHER_HEALTHY: "arn:tg/p1=1 arn:tg/p2=0").
  'elbv2 describe-target-health')
    tg=; prev=; for a in "$@"; do [ "$prev" = --target-group-arn ] && tg=$a; prev=$a; done
    n=1; for kv in \${OTHER_HEALTHY:-}; do [ "\${kv%=*}" = "$tg" ] && n=\${kv#*=}; done
    [ "$n" = fail ] && { echo 'AccessDenied' >&2; exit 254; }
    echo "$n" ;;
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
      peekCert: squid.peekCert,
      squidGroup: 'proxy',
      // Where Squid's user can run it (the harness's directory), as /usr/local/sbin is on an instance.
      logDaemon: join(squid.dir, 'egresshub-logd'),
      agentConfig: join(work, 'cloudwatch-agent.json'),
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

  /**
   * Stores `conf` as a new "S3 object" and runs the document's command for it; `during` plays the outside world:
   * each action runs once, 1 s after the script's output first contains its line (not on a clock: a loaded machine
   * would get there late).
   */
  async function apply(
    conf: string,
    opts: Partial<PolicyApplyOptions> = {},
    during: Record<string, () => void> = {},
    env: Record<string, string> = {},
  ) {
    const key = `policy-${objects++}.conf`;
    writeFileSync(join(work, 's3', key), conf);
    writeFileSync(calls, '');
    const command = renderApplyCommand({ drain: 'none', drainFile, listenSeconds: 10, paths, ...opts }).replace(
      '{{ policyObject }}',
      `s3://cdk-hnb659fds-assets-123456789012-ap-northeast-1/${key}`,
    );
    const started = Date.now();
    const child = spawn('ip', ['netns', 'exec', squid.ns, 'sh', '-c', command], {
      env: { PATH: `${join(work, 'bin')}:${process.env.PATH}`, CALLS: calls, FAKE_S3: join(work, 's3'), DRAIN_FILE: drainFile, ...env },
      timeout: 120_000,
    });
    let out = '';
    const timers = new Map<string, NodeJS.Timeout>();
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      for (const [line, action] of Object.entries(during)) {
        if (!timers.has(line) && out.includes(line)) timers.set(line, setTimeout(action, 1_000));
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const status = await new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
    for (const t of timers.values()) clearTimeout(t);
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

  it('waits (bounded) for a boot that has not finished, then does nothing (the boot installs the current policy)', async () => {
    rmSync(paths.bootstrapped);
    try {
      const started = Date.now();
      const r = await apply(squid.render(changed), { bootWaitSeconds: 2 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
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

  it('health drain: waits while the failover name answers this proxy, reconfigures drained, waits until it answers again', async () => {
    // The namespace's own hosts file plays Route 53: the name answers this proxy until the "alarm" withdraws it,
    // and again once the drain file is gone and the "health check" has recovered.
    squid.setNsHosts(`${NS_TENANT_IP} proxy.test.internal\n`);
    const r = await apply(
      squid.render(base),
      { drain: 'health', failoverName: { name: 'proxy.test.internal', ttlSeconds: 1 }, maxDrainSeconds: 30 },
      {
        'drain: waiting': () => squid.setNsHosts('198.51.100.99 proxy.test.internal\n'),
        'undrain: waiting': () => squid.setNsHosts(`${NS_TENANT_IP} proxy.test.internal\n`),
      },
    );
    expect(r.status, r.out).toBe(0);
    expect(r.said.slice(0, 2)).toEqual([
      'drain: waiting (at most 30 s) until proxy.test.internal stops answering this proxy',
      'drain: withdrawn after about 5 s; waiting 6 s for cached answers to expire',
    ]);
    expect(r.said.slice(-3)).toEqual([
      expect.stringMatching(/^applied s3:\/\/.* \(ports: 3201 3202\)$/),
      'undrain: waiting (at most 30 s) until proxy.test.internal answers this proxy again',
      expect.stringMatching(/^undrain: answered again after about [12] s$/),
    ]);
    expect(r.calls).toContain('squid reconfigure drain=present');
    expect(existsSync(drainFile)).toBe(false);
    expect(r.ms).toBeGreaterThanOrEqual(12_000);
    expect(request(3201, 'http://example.org/')).toBe('403');
  });

  it('health drain: gives up waiting for the name to come back after its budget, and says so (exit 0: applied)', async () => {
    squid.setNsHosts(`${NS_TENANT_IP} proxy.test.internal\n`);
    const r = await apply(
      squid.render(changed),
      { drain: 'health', failoverName: { name: 'proxy.test.internal', ttlSeconds: 0 }, maxDrainSeconds: 5 },
      { 'drain: waiting': () => squid.setNsHosts('198.51.100.99 proxy.test.internal\n') },
    );
    expect(r.status, r.out).toBe(0);
    expect(r.said.slice(-2)).toEqual([
      'undrain: proxy.test.internal still does not answer this proxy after 5 s',
      'warning: undrain failed',
    ]);
    expect(existsSync(drainFile)).toBe(false);
  });

  it('health drain: does not drain a proxy the failover name does not answer (no drain file, no wait)', async () => {
    squid.setNsHosts('198.51.100.99 proxy.test.internal\n');
    const r = await apply(squid.render(base), { drain: 'health', failoverName: { name: 'proxy.test.internal', ttlSeconds: 10 } });
    expect(r.status, r.out).toBe(0);
    expect(r.said[0]).toBe('drain: proxy.test.internal does not answer this proxy; no new connections to wait for (not draining)');
    // A drain file would publish the standby unhealthy for minutes after its reconfigure.
    expect(r.calls).toContain('squid reconfigure drain=absent');
    expect(r.said.some((l) => l.startsWith('undrain:'))).toBe(false);
    expect(existsSync(drainFile)).toBe(false);
    expect(r.ms).toBeLessThan(5_000);
  });

  it('nlb drain: leaves every target group of its Auto Scaling group before the reconfigure and rejoins after', async () => {
    const r = await apply(squid.render(changed), { drain: 'nlb' });
    expect(r.status, r.out).toBe(0);
    const verbs = r.calls.map((c) =>
      c
        .replace(/ --region \S+/, '')
        .replace(/ --query .* --output text/, '')
        .replace(/ --(query|output|targets|instance-ids|auto-scaling-group-names) \S+/g, ''),
    );
    expect(verbs.filter((v) => !v.startsWith('aws s3'))).toEqual([
      'aws autoscaling describe-auto-scaling-instances',
      'aws autoscaling describe-auto-scaling-groups',
      'aws elbv2 describe-target-health --target-group-arn arn:tg/p1',
      'aws elbv2 describe-target-health --target-group-arn arn:tg/p2',
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

  it('nlb drain: stays registered where no other target is healthy (one instance), or when it cannot tell', async () => {
    const r = await apply(squid.render(base), { drain: 'nlb' }, {}, { OTHER_HEALTHY: 'arn:tg/p1=0 arn:tg/p2=fail' });
    expect(r.status, r.out).toBe(0);
    expect(r.said.slice(0, 3)).toEqual([
      'drain: no other healthy target in arn:tg/p1; staying registered there (reconfiguring in place)',
      'drain: no other healthy target in arn:tg/p2; staying registered there (reconfiguring in place)',
      'drain: deregistered from 0 target group(s)',
    ]);
    expect(r.calls.filter((c) => /deregister|register-targets|wait target/.test(c))).toEqual([]);
    expect(r.calls).toContain('squid reconfigure drain=absent');
    // Only where another target can take the connections: p2 has one, p1 not.
    const partial = await apply(squid.render(changed), { drain: 'nlb' }, {}, { OTHER_HEALTHY: 'arn:tg/p1=0 arn:tg/p2=2' });
    expect(partial.status, partial.out).toBe(0);
    expect(
      partial.calls.filter((c) => /deregister-targets|register-targets/.test(c)).map((c) => /--target-group-arn (\S+)/.exec(c)![1]),
    ).toEqual(['arn:tg/p2', 'arn:tg/p2']);
    // The next test starts from the base policy.
    expect((await apply(squid.render(base))).status).toBe(0);
  });

  // The AWS CLI evaluates --query with the jmespath Python package; the same package judges the expression here.
  const jmespath = spawnSync('python3', ['-c', 'import jmespath']).status === 0;
  it.runIf(jmespath)("nlb drain: the count of other healthy targets is the AWS CLI's JMESPath over DescribeTargetHealth", () => {
    const query = /--query "([^"]+)"/.exec(renderPolicyApply({ drain: 'nlb' }))![1]!.replace('$INSTANCE_ID', 'i-me');
    const count = (states: [string, string][]) =>
      execFileSync('python3', ['-c', 'import jmespath, json, sys; print(jmespath.search(sys.argv[1], json.load(sys.stdin)))', query], {
        input: JSON.stringify({
          TargetHealthDescriptions: states.map(([Id, State]) => ({ Target: { Id, Port: 3201 }, TargetHealth: { State } })),
        }),
      })
        .toString()
        .trim();
    expect(count([['i-me', 'healthy']])).toBe('0');
    expect(
      count([
        ['i-me', 'healthy'],
        ['i-2', 'draining'],
        ['i-3', 'unhealthy'],
      ]),
    ).toBe('0');
    expect(
      count([
        ['i-me', 'healthy'],
        ['i-2', 'healthy'],
        ['i-3', 'healthy'],
      ]),
    ).toBe('2');
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

  it('gives a proxy booted by an older release its peek certificate before it parses the new policy (Day 2)', async () => {
    // An older boot script made no certificate; Squid already has the policy it booted with in memory.
    rmSync(paths.peekCert, { force: true });
    const next = readFileSync(squid.conf, 'utf8') === squid.render(changed) ? squid.render(base) : squid.render(changed);
    const r = await apply(next);
    expect(r.status, r.out).toBe(0);
    expect(r.said.at(-1)).toMatch(/^applied /);
    const cert = readFileSync(paths.peekCert, 'utf8');
    expect(cert).toContain('PRIVATE KEY');
    expect(cert).toContain('CERTIFICATE');
    // Readable by root and Squid's group only, and the key never reaches the apply output (the SSM command log).
    const st = statSync(paths.peekCert);
    expect(st.mode & 0o777).toBe(0o640);
    expect(st.gid).toBe(Number(execFileSync('id', ['-g', 'proxy']).toString().trim()));
    expect(r.out).not.toContain('PRIVATE KEY');
  });

  it("installs the log daemon and the agent's config the policy object carries before it parses the policy that names them (Day 2)", async () => {
    // A proxy booted by an older release: neither file exists, and the new squid.conf names the daemon there.
    rmSync(paths.logDaemon, { force: true });
    rmSync(paths.agentConfig, { force: true });
    const agent = '{"logs":{"logs_collected":{"files":{"collect_list":[]}}}}';
    const running = readFileSync(squid.conf, 'utf8');
    const conf = (running.includes('http_port 3203') ? squid.render(base) : squid.render(changed)).replace(
      LOG_DAEMON_SOURCE,
      paths.logDaemon,
    );
    const r = await apply(policyObjectText(conf, agent));
    expect(r.status, r.out).toBe(0);
    expect(r.said.at(-1)).toMatch(/^applied /);
    expect(readFileSync(paths.logDaemon, 'utf8')).toBe(readFileSync(LOG_DAEMON_SOURCE, 'utf8'));
    expect(statSync(paths.logDaemon).mode & 0o777).toBe(0o755);
    expect(JSON.parse(readFileSync(paths.agentConfig, 'utf8'))).toEqual(JSON.parse(agent));
    // Squid serves with the daemon it now names, and that daemon writes the access log.
    expect(request(3201, 'http://example.org/')).toMatch(/^(403|503)$/);
    expect(squid.exec(['pgrep', '-f', `${paths.logDaemon} `]).stdout.trim()).not.toBe('');
  });
});
