// Policy changes without replacing proxies. squid.conf is an S3 object named by an SSM parameter (what a booting
// proxy reads), and an SSM State Manager association runs the "apply policy" command on every proxy of the hub,
// one instance at a time, stopping at the first failure. A changed policy is a new object, so a changed
// association parameter, and State Manager runs an updated association at once:
// "By default, when you update an association, the system runs it immediately after it is updated"
// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_UpdateAssociation.html, ApplyOnlyAtCronInterval).
// The apply script swaps the policy in place with `squid -k reconfigure` (same master process, open connections
// kept), after draining the proxy where the fleet mode has somewhere else to send new connections.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack, Stage, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { UsageError } from '../config/errors';
import { fleetMode, type DrainKind } from '../config/fleet-modes';
import { failoverNameOf, type EgressPlan } from '../config/plan';
import { LOG_DAEMON_PATH, LOG_DAEMON_SOURCE, renderSquidConf } from '../policy';
import { readFileSync } from 'node:fs';
import { PROXY_HEALTHY } from './health-probe';
import {
  APPLY_FAIR_SHARE,
  APPLY_TENANT_LIMITS,
  ENSURE_TLS_PEEK,
  FETCH_POLICY,
  INSTALL_PROXY_FILES,
  PORT_FUNCTIONS,
  PROXY_PATHS,
  SQUID_PARSE_CHECK,
  type ProxyPaths,
} from './user-data';
import { shellAssignments, shellLibrary } from './scripts';

/**
 * How a proxy stops taking new connections while Squid reconfigures:
 * - `none`: not at all (one proxy: nothing to fail over to). Squid 5.7 refuses about 0.3–0.6 % of new
 *   connections for about a second while it reopens its listeners (test/lab/reconfigure.test.ts, docs/policy.md);
 * - `health`: the drain file turns the proxy's health metric to 0, so its alarm and Route 53 health check withdraw
 *   its failover record (multi-az); the script waits until the failover name no longer answers this proxy, and
 *   after the reconfigure until it answers it again. A proxy the name does not answer is not drained at all;
 * - `nlb`: deregister the instance from its Auto Scaling group's target groups (those with another healthy target),
 *   wait for the deregistration to finish, reconfigure, register it back.
 */
export type DrainMode = DrainKind;

/**
 * The policy object: squid.conf, then what the proxies install from it (install_proxy_files) as comment lines Squid
 * ignores: the access-log daemon (`#logd: `, src/policy/logd.py), which squid.conf names and `squid -k parse` insists
 * on, and the CloudWatch agent's config (`#cwagent: `). Boot and rollout both read the one object, so the daemon is in
 * place before Squid starts and a changed agent config reaches running proxies without replacing them; neither grows
 * the user data.
 */
export function policyObjectText(squidConf: string, agentConfig?: string): string {
  const daemon = readFileSync(LOG_DAEMON_SOURCE, 'utf8').replace(/\n$/, '');
  return [
    squidConf.replace(/\n$/, ''),
    '',
    `# --- proxy files (install_proxy_files): the log daemon for ${LOG_DAEMON_PATH}${agentConfig ? ` and the CloudWatch agent's config` : ''}`,
    ...(agentConfig ? [`#cwagent: ${JSON.stringify(JSON.parse(agentConfig))}`] : []),
    ...daemon.split('\n').map((l) => (l ? `#logd: ${l}` : '#logd:')),
    '',
  ].join('\n');
}

/** Writes squid.conf next to the cloud assembly and makes it a CDK asset. */
export function squidConfAsset(scope: Construct, conf: string, id = 'SquidConf'): s3assets.Asset {
  // Written into the cloud assembly's own directory (not a shared /tmp): it is the build's output anyway,
  // nothing is left behind elsewhere, and no other user can swap the policy before the CDK stages it.
  // The asset hash is of the content; the file name only has to be unique per construct.
  const outdir = Stage.of(scope)?.outdir ?? mkdtempSync(join(tmpdir(), 'egresshub-squid-'));
  mkdirSync(outdir, { recursive: true });
  const file = join(outdir, `egresshub-squid-${scope.node.addr}.conf`);
  writeFileSync(file, conf, { mode: 0o600 });
  return new s3assets.Asset(scope, id, { path: file });
}

