// The resources whose replacement hurts users: consumers hold their IDs, ARNs, names or addresses
// (an endpoint, an allowlisted IP), so a new physical resource breaks them until they follow.
import type { CfnResource } from './snapshot';

export interface ProtectedKind {
  readonly type: string;
  /** What users lose when it is replaced, in a few words. */
  readonly why: string;
  /** Narrows the type to the resources that matter (e.g. Resource endpoints, not the S3 gateway endpoint). */
  readonly applies?: (resource: CfnResource) => boolean;
}

export const PROTECTED_KINDS: readonly ProtectedKind[] = [
  {
    type: 'AWS::VpcLattice::ResourceGateway',
    why: "the hub's resource gateway: replacing it replaces every resource configuration and breaks every spoke endpoint",
  },
  {
    type: 'AWS::VpcLattice::ResourceConfiguration',
    why: "a tenant's resource configuration: its ARN is in every spoke endpoint and RAM share of the tenant",
  },
  {
    type: 'AWS::EC2::VPCEndpoint',
    why: 'a spoke resource endpoint: servers reach the proxy through it; a new one is a new ENI and DNS name',
    applies: (r) => r.Properties?.VpcEndpointType === 'Resource',
  },
  {
    type: 'AWS::RAM::ResourceShare',
    why: "a tenant's RAM share: a new share must be accepted again outside an AWS Organization",
  },
  {
    type: 'AWS::EC2::NetworkInterface',
    why: "a proxy's fixed ENI: its private IP is what the resource configurations (or failover records) point at",
  },
  {
    type: 'AWS::EC2::EIP',
    why: 'a static egress IP (NAT gateway or proxy): partners allowlist it',
  },
  { type: 'AWS::EC2::VPC', why: 'the hub VPC: everything in it is replaced with it' },
  { type: 'AWS::EC2::Subnet', why: 'a hub subnet: the gateway, proxies and NAT gateways live in it' },
];

/** Why users care about this resource, or undefined when its replacement is routine. */
export function protectedReason(resource: CfnResource | undefined): string | undefined {
  if (!resource) return undefined;
  const kind = PROTECTED_KINDS.find((k) => k.type === resource.Type && (k.applies?.(resource) ?? true));
  return kind?.why;
}
