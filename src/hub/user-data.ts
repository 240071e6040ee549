// The proxy's boot script (src/hub/scripts/proxy-boot.sh and the libraries beside it): installs Squid, claims the
// fleet's fixed ENI (or Elastic IP), downloads the current policy named by an SSM parameter, checks it with
// `squid -k parse` and only then tells CloudFormation the instance is good (cfn-signal), so a broken proxy fails the
// deploy; one that fails to boot outside a deploy marks itself Unhealthy, so that its group replaces it (give_up).
// The script names no policy, no port and no tenant: a policy change never changes the user data (so never replaces
// a proxy; policy-rollout.ts applies it).
import { UsageError } from '../config/errors';
import type { HubPlan } from '../config/plan';
import { LOG_DAEMON_PATH } from '../policy/log-daemon';
import { PEEK_CERT_FILE } from '../policy/squid-conf';
import { shellAssignments, shellLibrary } from './scripts';
import { EGRESS_OK, PROXY_HEALTHY } from './health-probe';

/**
 * EC2 limits user data to 16 KB in raw form, before base64 encoding.
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-add-user-data.html
 */
export const MAX_USER_DATA_BYTES = 16 * 1024;
/**
 * Room kept for the deploy-time values (stack name up to 128 characters, region, ENI ID, IP, logical
 * ID) that are still CloudFormation tokens when the size is checked at synth time.
 */
export const TOKEN_ALLOWANCE_BYTES = 512;

/**
 * Shell function: `squid -k parse` plus a scan of its output, because Squid reports some errors (an
 * http_access line it cannot read, for one) and still exits 0 — seen with Squid 5.7.
 */
export const SQUID_PARSE_CHECK = shellLibrary('squid-parse-ok');

/**
 * Shell function `apply_tenant_limits CONF [-c]`: loads the tenants' connection limits that squid.conf carries as
 * `#nft: ` lines (squid-conf.ts, tenantLimitsRuleset) as one atomic nftables script; `-c` only checks them. A
 * policy without such lines (an older release's) changes nothing.
 */
export const APPLY_TENANT_LIMITS = shellLibrary('tenant-limits');

/**
 * Shell functions `apply_fair_share CONF [--ensure]` (loads the tenants' fair-share tree that squid.conf carries as
 * `#tc: ` lines, failing open) and `keep_inert_delay_pool RUNNING CANDIDATE` (the Squid 5 delay-pool stall on
 * upgrade). Only the policy apply document runs them, not the boot script: a proxy gets its tree from the apply
 * document's first run, so a release that adds fair sharing changes no user data and replaces no proxy.
 */
export const APPLY_FAIR_SHARE = shellLibrary('fair-share');

/**
 * Shell function `ensure_tls_peek CERT GROUP`: the proxy's TLS checks need a Squid built with OpenSSL (Debian's
 * `squid` uses GnuTLS and cannot peek; Debian's `squid-openssl` and, by its `squid -v`, the distribution build of
 * Amazon Linux 2023 are checked at boot rather than assumed), and an `ssl-bump` port needs a certificate even
 * though nothing is ever bumped. Fails with one clear line when Squid cannot peek. Makes CERT once per host: a
 * self-signed P-256 key and certificate in one file, readable by root and GROUP (Squid's user) only. It is never
 * presented to a client (every tunnel is spliced or closed), never copied off the host, and its key is never printed.
 */
export const ENSURE_TLS_PEEK = shellLibrary('ensure-tls-peek');

/**
 * Where the proxy keeps its files. The boot script and the policy apply script (policy-rollout.ts) share them;
 * tests render the scripts with other paths.
 */
export interface ProxyPaths {
  /** The squid.conf Squid runs. */
  readonly squidConf: string;
  /** The boot script's facts for later scripts (REGION, INSTANCE_ID, LISTENER_IP), `KEY='value'` lines. */
  readonly env: string;
  /** Written when the boot script has finished (just before its success signal). */
  readonly bootstrapped: string;
  /** Where the tenant ports are reserved from the ephemeral range across reboots. */
  readonly sysctl: string;
  /** Working directory of the apply script (candidate policy, backup, lock). */
  readonly stateDir: string;
  /**
   * The ssl-bump ports' throwaway certificate (ensure_tls_peek writes it when missing). Required, so that a script
   * run anywhere but an instance (the lab, tests) names its own and never writes the instance's PEEK_CERT_FILE.
   */
  readonly peekCert: string;
  /** The group Squid runs as, which may read peekCert ('squid' in Amazon Linux 2023's package). */
  readonly squidGroup: string;
  /** Where the access-log daemon is installed from the policy object (squid.conf's `logfile_daemon`). */
  readonly logDaemon: string;
  /** Where the CloudWatch agent's config is written from the policy object. */
  readonly agentConfig: string;
}

