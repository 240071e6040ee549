import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_DAEMON_PATH } from '../../src/policy';
import {
  CLOUDWATCH_AGENT_CONFIG_FILE,
  MAX_USER_DATA_BYTES,
  PORT_FUNCTIONS,
  PROXY_PATHS,
  renderHealthPublisher,
  renderProxyBootstrap,
  SQUID_PARSE_CHECK,
  TOKEN_ALLOWANCE_BYTES,
} from '../../src/hub';
import { renderPolicyApply } from '../../src/hub/policy-rollout';
import { ensurePeekCert } from '../../src/lab/instance-scripts';
import { renderSquidConf } from '../../src/policy';
import { exampleConfig, planOf, shellFunctionBody } from '../support/stack';

const base = {
  policyParameter: '/egresshub/egresshub/proxy-policy',
  networkInterface: { id: 'eni-0123456789abcdef0', ip: '10.0.128.10' },
  stackName: 'egresshub-hub',
  signalResource: 'HubProxyFleetGroupASG0123',
  region: 'ap-northeast-1',
};
const health = {
  id: 'ProxyA',
  namespace: 'egresshub/egresshub',
  metricName: 'ProxyHealthy',
  dimension: 'Proxy',
  intervalSeconds: 20,
  drainFile: '/run/egresshub/drain',
  publisherObject: 's3://cdk-hnb659fds-assets-111111111111-ap-northeast-1/0123abcd.sh',
};

