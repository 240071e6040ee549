// The command table: every `egresshub` command, in the order `--help` lists them. A command's module is
// loaded only when that command runs (or when the whole list is shown), so `egresshub validate` never
// pays for aws-cdk-lib or an AWS SDK client. Add a command by writing commands/<name>.ts and listing it here.
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading is the point of this table */
import type { CommandSpec } from '../command';

export interface CommandEntry {
  readonly name: string;
  /** Loads the command's module and returns its spec. */
  readonly load: () => CommandSpec;
}

export const COMMAND_TABLE: readonly CommandEntry[] = [
  { name: 'validate', load: () => (require('./validate') as typeof import('./validate')).validate },
  { name: 'synth', load: () => (require('./synth') as typeof import('./synth')).synth },
  { name: 'diff', load: () => (require('./diff') as typeof import('./diff')).diff },
  { name: 'squid-conf', load: () => (require('./squid-conf') as typeof import('./squid-conf')).squidConf },
  { name: 'stacks', load: () => (require('./stacks') as typeof import('./stacks')).stacks },
  { name: 'spoke-template', load: () => (require('./spoke-template') as typeof import('./spoke-template')).spokeTemplate },
  { name: 'client-env', load: () => (require('./client-env') as typeof import('./client-env')).clientEnvCommand },
  { name: 'doctor', load: () => (require('./doctor') as typeof import('./doctor')).doctor },
  { name: 'cost', load: () => (require('./cost') as typeof import('./cost')).cost },
  { name: 'usage', load: () => (require('./usage') as typeof import('./usage')).usage },
  { name: 'allowlist', load: () => (require('./allowlist') as typeof import('./allowlist')).allowlist },
  { name: 'cidr', load: () => (require('./cidr') as typeof import('./cidr')).cidr },
  { name: 'image', load: () => (require('./image') as typeof import('./image')).image },
  { name: 'lab', load: () => (require('./lab') as typeof import('./lab')).lab },
  { name: 'completion', load: () => (require('./completion') as typeof import('./completion')).completion },
];
