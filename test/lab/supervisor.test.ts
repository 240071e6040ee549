// The supervisor's decisions as pure functions: which proxies take new connections for each fleet mode and
// health state, and the nft transaction that points a gateway at them.
import { describe, expect, it } from 'vitest';
import { gatewayMapScript, MAP_SLOTS, nextEgressAlarm, passes, routeTo } from '../../src/lab/supervisor';

const proxies = (...healthy: boolean[]) => healthy.map((h, i) => ({ id: `P${i}`, healthy: h }));
const ids = (ps: { id: string }[]) => ps.map((p) => p.id);

describe('lab supervisor', () => {
  it('failover: the first healthy proxy in order, the primary again once it is healthy', () => {
    expect(ids(routeTo('failover', proxies(true, true)))).toEqual(['P0']);
    expect(ids(routeTo('failover', proxies(false, true)))).toEqual(['P1']);
    expect(ids(routeTo('failover', proxies(false, false, true)))).toEqual(['P2']);
  });

  it('spread: every healthy proxy', () => {
    expect(ids(routeTo('spread', proxies(true, true)))).toEqual(['P0', 'P1']);
    expect(ids(routeTo('spread', proxies(true, false, true)))).toEqual(['P0', 'P2']);
  });

  it('falls back to every proxy when none is healthy (failover: the primary), as Route 53 and an NLB do', () => {
    expect(ids(routeTo('failover', proxies(false, false)))).toEqual(['P0']);
    expect(ids(routeTo('spread', proxies(false, false)))).toEqual(['P0', 'P1']);
  });

  it('fills every slot of the map in one transaction, evenly for 1 to 4 proxies', () => {
    const script = gatewayMapScript(['10.0.0.10', '10.0.0.11']);
    const [flush, add] = script.trim().split('\n');
    expect(flush).toBe('flush map ip eh proxy');
    const slots = [...add!.matchAll(/(\d+) : ([\d.]+)/g)].map((m) => [Number(m[1]), m[2]]);
    expect(slots.map(([i]) => i)).toEqual(Array.from({ length: MAP_SLOTS }, (_, i) => i));
    for (const n of [1, 2, 3, 4]) {
      const ips = Array.from({ length: n }, (_, i) => `10.0.0.${10 + i}`);
      const counts = ips.map((ip) => gatewayMapScript(ips).split(`: ${ip}`).length - 1);
      expect(new Set(counts), `${n} proxies`).toEqual(new Set([MAP_SLOTS / n]));
    }
  });

  it('egress: a proxy whose egress fails fails the round only while another proxy in service has egress (fail open)', () => {
    const up = { squid: true, egress: true };
    const cut = { squid: true, egress: false };
    const down = { squid: false };
    expect(passes([up, up])).toEqual([true, true]);
    expect(passes([cut, up])).toEqual([false, true]);
    // Nobody is better off: nobody fails for egress.
    expect(passes([cut, cut])).toEqual([true, true]);
    // A peer that is down (or draining) is no way out, however good its route.
    expect(passes([cut, down])).toEqual([true, false]);
    expect(passes([cut, cut, up])).toEqual([false, false, true]);
    // Without an egress check, Squid alone decides.
    expect(passes([{ squid: true }, { squid: false }])).toEqual([true, false]);
  });

  it('egress: the no-egress alarm goes off after the threshold of rounds without any egress, and clears at once', () => {
    let a = { state: 'OK' as const, since: 0, rounds: 0 } as ReturnType<typeof nextEgressAlarm>;
    a = nextEgressAlarm(a, false, 2, 1);
    expect(a).toEqual({ state: 'OK', since: 0, rounds: 1 });
    a = nextEgressAlarm(a, false, 2, 2);
    expect(a).toEqual({ state: 'ALARM', since: 2, rounds: 2 });
    a = nextEgressAlarm(a, false, 2, 3);
    expect(a).toEqual({ state: 'ALARM', since: 2, rounds: 3 });
    a = nextEgressAlarm(a, true, 2, 4);
    expect(a).toEqual({ state: 'OK', since: 4, rounds: 0 });
  });
});