/** What the apply script does around a reconfigure: how the proxy drains first, and where it finds Squid's files. */
export interface PolicyApplyOptions {
  /** How a proxy drains before it reconfigures (the fleet mode's). */
  readonly drain: DrainMode;
  /** health: the file whose presence makes proxy_healthy fail (plan.hub.proxyHealth.drainFile). @default - none */
  readonly drainFile?: string;
  /**
   * health: the failover name the resource configurations target. The drain waits only while it answers this
   * proxy's listener IP; a proxy it does not answer carries no new connections.
   * @default - no name: wait maxDrainSeconds
   */
  readonly failoverName?: { readonly name: string; readonly ttlSeconds: number };
  /** health: the longest the drain waits for the name to withdraw this proxy. @default ProxyPolicy.defaultMaxDrainSeconds */
  readonly maxDrainSeconds?: number;
  /** Seconds to wait for every http_port to listen after reconfigure. @default 30 */
  readonly listenSeconds?: number;
  /**
   * Seconds a run on an instance whose boot script has not finished waits for it before it gives up (exit 0: the
   * boot installs the current policy), so a new proxy's first run still loads the fair-share tree.
   * @default 600
   */
  readonly bootWaitSeconds?: number;
  /** Where Squid's files are on the proxy. @default PROXY_PATHS */
  readonly paths?: ProxyPaths;
}

/** The apply script's own marker in its output, so `list-command-invocations` output is easy to scan. */
export const APPLY_TAG = 'egresshub-policy:';

/**
 * The "apply policy" script (bash). It expects POLICY_OBJECT (`s3://bucket/key`) to be set and the boot script's
 * env file (REGION, INSTANCE_ID, LISTENER_IP) to exist; exit 0 = applied or nothing to do, 1 = not applied (the
 * running policy is unchanged or restored).
 */
export function renderPolicyApply(opts: PolicyApplyOptions): string {
  const paths = opts.paths ?? PROXY_PATHS;
  return [
    'set -euo pipefail',
    `say() { echo "${APPLY_TAG} $*"; }`,
    // The parameters, as KEY='value' lines; the script text below is the same for every hub.
    shellAssignments({
      CONF: paths.squidConf,
      STATE: paths.stateDir,
      BOOTSTRAPPED: paths.bootstrapped,
      ENV_FILE: paths.env,
      PEEK_CERT: paths.peekCert,
      SQUID_GROUP: paths.squidGroup,
      SYSCTL_FILE: paths.sysctl,
      LISTEN_SECONDS: opts.listenSeconds ?? 30,
      BOOT_WAIT_SECONDS: opts.bootWaitSeconds ?? 600,
      LOG_DAEMON: paths.logDaemon,
      CWAGENT_CONFIG_FILE: paths.agentConfig,
      CWAGENT_CTL: '/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl',
      ...drainParameters(opts),
    }),
    SQUID_PARSE_CHECK,
    ENSURE_TLS_PEEK,
    APPLY_TENANT_LIMITS,
    APPLY_FAIR_SHARE,
    PORT_FUNCTIONS,
    FETCH_POLICY,
    INSTALL_PROXY_FILES,
    PROXY_HEALTHY,
    shellLibrary(`drain-${opts.drain}`),
    shellLibrary('policy-apply'),
    'policy_apply',
    '',
  ].join('\n');
}

/** The drain library's parameters for the fleet mode (src/hub/scripts/drain-<mode>.sh). */
function drainParameters(opts: PolicyApplyOptions): Record<string, string | number> {
  if (opts.drain !== 'health') return {};
  if (!opts.drainFile) throw new PolicyRolloutError('the health drain needs drainFile (plan.hub.proxyHealth.drainFile)');
  const ttl = opts.failoverName?.ttlSeconds ?? 10;
  return {
    DRAIN_FILE: opts.drainFile,
    FAILOVER_NAME: opts.failoverName?.name ?? '',
    MAX_DRAIN_SECONDS: opts.maxDrainSeconds ?? ProxyPolicy.defaultMaxDrainSeconds(20, ttl),
    SETTLE_SECONDS: ttl + 5,
  };
}

/**
 * The document's one command: runs the script under bash whatever shell the SSM agent uses, with SSM's
 * `{{ policyObject }}` substituted into it (the parameter's allowedPattern keeps quotes out).
 */
export function renderApplyCommand(opts: PolicyApplyOptions): string {
  return [
    `/bin/bash -c "$(cat <<'EGRESSHUB_APPLY'`,
    `POLICY_OBJECT='{{ policyObject }}'`,
    renderPolicyApply(opts).trimEnd(),
    'EGRESSHUB_APPLY',
    ')"',
  ].join('\n');
}

