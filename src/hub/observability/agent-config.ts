// The unified CloudWatch agent's config on the proxies: where Squid's logs are and which log groups they go to.
import { LOG_DAEMON_REPORT_DIR } from '../../policy/log-daemon';

/**
 * Where Squid's logs are on the proxies (renderSquidConf's default log directory). The log daemon (src/policy/logd.py)
 * writes the access log as size-rotated files `access.<UTC time>.<n>.log` (access.log is a symlink to the newest);
 * cache.log is Squid's own.
 */
export const SQUID_ACCESS_LOGS = '/var/log/squid/access.*.log';
export const SQUID_CACHE_LOG = '/var/log/squid/cache.log';
/** The log daemon's reports of lines it lost (tmpfs: a full log disk cannot silence them). */
export const LOG_DAEMON_REPORTS = `${LOG_DAEMON_REPORT_DIR}/*.jsonl`;

/**
 * The unified CloudWatch agent's configuration: both Squid logs, one stream per instance, and the log daemon's loss
 * reports beside cache.log (their own stream). The access log's `ts=` is epoch seconds, which the agent's
 * timestamp_format cannot express, so its events carry the time the agent read them (seconds later); the usage
 * report reads `ts=` from the message itself. cache.log starts each entry with `YYYY/MM/DD HH:MM:SS`, also the start
 * of a multi-line entry.
 * Rotation: with a wildcard `file_path` the agent follows the most recently modified file; `auto_removal` makes it
 * delete a file once it has read it to the end and a newer one exists. So the daemon never renames a file the agent
 * reads (it starts a new one), the agent finishes the old one first, and a file still on disk was not read to its
 * end: the budget deletes those (counted as `evicted`). Read in the agent's source (plugins/inputs/logfile:
 * getTargetFiles picks the newest match, StopAtEOF + auto_removal; files are read from the start when no state).
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch-Agent-Configuration-File-Details.html
 */
export function renderCloudWatchAgentConfig(groups: { readonly access: string; readonly cache: string }): string {
  const config = {
    agent: { run_as_user: 'root', logfile: '/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log' },
    logs: {
      force_flush_interval: 5,
      logs_collected: {
        files: {
          collect_list: [
            // retention_in_days -1: leave the group's retention to CloudFormation (the agent would otherwise set it).
            {
              file_path: SQUID_ACCESS_LOGS,
              log_group_name: groups.access,
              log_stream_name: '{instance_id}',
              auto_removal: true,
              retention_in_days: -1,
            },
            {
              file_path: SQUID_CACHE_LOG,
              log_group_name: groups.cache,
              log_stream_name: '{instance_id}',
              timestamp_format: '%Y/%m/%d %H:%M:%S',
              multi_line_start_pattern: '{timestamp_format}',
              retention_in_days: -1,
            },
            { file_path: LOG_DAEMON_REPORTS, log_group_name: groups.cache, log_stream_name: '{instance_id}-logd', retention_in_days: -1 },
          ],
        },
      },
    },
  };
  return JSON.stringify(config, null, 2);
}
