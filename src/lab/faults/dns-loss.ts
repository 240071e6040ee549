// dns-loss: the resolver of the proxy that takes new connections becomes unreachable under load (on AWS: the VPC
// resolver, which Squid and the egress check both ask; here the emulated internet's, which the proxies ask in the
// lab). Its queries are dropped on the way (at the NAT gateway in the lab), so they time out rather than fail at once. Squid keeps answering from its DNS
// cache for names it resolved recently and fails the rest after dns_timeout; the egress check's lookup fails within
// 3 s, so the proxy is withdrawn while the others resolve, and no request started after that fails.
import { INTERNET } from '../topology';
import type { Fault } from './fault';
import { cutDns, restore, runWithdrawal } from './egress-support';

export const dnsLoss: Fault = {
  name: 'dns-loss',
  summary:
    "the active proxy's resolver is unreachable (queries dropped) under load: the egress check fails to resolve, the proxy is withdrawn",
  run: (ctx) =>
    runWithdrawal(ctx, {
      fault: 'dns-loss',
      what: `dropping its DNS queries to ${INTERNET.dnsIp}`,
      inject: (topo, victim) => cutDns(topo, victim),
      undo: (topo, victim) => restore(topo, victim, 'dns'),
    }),
};
