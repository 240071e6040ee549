// The proxy's boot script: installs Squid, claims the fleet's fixed ENI, writes the generated
// squid.conf (gzip+base64, so large allowlists still fit), checks it with `squid -k parse` and only
// then tells CloudFormation the instance is good (cfn-signal), so a broken proxy fails the deploy.
import { gzipSync } from 'node:zlib';
import { UsageError } from '../config/errors';
import { portRanges } from '../config/plan';

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
export const SQUID_PARSE_CHECK = `squid_parse_ok() {
  local out
  out=$(squid -k parse -f "$1" 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  # Squid echoes every config line ("Processing: …"); only its own diagnostics count. grep -c reads all of
  # its input: with -q it would stop early, the first grep would die of SIGPIPE, and under pipefail the
  # pipeline's failure would read as "no diagnostics".
  local diagnostics
  diagnostics=$(grep -v 'Processing: ' <<<"$out" | grep -Ec 'ERROR|FATAL|Bungled|unrecognized|aclParse' || true)
  [ "$diagnostics" = 0 ]
}`;

/**
 * Shell function `claim_eni ENI INSTANCE REGION ATTEMPTS SLEEP`: attach the fixed ENI as device 1. A
 * predecessor may still hold it: ask it to let go, and force the detach only after six attempts (AWS
 * documents force as a last resort, for failed instances). Bounded; returns non-zero when it gives up.
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DetachNetworkInterface.html
 */
export const CLAIM_ENI = `claim_eni() {
  local eni=$1 iid=$2 region=$3 attempts=$4 pause=$5 i status owner attachment
  for i in $(seq 1 "$attempts"); do
    # A failed call (throttling, IAM propagation) must not end the loop under set -e.
    read -r status owner attachment < <(aws ec2 describe-network-interfaces --region "$region" --network-interface-ids "$eni" \\
      --query 'NetworkInterfaces[0].[Status,Attachment.InstanceId,Attachment.AttachmentId]' --output text || echo 'unknown None None') || true
    if [ "$owner" = "$iid" ]; then return 0; fi
    if [ "$status" = available ]; then
      aws ec2 attach-network-interface --region "$region" --network-interface-id "$eni" --instance-id "$iid" --device-index 1 || true
    elif [ "$attachment" != None ] && [ "$i" -gt 6 ]; then
      aws ec2 detach-network-interface --region "$region" --attachment-id "$attachment" --force || true
    elif [ "$attachment" != None ]; then
      aws ec2 detach-network-interface --region "$region" --attachment-id "$attachment" || true
    fi
    sleep "$pause"
  done
  echo "could not attach $eni after $attempts attempts" >&2
  return 1
}`;

export interface ProxyBootstrapProps {
  /** The squid.conf the proxy runs (from renderSquidConf). */
  readonly squidConf: string;
  /**
   * Where the proxy downloads squid.conf from, when it is too large to travel in user data.
   * @default - squid.conf travels inline, gzip+base64
   */
  readonly squidConfObject?: { readonly bucket: string; readonly key: string };
  /** Listener ports Squid must open before the instance reports success. */
  readonly ports: readonly number[];
  /** The fixed ENI to attach as device 1; its primary IP is the resource configuration's target. */
  readonly networkInterfaceId: string;
  readonly networkInterfaceIp: string;
  /** Where cfn-signal reports to. */
  readonly stackName: string;
  readonly signalResource: string;
  readonly region: string;
  /**
   * The unified CloudWatch agent's JSON config; the agent is installed and started with it.
   * @default - no agent
   */
  readonly cloudWatchAgentConfig?: string;
  /**
   * Attempts to claim the ENI (10 s apart) before giving up and signalling failure.
   * @default 30
   */
  readonly attachAttempts?: number;
}

export class UserDataTooLargeError extends UsageError {
  constructor(bytes: number, confBytes: number) {
    super(
      `proxy user data would be about ${bytes} bytes, over EC2's ${MAX_USER_DATA_BYTES}-byte limit (squid.conf is ${confBytes} bytes before compression); ` +
        "shorten the tenants' allowlists (use wildcard suffixes such as *.example.com) or split tenants across hubs (the squid.conf itself is delivered through S3 when large)",
    );
    this.name = 'UserDataTooLargeError';
  }
}