/** What an `s3://bucket/key` of a CDK asset looks like; nothing else is accepted as a policy object. */
export const POLICY_OBJECT_PATTERN = '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9_./-]{1,1024}$';

/** Properties of {@link ProxyPolicy}. */
export interface ProxyPolicyProps {
  /** The squid.conf every proxy of the hub runs. */
  readonly squidConf: string;
  /**
   * The CloudWatch agent's JSON config, which travels in the policy object (policyObjectText).
   * @default - none: the proxies run no agent
   */
  readonly agentConfig?: string;
  /** How a proxy drains before it reconfigures. @default 'none' */
  readonly drain?: DrainMode;
  /** health drain: see PolicyApplyOptions. @default - none */
  readonly drainFile?: string;
  /** health drain: the failover name the drain watches (see PolicyApplyOptions). @default - no name: wait maxDrainSeconds */
  readonly failoverName?: { readonly name: string; readonly ttlSeconds: number };
  /** health drain: the longest the drain waits. @default ProxyPolicy.defaultMaxDrainSeconds */
  readonly maxDrainSeconds?: number;
  /**
   * Name of the State Manager association (unique per account and Region).
   * @default - generated by CloudFormation
   */
  readonly associationName?: string;
  /**
   * Name of the SSM parameter holding the policy object's URI.
   * @default - generated by CloudFormation
   */
  readonly parameterName?: string;
  /**
   * How often the association also runs on its own: a no-op while the proxy runs the current policy, and the
   * repair for one that missed an update. State Manager's rate expressions start at 30 minutes.
   * @default 'rate(30 minutes)'
   */
  readonly scheduleExpression?: string;
}

/**
 * The hub's proxy policy and its rollout: one per hub, shared by every proxy fleet of the hub. Fleets tag their
 * instances with `instanceTag` (the association's target) and call `grantRead(role)`.
 */
export class ProxyPolicy extends Construct {
  static readonly DEFAULT_SCHEDULE = 'rate(30 minutes)';

  /**
   * The longest a `health` drain waits for the failover name to withdraw a proxy: the health metric's interval
   * (the drain file is seen at the next probe) + 60 s (Route 53 reads only standard-resolution alarms, so the
   * alarm period is at least a minute) + 60 s (CloudWatch evaluates alarms once a minute, so the datapoint can
   * wait one more evaluation) + 30 s (Route 53 picking up the alarm state: no AWS page gives a figure,
   * UNCONFIRMED) + the record's TTL. 180 s with the plan's 20 s interval and 10 s TTL.
   * https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/health-checks-creating-values.html (CloudWatch alarm health checks)
   */
  static defaultMaxDrainSeconds(intervalSeconds: number, ttlSeconds: number): number {
    return intervalSeconds + 60 + 60 + 30 + ttlSeconds;
  }

  /** The policy for `plan`: drain mode from the fleet mode (its descriptor's `drain`). */
  static fromPlan(scope: Construct, id: string, plan: EgressPlan, squidConf = renderSquidConf(plan), agentConfig?: string): ProxyPolicy {
    const { proxy, proxyHealth } = plan.hub;
    const drain: DrainMode = fleetMode(proxy.mode).drain;
    const failoverName = failoverNameOf(proxy);
    return new ProxyPolicy(scope, id, {
      squidConf,
      agentConfig,
      drain,
      drainFile: proxyHealth.drainFile,
      failoverName: failoverName && { name: failoverName.name, ttlSeconds: failoverName.ttlSeconds },
      maxDrainSeconds: failoverName ? ProxyPolicy.defaultMaxDrainSeconds(proxyHealth.intervalSeconds, failoverName.ttlSeconds) : undefined,
      associationName: `${plan.name}-proxy-policy`,
      parameterName: `/egresshub/${plan.name}/proxy-policy`,
    });
  }

  readonly drain: DrainMode;
  /** squid.conf in the CDK asset bucket; a changed policy is a new object key. */
  readonly asset: s3assets.Asset;
  /** `s3://bucket/key` of the current policy. */
  readonly policyObject: string;
  /** Holds policyObject: what a booting proxy reads. */
  readonly parameter: ssm.StringParameter;
  readonly document: ssm.CfnDocument;
  readonly association: ssm.CfnAssociation;
  /** Put this tag on every proxy instance of the hub (ASG tag, propagated at launch): the association's target. */
  readonly instanceTag: { readonly key: string; readonly value: string };

