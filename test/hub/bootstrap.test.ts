// The boot script as rendered for a fixed proxy, run end to end with real bash, real Squid and the kernel's
// sysctl, inside a network namespace and a private mount namespace of its own: the host paths the script writes
// (/etc/systemd/system, /usr/local/sbin, /var/log, /opt) are fresh tmpfs mounts that only this run sees. The
// outside world is faked on PATH: IMDS (curl to 169.254.169.254), dnf, systemctl (starts Squid), cfn-signal and
// aws (SSM parameter, S3 object, ENI, Elastic IP), each call recorded in order.
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EgressPlan } from '../../src/config';
import { renderHealthPublisher, renderProxyBootstrap, type ProxyPaths } from '../../src/hub/user-data';
import { LOG_DAEMON_SOURCE, renderSquidConf } from '../../src/policy';
import { policyObjectText } from '../../src/hub/policy-rollout';
import { acquireLabLock } from '../support/lab-lock';
import { exampleConfig, planOf } from '../support/stack';
import { healthParams } from './support/health-params';
import { NS_DNS_IP, squidAvailable } from './support/squid-netns';

const ENI_IP = '198.51.100.20';
const read = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');

const fakes = (realCurl: string, realSquid: string): Record<string, string> => ({
  aws: `#!/bin/bash
echo "aws $*" >> "$CALLS"
case "$1 $2" in
  'ssm get-parameter')
    n=$(cat "$FAKE_STATE/get-parameter" 2>/dev/null || echo 0); echo $((n + 1)) > "$FAKE_STATE/get-parameter"
    if [ "$n" -ge 1 ] && [ -f "$FAKE_STATE/policy-later" ]; then cat "$FAKE_STATE/policy-later"; else cat "$FAKE_STATE/policy"; fi ;;
  's3 cp')
    src=; for a in "$@"; do case $a in s3://*) src=$a ;; esac; done
    # The role may read only the current object: a name in deny-<key> is refused as S3 would (AccessDenied).
    if [ -f "$FAKE_STATE/deny-\${src##*/}" ]; then echo 'An error occurred (AccessDenied) when calling the GetObject operation' >&2; exit 1; fi
    cp "$FAKE_S3/\${src#s3://*/}" "\${@: -1}" ;;
  'ec2 describe-network-interfaces')
    case "$*" in
      *'[0].[Attachment.InstanceId,'*) printf 'i-test\\teni-attach-1\\n' ;; # give_up: who holds it
      *) printf 'in-use\\ti-test\\teni-attach-1\\n' ;;
    esac ;;
  'ec2 describe-addresses') echo i-test ;;
  'autoscaling set-instance-health') if [ -f "$FAKE_STATE/fail-set-instance-health" ]; then echo 'AccessDenied' >&2; exit 254; fi ;;
esac
`,
  curl: `#!/bin/bash
case "$*" in
  *169.254.169.254/latest/api/token*) echo token ;;
  *169.254.169.254/latest/meta-data/instance-id*) echo i-test ;;
  *) exec ${realCurl} "$@" ;;
esac
`,
  dnf: '#!/bin/bash\necho "dnf $*" >> "$CALLS"\n',
  // The squid package's squid.conf is root:squid 0640; the stand-in makes the installed one 0640 too, so that a
  // later apply that replaced the file (mv) instead of rewriting it would show.
  systemctl: `#!/bin/bash
echo "systemctl $*" >> "$CALLS"
if [ "$*" = 'enable --now squid' ]; then chmod 0640 "$SQUID_CONF"; ${realSquid} -f "$SQUID_CONF"; fi
`,
  'cfn-signal': '#!/bin/bash\necho "cfn-signal $*" >> "$CALLS"\n',
  // Never the real one: a failed boot falls back to shutting the instance down.
  shutdown: '#!/bin/bash\necho "shutdown $*" >> "$CALLS"\n',
});

const AGENT_CONFIG = '{"logs":{"logs_collected":{"files":{"collect_list":[]}}}}';

