import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_USER_DATA_BYTES, renderProxyBootstrap, SQUID_PARSE_CHECK, TOKEN_ALLOWANCE_BYTES } from '../../src/hub';
import { renderSquidConf } from '../../src/policy';
import { exampleConfig, planOf } from '../support/stack';

const base = {
  squidConf: 'http_port 3201 name=a\nhttp_access deny all\n',
  ports: [3201, 3202],
  networkInterfaceId: 'eni-0123456789abcdef0',
  networkInterfaceIp: '10.0.128.10',
  stackName: 'egresshub-hub',
  signalResource: 'HubProxyFleetGroupASG0123',
  region: 'ap-northeast-1',
};

describe('renderProxyBootstrap', () => {
  it('renders a script bash can parse', () => {
    const script = renderProxyBootstrap(base);
    expect(() => execFileSync('bash', ['-n'], { input: script })).not.toThrow();
  });

  it('embeds the squid.conf so that base64 -d | gunzip restores it byte for byte', () => {
    const script = renderProxyBootstrap(base);
    const b64 = /<<'SQUIDCONF'[^\n]*\n([\s\S]*?)\nSQUIDCONF/.exec(script)![1]!;
    expect(b64.split('\n').every((l) => l.length <= 76)).toBe(true);
    const restored = execFileSync('bash', ['-c', 'base64 -d | gunzip'], { input: b64 }).toString('utf8');
    expect(restored).toBe(base.squidConf);
    expect(gunzipSync(Buffer.from(b64.replace(/\n/g, ''), 'base64')).toString('utf8')).toBe(base.squidConf);
  });

  it('detaches the ENI from a predecessor gently first and forces it only after a minute', () => {
    const script = renderProxyBootstrap(base);
    expect(script).toMatch(/\[ "\$i" -gt 6 \]; then\n\s+aws ec2 detach-network-interface .*--force/);
    expect(script).toMatch(/elif \[ "\$attachment" != None \]; then\n\s+aws ec2 detach-network-interface [^\n]*"\$attachment" \|\| true/);
  });

  it('bounds the ENI claim loop by attachAttempts', () => {
    expect(renderProxyBootstrap({ ...base, attachAttempts: 7 })).toContain('claim_eni "$ENI" "$IID" "$REGION" 7 10');
  });

  it('fails when the user data would exceed 16 KB, naming the size and the fix', () => {
    const noise = Array.from({ length: 20000 }, (_, i) => ((i * 2654435761) % 4294967296).toString(36)).join('\n');
    expect(() => renderProxyBootstrap({ ...base, squidConf: noise })).toThrow(
      new RegExp(
        `^proxy user data would be about \\d+ bytes, over EC2's ${MAX_USER_DATA_BYTES}-byte limit \\(squid.conf is \\d+ bytes before compression\\); shorten`,
      ),
    );
  });

  it('keeps a margin for deploy-time values below the limit', () => {
    const script = renderProxyBootstrap(base);
    expect(Buffer.byteLength(script) + TOKEN_ALLOWANCE_BYTES).toBeLessThan(MAX_USER_DATA_BYTES);
  });
});

describe('tenant ports reserved from the ephemeral range', () => {
  const script = renderProxyBootstrap({ ...base, ports: [3201, 3202, 3203, 40000, 40002] });
  const reserved = /^RESERVED='([^']*)'$/m.exec(script)?.[1];

  it('gives Squid 65,536 file descriptors through its systemd drop-in (about 2 per concurrent client)', () => {
    expect(script).toMatch(
      /printf '\[Service\]\\nRestart=always\\nRestartSec=5\\nLimitNOFILE=65536\\n' > \/etc\/systemd\/system\/squid\.service\.d\/egresshub\.conf/,
    );
  });

  it('merges the ports into ranges', () => {
    expect(reserved).toBe('3201-3203,40000,40002');
    expect(script).toContain('sysctl -q -w "net.ipv4.ip_local_reserved_ports=$RESERVED"');
  });

  // net.ipv4 settings are per network namespace: a namespace of its own (no interfaces, no traffic) lets the
  // kernel itself judge the value without touching the host.
  it.runIf(process.getuid?.() === 0)('is a value the kernel accepts and reads back', () => {
    const ns = `ehsysctl${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv4.ip_local_reserved_ports=${reserved!}`]);
      const back = execFileSync('ip', ['netns', 'exec', ns, 'sysctl', '-n', 'net.ipv4.ip_local_reserved_ports']).toString().trim();
      expect(back).toBe(reserved);
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });
});

describe('SQUID_PARSE_CHECK (with the real squid binary)', () => {
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
    expect(check(renderSquidConf(planOf(exampleConfig())))).toBe(0);
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