export const PROXY_PATHS: ProxyPaths = {
  squidConf: '/etc/squid/squid.conf',
  env: '/etc/egresshub/proxy.env',
  bootstrapped: '/var/lib/egresshub/bootstrapped',
  sysctl: '/etc/sysctl.d/90-egresshub.conf',
  stateDir: '/var/lib/egresshub',
  peekCert: PEEK_CERT_FILE,
  squidGroup: 'squid',
  logDaemon: LOG_DAEMON_PATH,
  agentConfig: '/etc/egresshub/cloudwatch-agent.json',
};

/**
 * Shell functions on squid.conf's listeners, so that no script needs the tenant ports baked in (the user data
 * must not change when the policy does):
 * - `squid_ports CONF`: the ports of its `http_port` lines (`[addr:]port`), sorted, one a line;
 * - `port_ranges`: ports on stdin as `3201-3203,40000` (the form ip_local_reserved_ports takes);
 * - `reserve_ports SYSCTL_FILE PORT...`: reserve them from the ephemeral range now and across reboots, so an
 *   outbound connection can never hold a tenant port and make Squid's (re)bind fail
 *   (https://docs.kernel.org/networking/ip-sysctl.html, ip_local_reserved_ports);
 * - `wait_listening SECONDS PORT...`: 0 once every port listens, 1 after SECONDS.
 */
/** `squid_ports CONF` alone (see PORT_FUNCTIONS), for scripts that only read the listeners. */
export const SQUID_PORTS = shellLibrary('squid-ports');

export const PORT_FUNCTIONS = `${SQUID_PORTS}
${shellLibrary('ports')}`;

/**
 * Shell function `fetch_policy REGION URI DEST`: copies the policy object (`s3://bucket/key`) to DEST, retrying
 * for a minute (IAM changes take a few seconds to apply, and the role's read grant on a new object is updated in
 * the same deploy as the object's name). Bounded; non-zero when it gives up.
 */
export const FETCH_POLICY = shellLibrary('fetch-policy');

/**
 * Shell function `claim_eni ENI INSTANCE REGION ATTEMPTS SLEEP`: attach the fixed ENI as device 1. A
 * predecessor may still hold it: ask it to let go, and force the detach only after six attempts (AWS
 * documents force as a last resort, for failed instances). Bounded; returns non-zero when it gives up.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachNetworkInterface.html
 */
export const CLAIM_ENI = shellLibrary('claim-eni');

/**
 * Shell function `fetch_current_policy DEST`: reads the policy parameter and copies the object it names to DEST,
 * setting POLICY to that object; retried for a minute (IAM changes take a few seconds to apply). Each attempt reads
 * the parameter again: the role may read only the current object, so an instance that booted during a policy
 * deploy and read the parameter just before it changed is denied the object it named until it asks again.
 * Bounded; non-zero when it gives up. Needs REGION and POLICY_PARAMETER.
 */
export const FETCH_CURRENT_POLICY = shellLibrary('fetch-current-policy');

/**
 * Shell function `give_up` (the boot script's ERR trap, after the failure signal): an instance whose boot failed
 * before Squid served is replaced. Outside a stack operation nobody reads cfn-signal, and the group's EC2 health
 * check sees a running instance, so without this it would stay InService with no Squid (and a fixed proxy would
 * keep its ENI). In order: hand back the fixed ENI if this instance holds it (its successor then attaches it at
 * once; claim_eni would otherwise force it after a minute); mark the instance Unhealthy, ignoring the group's grace
 * period, so the group terminates and replaces it at once
 * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/set-up-a-custom-health-check.html); should that call
 * fail, shut down: a stopped instance fails the EC2 health check ("checks that the instance is running",
 * https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-checks-overview.html). Once the boot is marked
 * finished Squid serves the policy it booted with: a later failure (applying a policy deployed during the boot)
 * leaves the instance in service. Once only. Needs REGION, ENI (empty: none), BOOTSTRAPPED, GAVE_UP, IID once known.
 */
