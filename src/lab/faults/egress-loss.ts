// egress-loss: the proxy that takes new connections loses its way out under load: the NAT gateway drops what it
// sends (on AWS: its AZ's NAT gateway gone, its subnet's route a blackhole), while the resolver still answers.
// Squid still answers its health probe; only the egress check's connection, which times out, sees it.
// Expected: the proxy is withdrawn while the others' egress works, and no request started after that fails.
import type { Fault } from './fault';
import { cutEgress, restore, runWithdrawal } from './egress-support';

export const egressLoss: Fault = {
  name: 'egress-loss',
  summary: "the active proxy's way out through the NAT gateway is cut under load: it is withdrawn, no request fails after that",
  run: (ctx) =>
    runWithdrawal(ctx, {
      fault: 'egress-loss',
      what: 'dropping its traffic out at the NAT gateway',
      inject: (topo, victim) => cutEgress(topo, victim),
      undo: (topo, victim) => restore(topo, victim, 'egress'),
    }),
};
