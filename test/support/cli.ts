// Runs the egresshub CLI in-process, capturing stdout/stderr and the exit code it would return.
import { Writable } from 'node:stream';
import { main as cliMain } from '../../src/cli/main';
import { STATIC_COMMAND_TABLE } from './commands';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

class Capture extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

export async function runCli(...argv: string[]): Promise<CliResult> {
  const out = new Capture();
  const err = new Capture();
  const code = await main(argv, { out, err });
  return { code, stdout: out.text, stderr: err.text };
}

/** The CLI's main() with every command loaded up front (see ./commands.ts). */
export function main(argv: readonly string[], io: Parameters<typeof cliMain>[1] = {}): Promise<number> {
  return cliMain(argv, io, STATIC_COMMAND_TABLE);
}