export const GIVE_UP = shellLibrary('give-up');

export interface ProxyBootstrapProps {
  /**
   * The SSM parameter holding the policy object's `s3://bucket/key` (ProxyPolicy). The boot script reads the
   * current policy from it, so the script itself does not change when the policy does.
   */
  readonly policyParameter: string;
  /** Where cfn-signal reports to. */
  readonly stackName: string;
  readonly signalResource: string;
  readonly region: string;
  /**
   * The fixed ENI to attach as device 1; its primary IP is the resource configuration's target.
   * @default - no fixed ENI: Squid listens on the primary ENI (scaling fleets behind an NLB)
   */
  readonly networkInterface?: { readonly id: string; readonly ip: string };
  /**
   * An Elastic IP allocation the instance associates to itself first thing (public egress).
   * @default - none: egress through the subnet's NAT gateway
   */
  readonly elasticIpAllocationId?: string;
  /**
   * Publish the proxy's health (proxy_healthy on the first tenant port) to CloudWatch on a systemd timer.
   * @default - no health metric
   */
  readonly health?: ProxyHealthPublishing;
  /**
   * The unified CloudWatch agent's JSON config; the agent is installed and started with it. It travels in the policy
   * object (policyObjectText), not in the user data: the boot script only learns that there is one.
   * @default - no agent
   */
  readonly cloudWatchAgentConfig?: string;
  /**
   * Attempts to claim the ENI (10 s apart) before giving up and signalling failure.
   * @default 30
   */
  readonly attachAttempts?: number;
  /** @default PROXY_PATHS */
  readonly paths?: ProxyPaths;
}

/** The health metric a fixed proxy publishes (plan.hub.proxyHealth plus the proxy's id). */
export interface ProxyHealthPublishing {
  /** The value of the metric's dimension: the proxy's plan id (`ProxyA`). */
  readonly id: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimension: string;
  readonly intervalSeconds: number;
  readonly drainFile: string;
  /**
   * The health publisher (renderHealthPublisher) as an S3 object, `s3://bucket/key`: the boot script downloads it
   * rather than carry it (user data is limited to 16 KB).
   */
  readonly publisherObject: string;
}

export class UserDataTooLargeError extends UsageError {
  constructor(bytes: number) {
    super(
      `proxy user data would be about ${bytes} bytes, over EC2's ${MAX_USER_DATA_BYTES}-byte limit; ` +
        'shorten the stack, parameter or Elastic IP names (squid.conf and the CloudWatch agent configuration do not travel in user data)',
    );
    this.name = 'UserDataTooLargeError';
  }
}

/** Where the boot script installs the health publisher (its parameters: health.env beside ProxyPaths.env). */
export const HEALTH_SCRIPT = '/usr/local/sbin/egresshub-health';

/**
 * Where the boot and apply scripts write the CloudWatch agent's config from the policy object (beside the boot's
 * facts: the agent's own directory exists only once the agent is installed, after the policy is fetched).
 */
export const CLOUDWATCH_AGENT_CONFIG_FILE = PROXY_PATHS.agentConfig;

/** Shell function `install_proxy_files CONF LOG_DAEMON [AGENT_CONFIG_FILE]` (src/hub/scripts/proxy-files.sh). */
export const INSTALL_PROXY_FILES = shellLibrary('proxy-files');

/**
 * The boot script: `set -Eeuo pipefail`, its parameters as `KEY='value'` lines (deploy-time values, possibly CDK
 * tokens), the shell libraries it uses, then src/hub/scripts/proxy-boot.sh. No value is interpolated into script
 * text. It names the policy's parameter, never the policy: a policy change leaves it (and so the launch template
 * and the instances) untouched, and reaches running proxies through the policy rollout (policy-rollout.ts).
 */