  constructor(scope: Construct, id: string, props: ProxyPolicyProps) {
    super(scope, id);
    this.drain = props.drain ?? 'none';
    const stack = Stack.of(this);
    this.instanceTag = { key: 'egresshub:policy', value: this.node.path };

    this.asset = squidConfAsset(this, policyObjectText(props.squidConf, props.agentConfig));
    this.policyObject = `s3://${this.asset.s3BucketName}/${this.asset.s3ObjectKey}`;
    this.parameter = new ssm.StringParameter(this, 'Parameter', {
      parameterName: props.parameterName,
      stringValue: this.policyObject,
      description: 'egresshub: s3:// URI of the squid.conf proxies boot with (the policy rollout applies it to running proxies)',
    });

    const applyOptions: PolicyApplyOptions = {
      drain: this.drain,
      drainFile: props.drainFile,
      failoverName: props.failoverName,
      maxDrainSeconds: props.maxDrainSeconds,
    };
    // No name: CloudFormation generates one, and a changed script replaces the document (a named document could
    // not be replaced in place). The association follows the new name in the same update.
    this.document = new ssm.CfnDocument(this, 'ApplyDocument', {
      documentType: 'Command',
      content: {
        schemaVersion: '2.2',
        description: 'egresshub: apply the proxy policy (squid.conf) with squid -k reconfigure, draining the proxy first',
        parameters: {
          policyObject: {
            type: 'String',
            description: 's3:// URI of the squid.conf to apply',
            allowedPattern: POLICY_OBJECT_PATTERN,
          },
        },
        mainSteps: [
          {
            action: 'aws:runShellScript',
            name: 'applyPolicy',
            // Longest path: health drain (maxDrainSeconds) + listen wait + restore; well within 30 minutes.
            inputs: { timeoutSeconds: '1800', runCommand: [renderApplyCommand(applyOptions)] },
          },
        ],
      },
    });

    // One instance at a time and stop at the first failure: a policy that breaks one proxy reaches no other.
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-state-manager-targets-and-rate-controls.html
    this.association = new ssm.CfnAssociation(this, 'Association', {
      name: this.document.ref,
      associationName: props.associationName,
      targets: [{ key: `tag:${this.instanceTag.key}`, values: [this.instanceTag.value] }],
      parameters: { policyObject: [this.policyObject] },
      maxConcurrency: '1',
      maxErrors: '0',
      scheduleExpression: props.scheduleExpression ?? ProxyPolicy.DEFAULT_SCHEDULE,
      complianceSeverity: 'HIGH',
    });
    // The association's run reads nothing from the parameter, but a proxy booting meanwhile does: were the
    // association updated first, that proxy could read the old value, boot with the old policy and skip the run.
    this.association.node.addDependency(this.parameter);
    void stack;
  }

  /**
   * Lets `role` read the policy (the parameter and the object) and orders the association after the role's
   * policies, so a rollout never runs before the proxies may read the new object.
   */
  grantRead(role: iam.IRole): void {
    this.parameter.grantRead(role);
    // The exact object only (the asset bucket holds every asset of the account and Region).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadProxyPolicy',
        actions: ['s3:GetObject'],
        resources: [this.asset.bucket.arnForObjects(this.asset.s3ObjectKey)],
      }),
    );
    this.association.node.addDependency(role);
  }

  /**
   * nlb drain: lets `role` find its group's target groups and deregister/register itself on `targetGroupArns`.
   */
  grantNlbDrain(role: iam.Role, targetGroupArns: readonly string[]): void {
    if (targetGroupArns.length === 0) return;
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DrainFromTargetGroups',
        actions: ['elasticloadbalancing:DeregisterTargets', 'elasticloadbalancing:RegisterTargets'],
        resources: [...targetGroupArns],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'FindTargetGroups',
        actions: [
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeAutoScalingGroups',
          'elasticloadbalancing:DescribeTargetHealth',
        ],
        resources: ['*'],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Describe* calls on Auto Scaling and target health support no resource-level permissions (read-only)',
    });
  }
}

/** A ProxyPolicy given props it cannot build (exit code 2). */
export class PolicyRolloutError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'PolicyRolloutError';
  }
}
