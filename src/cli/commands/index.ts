// The command table: every `egresshub` command, in the order `--help` lists them.
// Add a command by writing commands/<name>.ts and listing it here.
import type { CommandSpec } from '../command';
import { cidr } from './cidr';
import { clientEnvCommand } from './client-env';
import { cost } from './cost';
import { lab } from './lab';
import { squidConf } from './squid-conf';
import { validate } from './validate';

export const COMMANDS: readonly CommandSpec[] = [validate, squidConf, clientEnvCommand, cost, cidr, lab];