describe('renderProxyBootstrap', () => {
  it.each([
    ['a fixed proxy', base],
    ['a scaling proxy (no ENI)', { ...base, networkInterface: undefined }],
    ['a fixed proxy with public egress and health metric', { ...base, elasticIpAllocationId: 'eipalloc-0123', health }],
    ['a fixed proxy with the CloudWatch agent', { ...base, cloudWatchAgentConfig: '{"logs":{}}' }],
  ])('renders a script bash can parse for %s', (_name, props) => {
    const script = renderProxyBootstrap(props);
    expect(() => execFileSync('bash', ['-n'], { input: script })).not.toThrow();
  });

  it('names the policy parameter and nothing of the policy: no squid.conf, no port', () => {
    const script = renderProxyBootstrap(base);
    expect(script).toContain(`POLICY_PARAMETER='${base.policyParameter}'`);
    expect(script).toContain('aws ssm get-parameter --region "$REGION" --name "$POLICY_PARAMETER"');
    expect(script).not.toMatch(/http_port \d|3201|SQUIDCONF|base64/);
    expect(script).toContain('mapfile -t PORTS < <(squid_ports "$CONF")');
  });

  it('marks the boot finished before its success signal, and applies a policy that changed during the boot', () => {
    const boot = shellFunctionBody(renderProxyBootstrap(base), 'proxy_boot');
    const late = boot.indexOf('apply_policy_changed_during_boot');
    expect(boot.indexOf('touch "$BOOTSTRAPPED"')).toBeLessThan(late);
    expect(late).toBeLessThan(boot.lastIndexOf('signal 0'));
    expect(shellFunctionBody(renderProxyBootstrap(base), 'apply_policy_changed_during_boot')).toMatch(
      /if \[ "\$POLICY" != "\$booted_with" \] [^\n]*; then[\s\S]*squid_parse_ok "\$CONF.next"[\s\S]*squid -k reconfigure/,
    );
  });

  it("applies that late policy under the apply script's lock, with cat (squid.conf keeps its owner and mode), not mv", () => {
    const script = renderProxyBootstrap(base);
    const late = shellFunctionBody(script, 'apply_policy_changed_during_boot');
    const lock = late.indexOf('exec 9>"$STATE/apply.lock"\n  flock -w 900 9\n');
    expect(lock).toBeGreaterThan(-1);
    expect(lock).toBeLessThan(late.indexOf('fetch_current_policy "$CONF.next"'));
    expect(late).toContain('cat "$CONF.next" > "$CONF"');
    expect(script).not.toMatch(/^\s*mv /m);
    // The same lock file as the apply script's (policy-apply.sh: `exec 9>"$STATE/apply.lock"`).
    expect(script).toContain(`STATE='${PROXY_PATHS.stateDir}'`);
    expect(renderPolicyApply({ drain: 'none' })).toContain(`STATE='${PROXY_PATHS.stateDir}'`);
    expect(renderPolicyApply({ drain: 'none' })).toMatch(/\n\s*exec 9>"\$STATE\/apply\.lock"\n\s*flock -w 900 9\n/);
  });

  it('reads the parameter again on every download attempt (the role may read only the current object)', () => {
    const script = renderProxyBootstrap(base);
    const fn = /fetch_current_policy\(\) \{\n([\s\S]*?)\n\}/.exec(script)![1]!;
    const loop = fn.slice(fn.indexOf('for i in'));
    expect(loop).toContain('aws ssm get-parameter --region "$REGION" --name "$POLICY_PARAMETER"');
    expect(loop.indexOf('aws ssm get-parameter')).toBeLessThan(loop.indexOf('aws s3 cp'));
    expect(script).not.toContain('fetch_policy ');
  });

  it('gives a failed boot up after the failure signal: ENI handed back, instance Unhealthy, else shut down', () => {
    const script = renderProxyBootstrap(base);
    expect(script).toContain(`trap 'echo "bootstrap failed at line $LINENO"; signal 1; give_up' ERR`);
    expect(script).toContain(`ENI='${base.networkInterface.id}'`);
    const fn = /give_up\(\) \{\n([\s\S]*?)\n\}/.exec(script)![1]!;
    const order = [
      'if [ -e "$BOOTSTRAPPED" ]',
      'aws ec2 detach-network-interface',
      'aws autoscaling set-instance-health --region "$REGION" --instance-id "$IID" --health-status Unhealthy',
      '--no-should-respect-grace-period',
      'shutdown -h now',
    ].map((s) => fn.indexOf(s));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(renderProxyBootstrap({ ...base, networkInterface: undefined })).toContain("ENI=''");
  });

  it('associates the Elastic IP before anything else uses the internet', () => {
    const script = renderProxyBootstrap({ ...base, elasticIpAllocationId: 'eipalloc-0123' });
    const boot = shellFunctionBody(script, 'proxy_boot');
    const associate = boot.indexOf('associate_elastic_ip');
    expect(associate).toBeGreaterThan(-1);
    expect(associate).toBeLessThan(boot.indexOf('dnf install'));
    expect(script).toContain("\nEIP_ALLOCATION='eipalloc-0123'\n");
    expect(shellFunctionBody(script, 'associate_elastic_ip')).toContain(
      '--allocation-id "$EIP_ALLOCATION" --instance-id "$IID" --allow-reassociation',
    );
    expect(renderProxyBootstrap(base)).not.toContain('associate-address');
  });

  it('claims no ENI for a scaling proxy', () => {
    const script = renderProxyBootstrap({ ...base, networkInterface: undefined });
    expect(script).not.toContain('claim_eni');
    expect(script).toContain("LISTENER_IP='%s'");
  });

  it('installs a health timer that publishes 1/0 with the proxy dimension every interval', () => {
    const script = renderProxyBootstrap({ ...base, health });
    for (const line of [
      "HEALTH_INTERVAL='20'",
      "HEALTH_DRAIN_FILE='/run/egresshub/drain'",
      "HEALTH_NAMESPACE='egresshub/egresshub'",
      "HEALTH_METRIC='ProxyHealthy'",
      "HEALTH_DIMENSION='Proxy=ProxyA'",
    ]) {
      expect(script).toContain(`\n${line}\n`);
    }
    // The publisher travels as an S3 object (user data is limited to 16 KB): the boot downloads it, retried.
    expect(script).toContain(`\nHEALTH_PUBLISHER='${health.publisherObject}'\n`);
    expect(shellFunctionBody(script, 'install_health_publisher')).toContain(
      'aws s3 cp --region "$REGION" --only-show-errors "$HEALTH_PUBLISHER" "$HEALTH_SCRIPT" && break',
    );
    expect(script).not.toContain('publish_health');
    expect(renderHealthPublisher()).toContain('put_health --metric-name "$METRIC" --dimensions "$DIMENSION" --value "$value" --unit Count');
    expect(shellFunctionBody(script, 'install_health_publisher')).toContain('systemctl enable --now egresshub-health.timer');
    expect(renderProxyBootstrap(base)).not.toMatch(/egresshub-health|install_health_publisher\(\)/);
  });

  it('detaches the ENI from a predecessor gently first and forces it only after a minute', () => {
    const script = renderProxyBootstrap(base);
    expect(script).toMatch(/\[ "\$i" -gt 6 \]; then\n\s+aws ec2 detach-network-interface .*--force/);
    expect(script).toMatch(/elif \[ "\$attachment" != None \]; then\n\s+aws ec2 detach-network-interface [^\n]*"\$attachment" \|\| true/);
  });

  it('bounds the ENI claim loop by attachAttempts', () => {
    const script = renderProxyBootstrap({ ...base, attachAttempts: 7 });
    expect(script).toContain("\nATTACH_ATTEMPTS='7'\n");
    expect(shellFunctionBody(script, 'attach_listener_eni')).toContain('claim_eni "$ENI" "$IID" "$REGION" "$ATTACH_ATTEMPTS" 10');
  });

  it('fails when the user data would exceed 16 KB, naming the size and the fix', () => {
    const policyParameter = `/egresshub/${'p'.repeat(4000)}`;
    expect(() => renderProxyBootstrap({ ...base, health, policyParameter, stackName: 's'.repeat(3000) })).toThrow(
      new RegExp(`^proxy user data would be about \\d+ bytes, over EC2's ${MAX_USER_DATA_BYTES}-byte limit; shorten`),
    );
  });

  it("carries neither the CloudWatch agent's config nor the log daemon: both come with the policy object", () => {
    const agent = JSON.stringify({ logs: { noise: Array.from({ length: 3000 }, (_, i) => `field-${i}`) } });
    const script = renderProxyBootstrap({ ...base, health, cloudWatchAgentConfig: agent });
    expect(script).not.toContain('field-1');
    expect(script).toContain(`\nCWAGENT_CONFIG_FILE='${CLOUDWATCH_AGENT_CONFIG_FILE}'\n`);
    expect(script).toContain(`\nLOG_DAEMON='${LOG_DAEMON_PATH}'\n`);
    // Installed right after the policy is fetched: squid -k parse insists on the daemon squid.conf names.
    expect(shellFunctionBody(script, 'proxy_boot')).toMatch(
      /fetch_current_policy "\$CONF"\n\s+install_proxy_files "\$CONF" "\$LOG_DAEMON" "\$CWAGENT_CONFIG_FILE"\n\s+ensure_tls_peek/,
    );
    expect(renderProxyBootstrap(base)).toContain("\nCWAGENT_CONFIG_FILE=''\n");
  });

  it('keeps a margin for deploy-time values below the limit, with every option on', () => {
    const script = renderProxyBootstrap({ ...base, elasticIpAllocationId: 'eipalloc-0123', health, cloudWatchAgentConfig: '{"logs":{}}' });
    expect(Buffer.byteLength(script) + TOKEN_ALLOWANCE_BYTES).toBeLessThan(MAX_USER_DATA_BYTES);
  });

  it('gives Squid 65,536 file descriptors through its systemd drop-in (about 2 per concurrent client)', () => {
    expect(renderProxyBootstrap(base)).toMatch(
      /printf '\[Service\]\\nRestart=always\\nRestartSec=5\\nLimitNOFILE=65536\\n' > \/etc\/systemd\/system\/squid\.service\.d\/egresshub\.conf/,
    );
  });
});

