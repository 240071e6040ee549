// multi-az proxies leave the failover name before a replacement terminates them: the group's termination
// lifecycle hook holds the instance, and the health publisher, reading target-lifecycle-state "Terminated" from
// IMDS, drains (publishes 0). The publisher here is the script the boot installs, run with bash against fake IMDS
// and AWS CLI stand-ins on PATH.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderHealthPublisher } from '../../src/hub/user-data';
import { ProxyFleet } from '../../src/hub/proxy-fleet';
import { exampleConfig, planOf, synthOnce } from '../support/stack';
import { writeHealthParams } from './support/health-params';

const plan = planOf(exampleConfig());

const work = mkdtempSync(join(tmpdir(), 'egresshub-drain-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function publish(state: string): { drained: boolean; value: string | undefined } {
  const dir = join(work, state);
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'squid.conf'), 'http_port 3201 name=project-a\n');
  writeFileSync(
    join(dir, 'bin', 'curl'),
    `#!/bin/bash\ncase "$*" in\n  *latest/api/token*) echo token ;;\n  *autoscaling/target-lifecycle-state*) echo ${state} ;;\n  *) exit 7 ;;\nesac\n`,
    { mode: 0o755 },
  );
  writeFileSync(join(dir, 'bin', 'aws'), `#!/bin/bash\necho "$*" > "${join(dir, 'metric')}"\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'health.sh'), renderHealthPublisher(), { mode: 0o755 });
  spawnSync(
    'bash',
    [
      join(dir, 'health.sh'),
      writeHealthParams(join(dir, 'health.env'), plan, { conf: join(dir, 'squid.conf'), drainFile: join(dir, 'drain') }),
    ],
    {
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
      timeout: 20_000,
    },
  );
  const metric = existsSync(join(dir, 'metric')) ? readFileSync(join(dir, 'metric'), 'utf8') : '';
  return { drained: existsSync(join(dir, 'drain')), value: /--value (\d)/.exec(metric)?.[1] };
}

describe('drain before termination', () => {
  it('the health publisher drains and reads 0 once IMDS says the instance is being terminated', () => {
    expect(publish('Terminated')).toEqual({ drained: true, value: '0' });
  });

  it('an instance in service is not drained by the check', () => {
    expect(publish('InService').drained).toBe(false);
  });

  it('multi-az proxies hold a terminating instance for the failover budget; single and nlb add no hook', () => {
    const multi = synthOnce('drain-multi-az', () => planOf(exampleConfig()));
    const hooks = Object.values(multi.hub.findResources('AWS::AutoScaling::LifecycleHook')) as { Properties: Record<string, unknown> }[];
    expect(hooks).toHaveLength(2);
    for (const h of hooks) {
      expect(h.Properties).toMatchObject({
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: ProxyFleet.DRAIN_BEFORE_TERMINATION_SECONDS,
        DefaultResult: 'CONTINUE',
      });
    }
    for (const mode of ['single', 'nlb']) {
      const config = exampleConfig() as { hub: { proxy: Record<string, unknown> } };
      config.hub.proxy = { ...config.hub.proxy, mode };
      synthOnce(`drain-${mode}`, () => planOf(config)).hub.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
    }
  });
});