export function renderProxyBootstrap(props: ProxyBootstrapProps): string {
  const paths = props.paths ?? PROXY_PATHS;
  const eni = props.networkInterface;
  const health = props.health;
  const script = [
    '#!/bin/bash',
    '# egresshub proxy bootstrap (generated from src/hub/scripts/proxy-boot.sh; see docs/hub.md)',
    // -E: the ERR trap also fires for a failure inside a function (squid_parse_ok, fetch_current_policy, …); without
    // it, errexit ends the script there without the failure signal, and CloudFormation waits out the signal timeout.
    'set -Eeuo pipefail',
    shellAssignments({
      STACK: props.stackName,
      RESOURCE: props.signalResource,
      REGION: props.region,
      POLICY_PARAMETER: props.policyParameter,
      CONF: paths.squidConf,
      ENV_FILE: paths.env,
      STATE: paths.stateDir,
      BOOTSTRAPPED: paths.bootstrapped,
      SIGNALLED: `${paths.stateDir}/signalled`,
      GAVE_UP: `${paths.stateDir}/gave-up`,
      SYSCTL_FILE: paths.sysctl,
      PEEK_CERT: paths.peekCert,
      SQUID_GROUP: paths.squidGroup,
      ENI: eni?.id ?? '',
      ENI_IP: eni?.ip ?? '',
      ...(eni && { ATTACH_ATTEMPTS: props.attachAttempts ?? 30 }),
      EIP_ALLOCATION: props.elasticIpAllocationId ?? '',
      HEALTH: health ? 'yes' : '',
      ...(health && {
        HEALTH_SCRIPT,
        HEALTH_PUBLISHER: health.publisherObject,
        HEALTH_INTERVAL: health.intervalSeconds,
        HEALTH_DRAIN_FILE: health.drainFile,
        HEALTH_NAMESPACE: health.namespace,
        HEALTH_METRIC: health.metricName,
        HEALTH_DIMENSION: `${health.dimension}=${health.id}`,
      }),
      LOG_DAEMON: paths.logDaemon,
      // The config itself comes with the policy (user data is limited to 16 KB, and a changed config then reaches
      // running proxies through the rollout instead of replacing them).
      CWAGENT_CONFIG_FILE: props.cloudWatchAgentConfig ? paths.agentConfig : '',
    }),
    GIVE_UP,
    ...(props.elasticIpAllocationId ? [shellLibrary('boot-elastic-ip')] : []),
    ...(eni ? [CLAIM_ENI, shellLibrary('boot-eni')] : []),
    SQUID_PARSE_CHECK,
    ENSURE_TLS_PEEK,
    APPLY_TENANT_LIMITS,
    PORT_FUNCTIONS,
    FETCH_CURRENT_POLICY,
    INSTALL_PROXY_FILES,
    ...(health ? [shellLibrary('boot-health')] : []),
    ...(props.cloudWatchAgentConfig ? [shellLibrary('boot-cloudwatch-agent')] : []),
    shellLibrary('proxy-boot'),
    'proxy_boot',
    '',
  ].join('\n');
  const bytes = Buffer.byteLength(script, 'utf8') + TOKEN_ALLOWANCE_BYTES;
  if (bytes > MAX_USER_DATA_BYTES) throw new UserDataTooLargeError(bytes);
  return script;
}

/** The egress check's parameters in the health publisher: the plan's own (plan.hub.proxyHealth.egress). */
export type EgressCheckSettings = HubPlan['proxyHealth']['egress'];

/**
 * The health publisher the boot script installs (HEALTH_SCRIPT, downloaded from HEALTH_PUBLISHER), run by a
 * systemd timer with its parameters file as argument: the egress check's parameters as `KEY='value'` lines (none:
 * no egress check; `nlbHealthPort`: a proxy behind the NLB, which refuses that port's health check when withdrawn
 * instead of publishing a health metric), then proxy_healthy, egress_ok, squid_ports and publish_health (src/hub/scripts/publish-health.sh).
 */
export function renderHealthPublisher(egress?: EgressCheckSettings, nlbHealthPort?: number): string {
  return [
    '#!/bin/bash',
    "# egresshub: publish this proxy's health to CloudWatch (installed by the boot script; docs/ha.md)",
    'set -uo pipefail',
    shellAssignments(
      egress
        ? {
            EGRESS_HOST: egress.host,
            EGRESS_PORT: egress.port,
            EGRESS_METRIC: egress.metricName,
            EGRESS_DIMENSION: `${egress.dimension}=${egress.dimensionValue}`,
            EGRESS_WINDOW: egress.windowSeconds,
            NLB_HEALTH_PORT: nlbHealthPort ?? '',
          }
        : { EGRESS_HOST: '', NLB_HEALTH_PORT: '' },
    ),
    PROXY_HEALTHY,
    EGRESS_OK,
    SQUID_PORTS,
    shellLibrary('publish-health'),
    'publish_health "$1"',
    '',
  ].join('\n');
}
