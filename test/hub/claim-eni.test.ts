import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CLAIM_ENI } from '../../src/hub';

// A stand-in for the AWS CLI that keeps the ENI's state in a file: enough EC2 to drive claim_eni
// through its branches (available, held by a predecessor, a predecessor that only lets go by force,
// failing API calls) with the real bash code the proxies run.
const FAKE_AWS = `#!/bin/bash
echo "$*" >> "$STATE/calls"
read -r status owner attachment < "$STATE/eni"
case "$2" in
  describe-network-interfaces)
    if [ -f "$STATE/fail-describe" ]; then rm "$STATE/fail-describe"; echo 'Throttling' >&2; exit 255; fi
    echo "$status $owner $attachment" ;;
  attach-network-interface)
    iid=$(sed -E 's/.*--instance-id ([^ ]+).*/\\1/' <<<"$*")
    [ "$status" = available ] && echo "in-use $iid eni-attach-new" > "$STATE/eni" ;;
  detach-network-interface)
    if [[ " $* " == *" --force "* ]] || [ ! -f "$STATE/stubborn" ]; then echo 'available None None' > "$STATE/eni"; fi ;;
esac
`;

let state: string;
afterEach(() => rmSync(state, { recursive: true, force: true }));

function claim(initial: string, opts: { stubborn?: boolean; failDescribe?: boolean; attempts?: number } = {}) {
  state = mkdtempSync(join(tmpdir(), 'egresshub-eni-'));
  writeFileSync(join(state, 'aws'), FAKE_AWS);
  chmodSync(join(state, 'aws'), 0o755);
  writeFileSync(join(state, 'eni'), `${initial}\n`);
  writeFileSync(join(state, 'calls'), '');
  if (opts.stubborn) writeFileSync(join(state, 'stubborn'), '');
  if (opts.failDescribe) writeFileSync(join(state, 'fail-describe'), '');
  let code = 0;
  try {
    execFileSync('bash', ['-c', `set -euo pipefail\n${CLAIM_ENI}\nclaim_eni eni-1 i-new eu-west-1 ${opts.attempts ?? 30} 0`], {
      env: { PATH: `${state}:${process.env.PATH}`, STATE: state },
      stdio: 'pipe',
    });
  } catch (e) {
    code = (e as { status: number }).status;
  }
  const calls = readFileSync(join(state, 'calls'), 'utf8')
    .trim()
    .split('\n')
    .map((c) => c.split(' ')[1]! + (c.includes('--force') ? ' --force' : ''));
  return { code, calls, eni: readFileSync(join(state, 'eni'), 'utf8').trim() };
}

describe('claim_eni (boot script, real bash against a fake EC2)', () => {
  it('attaches an available ENI as device 1', () => {
    const r = claim('available None None');
    expect(r).toEqual({
      code: 0,
      calls: ['describe-network-interfaces', 'attach-network-interface', 'describe-network-interfaces'],
      eni: 'in-use i-new eni-attach-new',
    });
  });

  it('asks a predecessor to let go before attaching, without force', () => {
    const r = claim('in-use i-old eni-attach-old');
    expect(r.code).toBe(0);
    expect(r.calls).toEqual([
      'describe-network-interfaces',
      'detach-network-interface',
      'describe-network-interfaces',
      'attach-network-interface',
      'describe-network-interfaces',
    ]);
  });

  it('forces the detach only after six polite attempts when the predecessor does not let go', () => {
    const r = claim('in-use i-old eni-attach-old', { stubborn: true });
    expect(r.code).toBe(0);
    const detaches = r.calls.filter((c) => c.startsWith('detach'));
    expect(detaches).toEqual([...Array<string>(6).fill('detach-network-interface'), 'detach-network-interface --force']);
  });

  it('keeps trying after a failed API call', () => {
    expect(claim('available None None', { failDescribe: true }).code).toBe(0);
  });

  it('fails after the given number of attempts when the ENI never becomes free', () => {
    const r = claim('in-use i-old eni-attach-old', { stubborn: true, attempts: 3 });
    expect(r.code).toBe(1);
    expect(r.calls.filter((c) => c.startsWith('describe'))).toHaveLength(3);
    expect(r.eni).toBe('in-use i-old eni-attach-old');
  });
});
