// One synthesized app as the diff needs it: every stack's template, where it deploys (account, region,
// stack name), what it depends on, and the construct path of each logical ID. It goes through
// src/app's synthesize (the same synth as `egresshub synth` and `cdk synth`) and reads the cloud assembly.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../app';
import type { EgressPlan } from '../config/plan';

/** A CloudFormation template, as much of it as the diff reads. */
export interface CfnTemplate {
  Parameters?: Record<string, unknown>;
  Resources?: Record<string, CfnResource>;
  Outputs?: Record<string, CfnOutput>;
  [section: string]: unknown;
}

export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  [attribute: string]: unknown;
}

export interface CfnOutput {
  Value: unknown;
  Export?: { Name: unknown };
  [attribute: string]: unknown;
}

export interface StackSnapshot {
  /** Construct ID (`Hub`, `Tenants-3200`, `Spoke-<tenant>-<vpc>`): what stays when the stack name changes. */
  readonly id: string;
  readonly stackName: string;
  /** `aws://<account>/<region>`: with the stack name, the CloudFormation stack this template updates. */
  readonly environment: string;
  /** Construct IDs of the stacks deployed before this one. */
  readonly dependencies: readonly string[];
  readonly template: CfnTemplate;
  /** Construct path (`/Hub/Hub/ResourceGateway`) of every resource, output and parameter, by logical ID. */
  readonly paths: ReadonlyMap<string, string>;
}

export interface AppSnapshot {
  readonly plan: EgressPlan;
  /** In deploy order (dependencies first). */
  readonly stacks: readonly StackSnapshot[];
}

/** Synthesizes the plan into a temporary cloud assembly, reads it and removes it. */
export function snapshotOf(plan: EgressPlan): AppSnapshot {
  const dir = mkdtempSync(join(tmpdir(), 'egresshub-diff-'));
  try {
    synthesize(plan, dir);
    return { plan, stacks: readAssembly(dir) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface ManifestArtifact {
  readonly type: string;
  readonly environment?: string;
  readonly dependencies?: readonly string[];
  readonly properties?: { readonly templateFile?: string; readonly stackName?: string };
  readonly metadata?: Record<string, readonly MetadataEntry[]>;
  readonly additionalMetadataFile?: string;
}

interface MetadataEntry {
  readonly type: string;
  readonly data?: unknown;
}

/** The stacks of a cloud assembly directory (manifest.json, templates, metadata files). */
export function readAssembly(dir: string): StackSnapshot[] {
  const manifest = readJson(join(dir, 'manifest.json')) as { artifacts?: Record<string, ManifestArtifact> };
  const artifacts = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  const stackIds = new Set(artifacts.map(([id]) => id));
  const stacks = artifacts.map(([id, a]): StackSnapshot => {
    const metadata = { ...(a.metadata ?? {}) };
    if (a.additionalMetadataFile) Object.assign(metadata, readJson(join(dir, a.additionalMetadataFile)));
    const paths = new Map<string, string>();
    for (const [path, entries] of Object.entries(metadata)) {
      for (const e of entries) if (e.type === 'aws:cdk:logicalId' && typeof e.data === 'string') paths.set(e.data, path);
    }
    return {
      id,
      stackName: a.properties?.stackName ?? id,
      environment: a.environment ?? 'aws://unknown-account/unknown-region',
      dependencies: (a.dependencies ?? []).filter((d) => stackIds.has(d)),
      template: readJson(join(dir, a.properties?.templateFile ?? `${id}.template.json`)) as CfnTemplate,
      paths,
    };
  });
  return deployOrder(stacks);
}

/** Dependencies first; otherwise the manifest's order (hub, tenant stacks by port, spokes). */
function deployOrder(stacks: readonly StackSnapshot[]): StackSnapshot[] {
  const done = new Set<string>();
  const ordered: StackSnapshot[] = [];
  while (ordered.length < stacks.length) {
    const next = stacks.find((s) => !done.has(s.id) && s.dependencies.every((d) => done.has(d)));
    // A cycle cannot come out of a valid assembly; keep the rest in manifest order rather than loop.
    const rest = next ? [next] : stacks.filter((s) => !done.has(s.id));
    for (const s of rest) {
      done.add(s.id);
      ordered.push(s);
    }
  }
  return ordered;
}

function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}