/** Runs bash with the port functions defined, under the boot script's own shell mode. */
function portShell(body: string, input?: string): string {
  return execFileSync('bash', ['-c', `set -euo pipefail\n${PORT_FUNCTIONS}\n${body}`], { input, stdio: 'pipe' }).toString();
}

describe('tenant ports read from squid.conf and reserved from the ephemeral range', () => {
  it('squid_ports lists the http_port ports of the generated squid.conf, with or without an address', () => {
    const dir = mkdtempSync(join(tmpdir(), 'egresshub-ports-'));
    try {
      const plan = planOf(exampleConfig());
      writeFileSync(join(dir, 'squid.conf'), `${renderSquidConf(plan)}http_port 127.0.0.1:40000 name=x\n`);
      expect(
        portShell(`squid_ports '${join(dir, 'squid.conf')}'`)
          .trim()
          .split('\n'),
      ).toEqual([...plan.tenants.map((t) => String(t.port)), '40000']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('port_ranges merges ports into ranges (duplicates and order do not matter)', () => {
    expect(portShell('port_ranges', '40002\n3202\n3201\n3203\n40000\n3202\n')).toBe('3201-3203,40000,40002');
    expect(portShell('port_ranges', '3201\n')).toBe('3201');
  });

  it('wait_listening gives up after the given seconds, naming the port', () => {
    const started = Date.now();
    expect(() => portShell('wait_listening 1 1')).toThrow(/port 1 is not listening after 1 s/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  // net.ipv4 settings are per network namespace: a namespace of its own (no interfaces, no traffic) lets the
  // kernel itself judge the value without touching the host.
  it.runIf(process.getuid?.() === 0)('reserve_ports writes a value the kernel accepts and reads back', () => {
    const ns = `ehsysctl${process.pid}`;
    const dir = mkdtempSync(join(tmpdir(), 'egresshub-sysctl-'));
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', [
        'netns',
        'exec',
        ns,
        'bash',
        '-c',
        `set -euo pipefail\n${PORT_FUNCTIONS}\nreserve_ports '${dir}/90.conf' 3201 3202 3203 40000 40002`,
      ]);
      const back = execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.ipv4.ip_local_reserved_ports']).toString().trim();
      expect(back).toBe('3201-3203,40000,40002');
      expect(readFileSync(join(dir, '90.conf'), 'utf8')).toBe('net.ipv4.ip_local_reserved_ports = 3201-3203,40000,40002\n');
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQUID_PARSE_CHECK (with the real squid binary)', () => {
  // Squid loads the ssl-bump ports' certificate while parsing: this test makes its own, as the instance does at boot,
  // and never relies on (or writes) the instance path PEEK_CERT_FILE on this host.
  const certDir = mkdtempSync(join(tmpdir(), 'egresshub-peek-'));
  const peekCertFile = join(certDir, 'peek.pem');
  beforeAll(() => ensurePeekCert(peekCertFile));
  afterAll(() => rmSync(certDir, { recursive: true, force: true }));

  const check = (conf: string): number => {
    const dir = mkdtempSync(join(tmpdir(), 'egresshub-squid-'));
    try {
      writeFileSync(join(dir, 'squid.conf'), conf);
      // The boot script's own shell mode: the check must hold under errexit and pipefail.
      execFileSync('bash', ['-c', `set -euo pipefail\n${SQUID_PARSE_CHECK}\nsquid_parse_ok "$1"`, 'check', join(dir, 'squid.conf')], {
        stdio: 'pipe',
        maxBuffer: 64 * 1024 * 1024,
      });
      return 0;
    } catch (e) {
      return (e as { status: number }).status;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('accepts the squid.conf generated for the example config', () => {
    expect(check(renderSquidConf(planOf(exampleConfig()), { host: { peekCertFile } }))).toBe(0);
  });

  it('does not mistake a config line that contains ERROR for a diagnostic', () => {
    expect(check('http_port 3201\nacl ERROR_PAGES dstdomain example.com\nhttp_access deny all\n')).toBe(0);
  });

  it('fails when a directive is unknown (squid exits non-zero)', () => {
    expect(check('http_port 3201\nbogus_directive 1\n')).not.toBe(0);
  });

  it('fails when squid reports an error but exits 0 (unreadable http_access line)', () => {
    expect(check('http_port 3201\nhttp_access allw all\n')).not.toBe(0);
  });

  it('fails when the error comes early in a long output (no SIGPIPE false pass under pipefail)', () => {
    // Each line makes Squid warn that one name is a subdomain of the other: 40,000 diagnostic lines after
    // the error, megabytes more than a pipe buffer, so an early-exiting grep would break the pipe.
    const noisy = Array.from({ length: 20_000 }, (_, i) => `acl a${i} dstdomain .w${i}.example.com w.w${i}.example.com`).join('\n');
    expect(check(`http_port 3201\nhttp_access allw all\n${noisy}\nhttp_access deny all\n`)).not.toBe(0);
  });
});
