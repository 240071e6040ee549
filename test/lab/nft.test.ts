// The lab's nftables rulesets as files: each one, with its parameters as `define` lines, is a ruleset nft accepts
// (checked with `nft -c` in a throwaway network namespace: nothing is loaded anywhere), and the names and slot
// count the supervisor relies on match the gateway file.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labRuleset, NFT_DIR } from '../../src/lab/nft';
import { GATEWAY_MAP, MAP_SLOTS, gatewayMapScript } from '../../src/lab/supervisor';

/** `nft -c -f -` in a network namespace of its own (unshare -n): the kernel checks the ruleset, nothing stays. */
function nftCheck(ruleset: string): { status: number | null; stderr: string } {
  const r = spawnSync('unshare', ['-n', 'nft', '-c', '-f', '-'], { input: ruleset, encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

const root = process.getuid?.() === 0;
const CASES: Record<string, Record<string, string | number | string[]>> = {
  'nat-gateway': {},
  endpoint: { ENDPOINT_IP: '10.1.0.5', PORT: 3201, GATEWAY_SIDE: '169.254.100.2', ENDPOINT_SIDE: '169.254.100.1' },
  gateway: { PORT: 3201, GATEWAY_IP: '10.0.0.9', PROXIES: ['10.0.1.10', '10.0.1.11'] },
};

describe('lab nftables rulesets', () => {
  it('covers every file in src/lab/nft', () => {
    expect(readdirSync(NFT_DIR).sort()).toEqual(
      Object.keys(CASES)
        .map((n) => `${n}.nft`)
        .sort(),
    );
  });

  it.runIf(root).each(Object.keys(CASES))('%s, with its parameters, is a ruleset nft accepts', (name) => {
    const r = nftCheck(labRuleset(name, CASES[name]));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.runIf(root)('fails the check when a parameter is missing (an undefined variable is an error, not an empty value)', () => {
    const withoutPort = Object.fromEntries(Object.entries(CASES.endpoint!).filter(([k]) => k !== 'PORT'));
    const r = nftCheck(labRuleset('endpoint', withoutPort));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown identifier 'PORT'/);
  });

  it.runIf(root)("the supervisor's map update applies to the gateway ruleset", () => {
    const r = nftCheck(`${labRuleset('gateway', CASES.gateway)}\n${gatewayMapScript(['10.0.1.10', '10.0.1.11'])}`);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it("the gateway file uses the supervisor's table, map and slot count", () => {
    const text = readFileSync(join(NFT_DIR, 'gateway.nft'), 'utf8');
    expect(text).toContain(`table ip ${GATEWAY_MAP.table} {`);
    expect(text).toContain(`map ${GATEWAY_MAP.map} { typeof numgen inc mod ${MAP_SLOTS} : ip daddr; }`);
    expect(text).toContain(`numgen inc mod ${MAP_SLOTS} map @${GATEWAY_MAP.map}`);
  });

  it('refuses a value that is not one nft word, instead of writing it into the ruleset', () => {
    expect(() => labRuleset('endpoint', { ...CASES.endpoint, ENDPOINT_IP: '10.1.0.5; flush ruleset' })).toThrow(/not an nft word/);
    expect(labRuleset('gateway', CASES.gateway)).toMatch(
      /^define PORT = 3201\ndefine GATEWAY_IP = 10\.0\.0\.9\ndefine PROXIES = \{ 10\.0\.1\.10, 10\.0\.1\.11 \}\n/,
    );
  });
});