/** The boot script, as text with the deploy-time values (possibly CDK tokens) substituted in. */
export function renderProxyBootstrap(props: ProxyBootstrapProps): string {
  const attempts = props.attachAttempts ?? 30;
  const conf = props.squidConfObject ? '' : gzipSync(Buffer.from(props.squidConf, 'utf8'), { level: 9 }).toString('base64');
  // Break the base64 into lines so the script stays readable in the console's user-data view.
  const confLines = conf.match(/.{1,76}/g) ?? [];
  const script = `#!/bin/bash
# egresshub proxy bootstrap (generated; see docs/hub.md)
set -euo pipefail
exec > >(tee -a /var/log/egresshub-bootstrap.log) 2>&1
STACK='${props.stackName}'
RESOURCE='${props.signalResource}'
REGION='${props.region}'
ENI='${props.networkInterfaceId}'
ENI_IP='${props.networkInterfaceIp}'
PORTS='${props.ports.join(' ')}'
RESERVED='${portRanges(props.ports)
    .map(([a, b]) => (a === b ? String(a) : `${a}-${b}`))
    .join(',')}'
signal() { /opt/aws/bin/cfn-signal -e "$1" --stack "$STACK" --resource "$RESOURCE" --region "$REGION" || true; }
trap 'echo "bootstrap failed at line $LINENO"; signal 1' ERR

dnf install -y squid aws-cfn-bootstrap

TOKEN=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')
IID=$(curl -sf -H "X-aws-ec2-metadata-token: $TOKEN" http://169.254.169.254/latest/meta-data/instance-id)

${CLAIM_ENI}
claim_eni "$ENI" "$IID" "$REGION" ${attempts} 10

# amazon-ec2-net-utils configures the hot-plugged ENI and its policy routes; wait for its address.
for _ in $(seq 1 60); do ip -4 -o addr show | grep -q " $ENI_IP/" && break; sleep 2; done
ip -4 -o addr show | grep -q " $ENI_IP/"

${
  props.squidConfObject
    ? `aws s3 cp --region "$REGION" 's3://${props.squidConfObject.bucket}/${props.squidConfObject.key}' /etc/squid/squid.conf`
    : `base64 -d <<'SQUIDCONF' | gunzip > /etc/squid/squid.conf\n${confLines.join('\n')}\nSQUIDCONF`
}
${SQUID_PARSE_CHECK}
squid_parse_ok /etc/squid/squid.conf

# Tenant ports may lie in the ephemeral range: reserve them so an outbound connection can never hold one
# and make Squid's (re)bind fail. https://docs.kernel.org/networking/ip-sysctl.html (ip_local_reserved_ports)
echo "net.ipv4.ip_local_reserved_ports = $RESERVED" > /etc/sysctl.d/90-egresshub.conf
sysctl -q -w "net.ipv4.ip_local_reserved_ports=$RESERVED"

mkdir -p /etc/systemd/system/squid.service.d
# ~2 file descriptors per concurrent client; systemd's default soft limit (1,024) fails requests from a few
# hundred clients on (docs/benchmarks.md). LimitNOFILE sets soft and hard limit for the service.
printf '[Service]\\nRestart=always\\nRestartSec=5\\nLimitNOFILE=65536\\n' > /etc/systemd/system/squid.service.d/egresshub.conf
systemctl daemon-reload
systemctl enable --now squid

for p in $PORTS; do
  for _ in $(seq 1 30); do ss -ltnH "sport = :$p" | grep -q . && break; sleep 1; done
  ss -ltnH "sport = :$p" | grep -q .
done
${props.cloudWatchAgentConfig ? cloudWatchAgentSteps(props.cloudWatchAgentConfig) : ''}signal 0
`;
  const bytes = Buffer.byteLength(script, 'utf8') + TOKEN_ALLOWANCE_BYTES;
  if (bytes > MAX_USER_DATA_BYTES) throw new UserDataTooLargeError(bytes, Buffer.byteLength(props.squidConf, 'utf8'));
  return script;
}

/** Where the boot script writes the agent's config (the agent's own etc directory). */
export const CLOUDWATCH_AGENT_CONFIG_FILE = '/opt/aws/amazon-cloudwatch-agent/etc/egresshub.json';

/**
 * Starts the CloudWatch agent after Squid is up. A failing agent does not fail the boot: a proxy that
 * serves without shipping logs beats no proxy; the dashboard's request metrics going flat shows it.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/install-CloudWatch-Agent-commandline-fleet.html
 */
function cloudWatchAgentSteps(config: string): string {
  // Compact JSON: user data is limited to 16 KB and squid.conf needs the room.
  const compact = JSON.stringify(JSON.parse(config));
  return `if dnf install -y amazon-cloudwatch-agent; then
  cat > ${CLOUDWATCH_AGENT_CONFIG_FILE} <<'CWAGENT'
${compact}
CWAGENT
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${CLOUDWATCH_AGENT_CONFIG_FILE} || echo 'warning: the CloudWatch agent did not start; Squid logs stay on this instance'
else
  echo 'warning: amazon-cloudwatch-agent did not install; Squid logs stay on this instance'
fi
`;
}
