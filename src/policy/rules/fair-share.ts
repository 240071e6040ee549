// fair-share: each proxy's bandwidth split between busy tenants by `limits.weight`, capped by `limits.bandwidthMbps`:
// an HTB tree (`#tc: ` lines) and the nftables map that puts each tenant's responses in its class (`#nft: ` lines).
import type { EgressPlan, TenantPlan } from '../../config';
import { mapElements, type PolicyRule } from './rule';

/** The placeholder for the shaped network device in the `#tc: ` lines. */
export const TC_DEVICE = '@DEV@';

/** A tenant's HTB class: the tenant's port as the minor number (ports are at least 1024, clear of 1:1 and 1:2). */
export const tenantClassId = (t: Pick<TenantPlan, 'port'>) => `1:${t.port.toString(16)}`;

/** The class everything else leaves by (Squid's own requests and ACKs to origins, DNS, SSM, the health probe). */
export const OTHER_CLASS_ID = '1:2';

/** The share of the line kept for traffic that is no tenant's, so it is never starved by busy tenants. */
const OTHER_SHARE = 0.05;

/**
 * HTB's per-round byte allowance of a weight-1 class while classes borrow from the root: what they borrow is shared
 * in rounds of `quantum × weight` bytes. Measured in the lab (100 Mbit/s tree, 3 tenants, 2 busy, 4 connections
 * against 1): one frame (1,514) gave 40/60 and 63/37; 30,000 gave 45/55; 60,000 gave 48/52 and 51/49, weights 3:1
 * 73/27; 150,000 50/50 (docs/hub.md, "Tenant isolation"). Large rounds delay only borrowers: a tenant under its
 * guaranteed rate is served before any borrower.
 */
const QUANTUM_BYTES = 60_000;

/**
 * A class's bursts: what it may send at once, 2 ms of its rate (and of its ceiling), at least ten frames. tc's own
 * default on a kernel with high-resolution timers is about one frame, which HTB cannot refill fast enough at
 * gigabits: measured in the lab, a 4,750 Mbit/s tree held a lone download to 3,865 Mbit/s; with 2 ms, 4,456–4,484
 * (the payload of a full 4,750 Mbit/s line; 5,619–5,872 without a tree).
 */
function bursts(rateKbit: number, ceilKbit: number): string {
  const bytes = (kbit: number) => Math.max(15_140, Math.round(kbit / 4));
  return ` burst ${bytes(rateKbit)}b cburst ${bytes(ceilKbit)}b`;
}

/**
 * Each proxy's fair-share tree (tc -batch lines; run with -force so a leaf qdisc the kernel lacks fails alone): an HTB
 * root at the line rate, one class per tenant guaranteed its weighted share of the line and allowed to borrow up to
 * the whole line (or its ceiling) while others are idle, so a tenant alone gets everything and busy tenants split
 * by weight whatever their connection counts. Leaves are fq_codel where the kernel has it, pfifo otherwise.
 * HTB: https://man7.org/linux/man-pages/man8/tc-htb.8.html; classification: the `#nft: ` shape chain.
 */
export function fairShareTree(plan: EgressPlan): string[] {
  const line = plan.hub.proxy.lineRateMbps;
  if (line === undefined) return [];
  const dev = `dev ${TC_DEVICE}`;
  const lineKbit = line * 1000;
  const otherKbit = Math.max(1000, Math.round(lineKbit * OTHER_SHARE));
  const weights = plan.tenants.reduce((sum, t) => sum + t.limits.weight, 0);
  const leaf = (classId: string) => {
    const handle = `${classId.split(':')[1]}:`;
    // The first that the kernel has wins; the other then fails (its handle is taken) and is ignored.
    return [
      `qdisc add ${dev} parent ${classId} handle ${handle} fq_codel`,
      `qdisc add ${dev} parent ${classId} handle ${handle} pfifo limit 1000`,
    ];
  };
  const out = [
    // Rebuilt whole on every apply (the first line fails harmlessly where no tree exists yet): what is queued at that
    // moment is dropped, milliseconds of traffic that TCP resends.
    `qdisc del ${dev} root`,
    `qdisc add ${dev} root handle 1: htb default ${OTHER_CLASS_ID.split(':')[1]}`,
    `class add ${dev} parent 1: classid 1:1 htb rate ${lineKbit}kbit ceil ${lineKbit}kbit${bursts(lineKbit, lineKbit)} quantum ${QUANTUM_BYTES}`,
    `class add ${dev} parent 1:1 classid ${OTHER_CLASS_ID} htb rate ${otherKbit}kbit ceil ${lineKbit}kbit${bursts(otherKbit, lineKbit)} quantum ${QUANTUM_BYTES}`,
    ...leaf(OTHER_CLASS_ID),
  ];
  for (const t of plan.tenants) {
    const ceil = Math.min(lineKbit, Math.round((t.limits.bandwidthMbps ?? line) * 1000));
    const share = Math.max(8, Math.floor(((lineKbit - otherKbit) * t.limits.weight) / weights));
    const id = tenantClassId(t);
    out.push(
      `class add ${dev} parent 1:1 classid ${id} htb rate ${Math.min(share, ceil)}kbit ceil ${ceil}kbit${bursts(Math.min(share, ceil), ceil)} quantum ${QUANTUM_BYTES * t.limits.weight}`,
      ...leaf(id),
    );
  }
  return out;
}

/** squid.conf's own note on what each tenant gets of a proxy's bandwidth. */
function fairShareComment(plan: EgressPlan): string[] {
  const line = plan.hub.proxy.lineRateMbps;
  if (line === undefined) {
    return ['# fair share: off (hub.proxy.lineRateMbps is 0, or unknown for this instance type); no bandwidth ceilings apply'];
  }
  const ceilings = plan.tenants.filter((t) => t.limits.bandwidthMbps !== undefined);
  return [
    `# fair share: busy tenants split ${line} Mbit/s per proxy by weight; a tenant alone may use all of it`,
    ...(ceilings.length > 0
      ? [`# ceilings (Mbit/s per proxy): ${ceilings.map((t) => `${t.name} ${Math.min(line, t.limits.bandwidthMbps!)}`).join(', ')}`]
      : []),
  ];
}

export const fairShare: PolicyRule = {
  id: 'fair-share',
  kind: 'limit',
  enforcedBy: 'tc',
  auditable: false,
  logHost: 'none',
  render: {
    'limits.comment': ({ plan }) => fairShareComment(plan),
    // Every packet Squid sends from a tenant's port (its responses to that tenant's clients) goes to the tenant's HTB
    // class. skb->priority names the class directly: no tc filter, no Squid marks.
    'nft.hooks': ({ plan }) =>
      plan.hub.proxy.lineRateMbps === undefined
        ? []
        : [
            '  map tenant_classes {',
            '    type inet_service : classid',
            ...mapElements(plan.tenants.map((t) => `${t.port} : ${tenantClassId(t)}`)),
            '  }',
            '  chain shape {',
            '    type filter hook output priority filter; policy accept;',
            '    meta priority set tcp sport map @tenant_classes',
            '  }',
          ],
    tc: ({ plan }) => fairShareTree(plan),
  },
  provenBy: ['test/lab/fair-share.test.ts'],
  doc: {
    refuses: "more than the tenant's weighted share of a busy proxy's line rate, or its `limits.bandwidthMbps` (HTB)",
    notes: 'tc on its responses; off when `hub.proxy.lineRateMbps` is 0',
  },
};
