// Config changes around tenants and spokes: what `egresshub diff` says a deploy replaces (cases.ts).
import { expect } from 'vitest';
import { changesIn, describeCases } from './run-cases';

describeCases('tenants', {
  'add a domain to a tenant’s `allow`': (d) => {
    // Only the hub's proxies carry the policy: tenant stacks and spokes do not change at all.
    expect(d.stacks.filter((s) => s.id !== 'Hub').map((s) => [s.id, s.status])).toEqual(
      d.stacks.filter((s) => s.id !== 'Hub').map((s) => [s.id, 'unchanged']),
    );
  },
  'add a tenant': (d) => {
    expect(d.counts.replace + d.counts['may-replace']).toBe(0);
    // The listener/gateway rules are named after the port range they cover: the new range's rules are
    // created, then the old ones deleted (CloudFormation deletes in its cleanup phase, after the update).
    const removed = d.stacks.flatMap((s) => s.resources).filter((r) => r.impact === 'remove');
    for (const r of removed) expect(r.type).toMatch(/^AWS::EC2::SecurityGroup(Ingress|Egress)$/);
    const added = changesIn(d, 'Tenants-').filter((r) => r.impact === 'add');
    expect(added.map((r) => r.type).sort()).toEqual(['AWS::RAM::ResourceShare', 'AWS::VpcLattice::ResourceConfiguration']);
  },
  'add a spoke': (d) => {
    expect(d.stacks.filter((s) => s.status !== 'unchanged').map((s) => s.status)).toEqual(['added']);
  },
  'add an account to a tenant’s `accounts`': (d) => {
    expect(changesIn(d, 'Tenants-').map((r) => [r.type, r.impact, r.changed])).toEqual([
      ['AWS::RAM::ResourceShare', 'update', ['Principals']],
    ]);
    expect(d.stacks.filter((s) => s.status !== 'unchanged').map((s) => s.id)).toEqual(['Tenants-3200']);
  },
  'remove a tenant (and its spoke)': (d) => {
    const gone = d.stacks.find((s) => s.status === 'removed');
    expect(gone?.stackName).toBe('egresshub-spoke-project-b-vpc-0b1c2d3e4f5a60719');
  },
  'change `dns.domain`': (d) => {
    for (const r of d.replacedProtected.filter((x) => x.type === 'AWS::VpcLattice::ResourceConfiguration')) {
      expect(r.replacedBy).toEqual(['CustomDomainName']);
    }
    // Both the same-account spoke (a cross-stack reference) and the cross-account one (a parameter the
    // operator copies) follow the new ARN.
    for (const r of d.replacedProtected.filter((x) => x.type === 'AWS::EC2::VPCEndpoint')) {
      expect(r.replacedBy).toContain('ResourceConfigurationArn');
    }
  },
  'change `name`': (d) => {
    expect(d.stacks.filter((s) => s.status !== 'renamed')).toEqual([]);
  },
});
