// The command table with static imports, for tests that run the CLI in-process: vitest loads TypeScript
// through its own module graph, where the production table's lazy require() of a .ts module cannot
// resolve. test/cli/main.test.ts checks that both tables list the same commands in the same order, and
// runs the lazy one in a child process.
import type { CommandEntry } from '../../src/cli/commands';
import { cidr } from '../../src/cli/commands/cidr';
import { clientEnvCommand } from '../../src/cli/commands/client-env';
import { completion } from '../../src/cli/commands/completion';
import { cost } from '../../src/cli/commands/cost';
import { diff } from '../../src/cli/commands/diff';
import { doctor } from '../../src/cli/commands/doctor';
import { image } from '../../src/cli/commands/image';
import { lab } from '../../src/cli/commands/lab';
import { spokeTemplate } from '../../src/cli/commands/spoke-template';
import { squidConf } from '../../src/cli/commands/squid-conf';
import { stacks } from '../../src/cli/commands/stacks';
import { synth } from '../../src/cli/commands/synth';
import { usage } from '../../src/cli/commands/usage';
import { allowlist } from '../../src/cli/commands/allowlist';
import { validate } from '../../src/cli/commands/validate';

export const STATIC_COMMAND_TABLE: readonly CommandEntry[] = [
  validate,
  synth,
  diff,
  squidConf,
  stacks,
  spokeTemplate,
  clientEnvCommand,
  doctor,
  cost,
  usage,
  allowlist,
  cidr,
  image,
  lab,
  completion,
].map((spec) => ({ name: spec.name, load: () => spec }));
