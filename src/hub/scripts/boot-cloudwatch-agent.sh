# shellcheck shell=bash
# start_cloudwatch_agent: installs the unified CloudWatch agent and starts it with CWAGENT_CONFIG_FILE (which
# install_proxy_files wrote from the policy object), after Squid is up. A failing agent does not fail the boot: a proxy that serves without shipping logs beats no proxy;
# the dashboard's request metrics going flat shows it. Needs CWAGENT_CONFIG_FILE.
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/install-CloudWatch-Agent-commandline-fleet.html
# Loaded by src/hub/scripts.ts: the lines above are left out of what the instances run.
start_cloudwatch_agent() {
  if ! dnf install -y amazon-cloudwatch-agent; then
    echo 'warning: amazon-cloudwatch-agent did not install; Squid logs stay on this instance'
    return 0
  fi
  /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c "file:$CWAGENT_CONFIG_FILE" \
    || echo 'warning: the CloudWatch agent did not start; Squid logs stay on this instance'
}
