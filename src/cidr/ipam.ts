// ProjectIpamPool: an AWS VPC IPAM pool that new project VPCs draw their CIDR from, so the overlaps
// the hub works around stop growing. Blocks already in use inside the pool (from `egresshub cidr report`)
// are reserved as allocations, so IPAM never hands them out again.
import { Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ram from 'aws-cdk-lib/aws-ram';
import { Construct } from 'constructs';
import { UsageError } from '../config/errors';
import { parseBlock, relation, VPC_PREFIX, type Block } from './block';

/** What `ProjectIpamPool` builds: the pool's block, the project VPC size, the blocks to keep out, who may use it. */
export interface ProjectIpamPoolProps {
  /** The IPv4 block the pool hands out, e.g. `10.64.0.0/12`. */
  readonly cidr: string;
  /**
   * Prefix length of a project VPC when the VPC does not ask for one.
   * @default ProjectIpamPool.DEFAULT_NETMASK_LENGTH (20)
   */
  readonly netmaskLength?: number;
  /**
   * Smallest and largest prefix length a VPC may ask for.
   * @default - only `netmaskLength`: every project gets the same size
   */
  readonly allowedNetmaskLengths?: { readonly min: number; readonly max: number };
  /**
   * Blocks inside the pool already used by existing VPCs (or the hub): reserved so they are never allocated.
   * Blocks outside the pool are rejected, since they could never collide with an allocation.
   * @default - none
   */
  readonly reserved?: readonly string[];
  /**
   * An existing IPAM private scope to create the pool in.
   * @default - a new IPAM (Advanced Tier) operating in this stack's region, and its default private scope
   */
  readonly ipamScopeId?: string;
  /**
   * Let IPAM import the VPCs it discovers inside the pool as allocations. Whether an imported VPC may
   * coincide with a `reserved` allocation is not documented (UNCONFIRMED), so reserve or import, not both.
   * @default false
   */
  readonly autoImport?: boolean;
  /**
   * Accounts, OU or organization ARNs that may allocate from the pool (AWS RAM share).
   * @default - not shared: only this account's VPCs can use the pool
   */
  readonly shareWith?: readonly string[];
}

/** A `ProjectIpamPool` prop AWS IPAM would refuse at deploy (a block outside the pool, a bad prefix length). */
export class IpamPoolError extends UsageError {}

/**
 * An AWS VPC IPAM pool (private scope, IPv4) that new project VPCs draw their CIDR block from, with the blocks
 * already in use reserved, optionally shared over AWS RAM (docs/cidr.md, "Optional: an IPAM pool for new
 * project VPCs").
 */
export class ProjectIpamPool extends Construct {
  /** Prefix length of a project VPC that does not ask for one. */
  static readonly DEFAULT_NETMASK_LENGTH = 20;
  /** A project VPC's subnets default to 1/16 of the VPC (a /20 VPC gets /24 subnets). */
  static readonly DEFAULT_SUBNET_EXTRA_BITS = 4;
  /**
   * Private-scope pools need IPAM's Advanced Tier (switching back to the Free Tier requires deleting them):
   * https://docs.aws.amazon.com/vpc/latest/ipam/mod-ipam.html
   */
  static readonly IPAM_TIER = 'advanced';

  /** The IPAM, when this construct created one. */
  readonly ipam?: ec2.CfnIPAM;
  readonly pool: ec2.CfnIPAMPool;
  readonly ipamPoolId: string;
  readonly allocations: readonly ec2.CfnIPAMAllocation[];
  readonly share?: ram.CfnResourceShare;

  constructor(scope: Construct, id: string, props: ProjectIpamPoolProps) {
    super(scope, id);
    const netmask = props.netmaskLength ?? ProjectIpamPool.DEFAULT_NETMASK_LENGTH;
    const allowed = props.allowedNetmaskLengths ?? { min: netmask, max: netmask };
    const reserved = props.reserved ?? [];
    const region = Stack.of(this).region;

    const pool = Token.isUnresolved(props.cidr) ? undefined : this.validatePool(props.cidr, netmask, allowed);
    const reservedBlocks = reserved.map((c) => (Token.isUnresolved(c) || !pool ? undefined : this.validateReserved(c, pool)));

    let scopeId = props.ipamScopeId;
    if (!scopeId) {
      this.ipam = new ec2.CfnIPAM(this, 'Ipam', {
        description: 'egresshub: address plan for project VPCs',
        tier: ProjectIpamPool.IPAM_TIER,
        operatingRegions: [{ regionName: region }],
      });
      scopeId = this.ipam.attrPrivateDefaultScopeId;
    }
    this.pool = new ec2.CfnIPAMPool(this, 'Resource', {
      addressFamily: 'ipv4',
      ipamScopeId: scopeId,
      locale: region,
      description: 'egresshub: CIDR blocks for new project VPCs',
      provisionedCidrs: [{ cidr: pool?.cidr ?? props.cidr }],
      allocationDefaultNetmaskLength: netmask,
      allocationMinNetmaskLength: allowed.min,
      allocationMaxNetmaskLength: allowed.max,
      autoImport: props.autoImport ?? false,
    });
    this.ipamPoolId = this.pool.attrIpamPoolId;
    this.allocations = reserved.map(
      (c, i) =>
        new ec2.CfnIPAMAllocation(this, `Reserved${i}`, {
          ipamPoolId: this.ipamPoolId,
          cidr: reservedBlocks[i]?.cidr ?? c,
          description: 'egresshub: in use by an existing VPC',
        }),
    );
    if (props.shareWith && props.shareWith.length > 0) {
      this.share = new ram.CfnResourceShare(this, 'Share', {
        name: `${Stack.of(this).stackName}-project-vpc-pool`,
        resourceArns: [this.pool.attrArn],
        principals: [...props.shareWith],
        allowExternalPrincipals: false,
      });
    }
  }

  /**
   * What a project VPC in this account passes as `ipAddresses` to draw its block from the pool. The VPC's
   * CIDR is only known at deploy time, so `ec2.Vpc` needs the subnet size up front.
   * @param netmaskLength the VPC's prefix length (default: the pool's default)
   * @param subnetNetmaskLength each subnet's prefix length (default: 4 bits longer than the VPC: 16 subnets)
   */
  ipAddresses(netmaskLength?: number, subnetNetmaskLength?: number): ec2.IIpAddresses {
    const vpcMask = netmaskLength ?? this.pool.allocationDefaultNetmaskLength ?? ProjectIpamPool.DEFAULT_NETMASK_LENGTH;
    return ec2.IpAddresses.awsIpamAllocation({
      ipv4IpamPoolId: this.ipamPoolId,
      ipv4NetmaskLength: vpcMask,
      defaultSubnetIpv4NetmaskLength: subnetNetmaskLength ?? vpcMask + ProjectIpamPool.DEFAULT_SUBNET_EXTRA_BITS,
    });
  }

  private validatePool(cidr: string, netmask: number, allowed: { min: number; max: number }): Block {
    const p = parseBlock(cidr);
    if (!p.ok) throw new IpamPoolError(`IPAM pool: "${cidr}": ${p.reason}; give the pool as a CIDR block such as 10.64.0.0/12`);
    if (p.block.version !== 4) {
      throw new IpamPoolError(
        `IPAM pool: "${cidr}" is IPv6; this pool hands out private IPv4 blocks (Amazon-provided IPv6 blocks never overlap)`,
      );
    }
    const { min, max } = VPC_PREFIX[4];
    for (const [name, v] of [
      ['netmaskLength', netmask],
      ['allowedNetmaskLengths.min', allowed.min],
      ['allowedNetmaskLengths.max', allowed.max],
    ] as const) {
      if (!Number.isInteger(v) || v < Math.max(min, p.block.prefix) || v > max) {
        throw new IpamPoolError(
          `IPAM pool ${p.block.cidr}: ${name} must be a VPC size between /${Math.max(min, p.block.prefix)} and /${max} (got ${v})`,
        );
      }
    }
    if (allowed.min > netmask || netmask > allowed.max) {
      throw new IpamPoolError(
        `IPAM pool ${p.block.cidr}: netmaskLength /${netmask} lies outside allowedNetmaskLengths /${allowed.min}–/${allowed.max}; widen the range or change netmaskLength`,
      );
    }
    return p.block;
  }

  private validateReserved(cidr: string, pool: Block): Block {
    const p = parseBlock(cidr);
    if (!p.ok) throw new IpamPoolError(`IPAM pool ${pool.cidr}: reserved block "${cidr}": ${p.reason}`);
    const rel = relation(pool, p.block);
    if (rel !== 'contains' && rel !== 'identical') {
      throw new IpamPoolError(
        `IPAM pool ${pool.cidr}: reserved block ${p.block.cidr} is not inside the pool${rel === 'within' ? ' (it contains the whole pool)' : ''}; list only blocks in use inside the pool`,
      );
    }
    return p.block;
  }
}