describe.runIf(squidAvailable())('the boot script, end to end (real bash, Squid and sysctl; fake AWS)', () => {
  let release: (() => void) | undefined;
  const plan = planOf(exampleConfig());
  const later = planOf({
    ...exampleConfig(),
    tenants: [...(exampleConfig().tenants as object[]), { name: 'project-c', port: 3203, allow: '*' }],
  });

  beforeAll(async () => {
    release = await acquireLabLock();
  });
  afterAll(() => release?.());

  /** Boots once in fresh namespaces; returns the exit status, the calls in order and what the proxy looks like. */
  function boot(
    policy: (dir: string) => string,
    opts: { laterPolicy?: (dir: string) => string; deny?: string[]; failSetInstanceHealth?: boolean } = {},
  ) {
    const work = mkdtempSync(join(tmpdir(), 'egresshub-boot-'));
    const ns = `ehhubboot${process.pid}`;
    chmodSync(work, 0o755);
    const squidDir = join(work, 'squid');
    mkdirSync(squidDir);
    const proxy = spawnSync('id', ['-u', 'proxy'], { encoding: 'utf8' }).stdout.trim();
    chownSync(squidDir, Number(proxy), Number(proxy));
    for (const d of ['bin', 's3', 'state', 'lib']) mkdirSync(join(work, d));
    const real = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim();
    for (const [name, text] of Object.entries(fakes(real('curl'), real('squid')))) {
      writeFileSync(join(work, 'bin', name), text, { mode: 0o755 });
    }
    writeFileSync(join(work, 's3', 'p1.conf'), policy(squidDir));
    writeFileSync(join(work, 's3', 'health.sh'), renderHealthPublisher(plan.hub.proxyHealth.egress));
    writeFileSync(join(work, 'state', 'policy'), 's3://cdk-hnb659fds-assets-123456789012-ap-northeast-1/p1.conf\n');
    if (opts.laterPolicy) {
      writeFileSync(join(work, 's3', 'p2.conf'), opts.laterPolicy(squidDir));
      writeFileSync(join(work, 'state', 'policy-later'), 's3://cdk-hnb659fds-assets-123456789012-ap-northeast-1/p2.conf\n');
    }
    for (const key of opts.deny ?? []) writeFileSync(join(work, 'state', `deny-${key}`), '');
    if (opts.failSetInstanceHealth) writeFileSync(join(work, 'state', 'fail-set-instance-health'), '');
    const paths: ProxyPaths = {
      squidConf: join(work, 'squid.conf'),
      env: join(work, 'etc', 'proxy.env'),
      bootstrapped: join(work, 'lib', 'bootstrapped'),
      sysctl: join(work, '90-egresshub.conf'),
      stateDir: join(work, 'lib'),
      peekCert: join(work, 'peek.pem'),
      squidGroup: 'proxy',
      logDaemon: join(work, 'egresshub-logd'),
      agentConfig: join(work, 'etc', 'cloudwatch-agent.json'),
    };
    const script = renderProxyBootstrap({
      policyParameter: '/egresshub/test/proxy-policy',
      stackName: 'egresshub-hub',
      signalResource: 'ProxyAGroup',
      region: 'ap-northeast-1',
      networkInterface: { id: 'eni-0123', ip: ENI_IP },
      elasticIpAllocationId: 'eipalloc-0123',
      health: {
        id: 'ProxyA',
        ...plan.hub.proxyHealth,
        publisherObject: 's3://cdk-hnb659fds-assets-123456789012-ap-northeast-1/health.sh',
      },
      cloudWatchAgentConfig: AGENT_CONFIG,
      paths,
    });
    writeFileSync(join(work, 'boot.sh'), script, { mode: 0o755 });
    // The private mount namespace: tmpfs over every host directory the script writes, cfn-signal where the
    // script expects it; after the boot, report what it left there (only visible inside).
    const inside = [
      'set -e',
      'for d in /etc/systemd/system /usr/local/sbin /var/log /opt; do mount -t tmpfs tmpfs "$d"; done',
      'mkdir -p /opt/aws/bin && cp "$WORK/bin/cfn-signal" /opt/aws/bin/cfn-signal',
      'set +e',
      'timeout 120 "$WORK/boot.sh"; echo "exit=$?"',
      'echo "--- units"; ls /etc/systemd/system /etc/systemd/system/squid.service.d',
      'echo "--- health"; cat /usr/local/sbin/egresshub-health',
      'echo "--- health unit"; cat /etc/systemd/system/egresshub-health.service',
      'echo "--- log"; cat /var/log/egresshub-bootstrap.log',
    ].join('\n');
    spawnSync('ip', ['netns', 'add', ns]);
    try {
      spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      for (const ip of [NS_DNS_IP, ENI_IP]) spawnSync('ip', ['-n', ns, 'addr', 'add', `${ip}/32`, 'dev', 'lo']);
      const r = spawnSync('ip', ['netns', 'exec', ns, 'unshare', '--mount', '--propagation', 'private', 'bash', '-c', inside], {
        encoding: 'utf8',
        timeout: 150_000,
        env: {
          PATH: `${join(work, 'bin')}:${process.env.PATH}`,
          WORK: work,
          CALLS: join(work, 'calls'),
          FAKE_STATE: join(work, 'state'),
          FAKE_S3: join(work, 's3'),
          SQUID_CONF: paths.squidConf,
        },
      });
      const out = r.stdout;
      const listening = spawnSync('ip', ['netns', 'exec', ns, 'ss', '-ltnH'], { encoding: 'utf8' }).stdout;
      return {
        status: Number(/^exit=(\d+)$/m.exec(out)?.[1] ?? -1),
        out: out + r.stderr,
        calls: readFileSync(join(work, 'calls'), 'utf8').trim().split('\n'),
        ports: [...listening.matchAll(/:(\d+)\s/g)].map((m) => Number(m[1])),
        conf: read(paths.squidConf),
        confMode: existsSync(paths.squidConf) ? (statSync(paths.squidConf).mode & 0o777).toString(8) : '',
        env: read(paths.env),
        healthEnv: read(join(work, 'etc', 'health.env')),
        work,
        sysctl: read(paths.sysctl),
        bootstrapped: spawnSync('test', ['-f', paths.bootstrapped]).status === 0,
        logDaemon: read(paths.logDaemon),
        logDaemonMode: existsSync(paths.logDaemon) ? (statSync(paths.logDaemon).mode & 0o777).toString(8) : '',
        agentConfig: read(paths.agentConfig),
        // Squid's own log daemon, started from what the policy object carried.
        daemonRunning: spawnSync('pgrep', ['-f', `^/usr/bin/python3 -I ${paths.logDaemon} `]).status === 0,
      };
    } finally {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number);
      for (const pid of pids) spawnSync('kill', ['-KILL', String(pid)]);
      spawnSync('sleep', ['0.5']);
      spawnSync('ip', ['netns', 'del', ns]);
      rmSync(work, { recursive: true, force: true });
    }
  }

  // The policy object as the hub stores it: squid.conf, then the log daemon and the agent's config it carries.
  const render = (p: EgressPlan) => (dir: string) =>
    policyObjectText(
      renderSquidConf(p, {
        host: {
          logDir: dir,
          pidFile: join(dir, 'squid.pid'),
          coredumpDir: dir,
          dnsNameservers: [NS_DNS_IP],
          peekCertFile: join(dir, '..', 'peek.pem'),
          logDaemon: join(dir, '..', 'egresshub-logd'),
        },
      }),
      AGENT_CONFIG,
    );

  it('boots: Elastic IP first, ENI, policy from the parameter, ports from squid.conf, Squid up, then the success signal', () => {
    const r = boot(render(plan));
    expect(r.status, r.out).toBe(0);
    const verbs = r.calls.map((c) => c.split(' ').slice(0, 3).join(' '));
    expect(verbs.indexOf('aws ec2 associate-address')).toBe(0);
    expect(verbs.indexOf('aws ec2 associate-address')).toBeLessThan(verbs.indexOf('dnf install -y'));
    expect(verbs.indexOf('dnf install -y')).toBeLessThan(verbs.indexOf('aws ec2 describe-network-interfaces'));
    expect(verbs.indexOf('aws ssm get-parameter')).toBeLessThan(verbs.indexOf('aws s3 cp'));
    expect(r.calls.at(-1)).toBe('cfn-signal -e 0 --stack egresshub-hub --resource ProxyAGroup --region ap-northeast-1');
    expect(r.calls.filter((c) => c.startsWith('cfn-signal'))).toHaveLength(1);
    expect(r.conf).toBe(render(plan)(r.conf.match(/^pid_filename (.*)\/squid\.pid$/m)![1]!));
    expect(r.ports).toEqual(expect.arrayContaining([3201, 3202]));
    expect(r.sysctl).toBe('net.ipv4.ip_local_reserved_ports = 3201-3202\n');
    expect(r.env).toBe(`REGION='ap-northeast-1'\nINSTANCE_ID='i-test'\nLISTENER_IP='${ENI_IP}'\n`);
    expect(r.bootstrapped).toBe(true);
    expect(r.calls).toContain('systemctl enable --now egresshub-health.timer');
    expect(r.out).toMatch(/--- units\n[\s\S]*egresshub-health\.service\n[\s\S]*egresshub-health\.timer[\s\S]*egresshub\.conf/);
    // The publisher installed whole, run with the parameters the boot wrote beside its facts.
    expect(r.out).toContain(`--- health\n${renderHealthPublisher(plan.hub.proxyHealth.egress)}--- health unit\n`);
    expect(r.out).toContain(`ExecStart=/usr/local/sbin/egresshub-health ${join(r.work, 'etc', 'health.env')}\n`);
    expect(r.healthEnv).toBe(healthParams(plan, { conf: join(r.work, 'squid.conf'), drainFile: plan.hub.proxyHealth.drainFile }));
    // What the policy object carried, installed before squid -k parse (which insists on the daemon) and started by Squid.
    expect({ daemon: r.logDaemon, mode: r.logDaemonMode, running: r.daemonRunning }).toEqual({
      daemon: readFileSync(LOG_DAEMON_SOURCE, 'utf8'),
      mode: '755',
      running: true,
    });
    expect(JSON.parse(r.agentConfig)).toEqual(JSON.parse(AGENT_CONFIG));
  });

  it('applies a policy deployed while it booted, before signalling; squid.conf keeps its mode', () => {
    const r = boot(render(plan), { laterPolicy: render(later) });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('the policy changed during boot: applying s3://cdk-hnb659fds-assets-123456789012-ap-northeast-1/p2.conf');
    expect(r.conf).toContain('http_port 3203 name=project-c');
    expect(r.confMode).toBe('640');
    expect(r.ports).toEqual(expect.arrayContaining([3201, 3202, 3203]));
    expect(r.sysctl).toBe('net.ipv4.ip_local_reserved_ports = 3201-3203\n');
    expect(r.calls.at(-1)).toMatch(/^cfn-signal -e 0 /);
  });

  it('booting during a policy deploy: the object it read first is denied; it reads the parameter again and boots', () => {
    // The parameter named p1 at the first read; by the download the grant had moved to p2 (the current object).
    const r = boot(render(plan), { laterPolicy: render(later), deny: ['p1.conf'] });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('AccessDenied');
    expect(r.conf).toContain('http_port 3203 name=project-c');
    expect(r.ports).toEqual(expect.arrayContaining([3201, 3202, 3203]));
    const reads = r.calls.filter((c) => /^aws (ssm get-parameter|s3 cp)/.test(c)).map((c) => c.replace(/ --.*? (s3:\/\/\S+\/)?/g, ' '));
    expect(reads.slice(0, 4).map((c) => c.split(' ').slice(0, 3).join(' '))).toEqual([
      'aws ssm get-parameter',
      'aws s3 cp',
      'aws ssm get-parameter',
      'aws s3 cp',
    ]);
    expect(r.calls.filter((c) => c.startsWith('aws s3 cp')).at(1)).toContain('/p2.conf');
    expect(r.calls.some((c) => c.includes('set-instance-health'))).toBe(false);
    expect(r.calls.at(-1)).toMatch(/^cfn-signal -e 0 /);
  });

  it('signals failure, and never starts Squid, when the policy does not parse', () => {
    const r = boot((dir) => `${render(plan)(dir)}http_access allw all\n`);
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/bootstrap failed at line \d+/);
    expect(r.calls.filter((c) => c.startsWith('cfn-signal'))).toEqual([
      'cfn-signal -e 1 --stack egresshub-hub --resource ProxyAGroup --region ap-northeast-1',
    ]);
    expect(r.calls).not.toContain('systemctl enable --now squid');
    expect(r.bootstrapped).toBe(false);
    expect(r.ports).toEqual([]);
  });

  it('gives the failed instance up after the failure signal: hands back the ENI, marks itself Unhealthy', () => {
    const r = boot((dir) => `${render(plan)(dir)}http_access allw all\n`);
    expect(r.status).not.toBe(0);
    const after = r.calls.slice(r.calls.findIndex((c) => c.startsWith('cfn-signal -e 1')));
    expect(after.filter((c) => !c.startsWith('aws ec2 describe-network-interfaces'))).toEqual([
      'cfn-signal -e 1 --stack egresshub-hub --resource ProxyAGroup --region ap-northeast-1',
      'aws ec2 detach-network-interface --region ap-northeast-1 --attachment-id eni-attach-1',
      'aws autoscaling set-instance-health --region ap-northeast-1 --instance-id i-test --health-status Unhealthy --no-should-respect-grace-period',
    ]);
    expect(r.out).toContain('marked this instance Unhealthy: its group replaces it');
  });

  it('shuts the failed instance down when it cannot mark itself Unhealthy', () => {
    const r = boot((dir) => `${render(plan)(dir)}http_access allw all\n`, { failSetInstanceHealth: true });
    expect(r.status).not.toBe(0);
    expect(r.calls.at(-1)).toBe('shutdown -h now');
    expect(r.calls.filter((c) => c.startsWith('cfn-signal'))).toHaveLength(1);
    expect(r.out).toContain('could not mark this instance Unhealthy: shutting down, so that its group replaces it');
  });

  it('stays in service, on the policy it booted with, when only the policy deployed during its boot is bad', () => {
    const r = boot(render(plan), { laterPolicy: (dir) => `${render(later)(dir)}http_access allw all\n` });
    expect(r.status).not.toBe(0);
    expect(r.calls.filter((c) => c.startsWith('cfn-signal'))).toEqual([
      'cfn-signal -e 1 --stack egresshub-hub --resource ProxyAGroup --region ap-northeast-1',
    ]);
    expect(
      r.calls.some((c) => c.includes('set-instance-health') || c.includes('detach-network-interface') || c.startsWith('shutdown')),
    ).toBe(false);
    expect(r.out).toContain('squid serves the policy it booted with: this instance stays in service');
    expect(r.conf).not.toContain('project-c');
    expect(r.ports).toEqual(expect.arrayContaining([3201, 3202]));
  });
});
