// The domain-verification waiter's inline Lambda, run for real in a VM: its answers to CloudFormation (the
// body it PUTs to the response URL) for each state of the VPC Lattice API and of the runtime's SDK.
import { createRequire } from 'node:module';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { WAITER_SOURCE } from '../../src/hub/domain-verification';

interface Answer {
  Status: string;
  Reason: string;
  Data: Record<string, string>;
}

/** Runs the handler with a stand-in SDK (undefined: the runtime has none) and returns what it told CloudFormation. */
async function invoke(mode: 'describe' | 'wait', sdk: unknown): Promise<Answer> {
  let sent = '';
  const https = {
    request: (_opts: unknown, cb: (res: { resume(): void; on(e: string, f: () => void): void }) => void) => ({
      on: () => undefined,
      end: (body: string) => {
        sent = body;
        cb({ resume: () => undefined, on: (_e, f) => f() });
      },
    }),
  };
  const realRequire = createRequire(__filename);
  const req = (name: string) => {
    if (name === 'https') return https;
    if (name === '@aws-sdk/client-vpc-lattice') {
      if (sdk === undefined) throw new Error("Cannot find module '@aws-sdk/client-vpc-lattice'");
      return sdk;
    }
    return realRequire(name) as unknown;
  };
  const module = { exports: {} as { handler?: (e: unknown) => Promise<unknown> } };
  // The 15 s poll interval shortened to 50 ms: the 1 s deadline then passes after ~20 polls.
  const fastTimeout = (f: () => void) => setTimeout(f, 50);
  runInNewContext(WAITER_SOURCE, {
    require: req,
    exports: module.exports,
    module,
    console: { log: () => undefined },
    setTimeout: fastTimeout,
    Date,
    Buffer,
    Promise,
  });
  await module.exports.handler!({
    RequestType: 'Create',
    ResponseURL: 'https://cloudformation-response.example/x',
    StackId: 'stack',
    RequestId: 'req',
    LogicalResourceId: 'Verified',
    ResourceProperties: { Mode: mode, DomainVerificationId: 'dv-1', WaitSeconds: 1 },
  });
  return JSON.parse(sent) as Answer;
}

const fakeSdk = (status: string) => ({
  GetDomainVerificationCommand: class {
    constructor(readonly input: unknown) {}
  },
  VPCLatticeClient: class {
    send = () => Promise.resolve({ status, txtMethodConfig: { name: '_lattice.example.com', value: 'token' } });
  },
});

describe('domain-verification waiter', () => {
  it.each(['wait', 'describe'] as const)('fails loudly in mode %s when the runtime SDK has no VPC Lattice client', async (mode) => {
    const a = await invoke(mode, undefined);
    expect(a.Status).toBe('FAILED');
    expect(a.Reason).toMatch(/cannot ask VPC Lattice: the Lambda runtime SDK has no GetDomainVerification.*remove dns\.verify/);
  });

  it('answers SUCCESS once the domain reads VERIFIED', async () => {
    expect(await invoke('wait', fakeSdk('VERIFIED'))).toMatchObject({ Status: 'SUCCESS', Data: { Status: 'VERIFIED' } });
  });

  it('fails when the domain is still pending at the deadline', async () => {
    const a = await invoke('wait', fakeSdk('PENDING'));
    expect(a.Status).toBe('FAILED');
    expect(a.Reason).toContain('domain dv-1 is PENDING after waiting');
  });

  it('describes the TXT record to publish', async () => {
    expect(await invoke('describe', fakeSdk('PENDING'))).toMatchObject({
      Status: 'SUCCESS',
      Data: { Name: '_lattice.example.com', Value: 'token' },
    });
  });
});
