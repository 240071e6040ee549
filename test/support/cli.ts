// Runs the egresshub CLI in-process, capturing stdout/stderr and the exit code it would return.
import { Writable } from 'node:stream';
import { main } from '../../src/cli/main';

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
