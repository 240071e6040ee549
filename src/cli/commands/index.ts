// The command table: every `egresshub` command, in the order `--help` lists them.
// Add a command by writing commands/<name>.ts and listing it here.
import type { CommandSpec } from '../command';
import { cidr } from './cidr';
import { clientEnvCommand } from './client-env';
import { cost } from './cost';
import { diff } from './diff';
import { doctor } from './doctor';
import { lab } from './lab';
import { spokeTemplate } from './spoke-template';
import { squidConf } from './squid-conf';
import { synth } from './synth';
import { usage } from './usage';
import { validate } from './validate';

export const COMMANDS: readonly CommandSpec[] = [
  validate,
  synth,
  diff,
  squidConf,
  spokeTemplate,
  clientEnvCommand,
  doctor,
  cost,
  usage,
  cidr,
  lab,
];
