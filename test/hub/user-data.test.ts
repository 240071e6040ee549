import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_USER_DATA_BYTES, renderProxyBootstrap, TOKEN_ALLOWANCE_BYTES } from '../../src/hub';

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
    expect(renderProxyBootstrap({ ...base, attachAttempts: 7 })).toContain('for i in $(seq 1 7); do');
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
