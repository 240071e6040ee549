// The public API documents itself as aws-cdk-lib's does: every symbol src/index.ts exports has TSDoc, every
// member of a props or config interface too, and every optional one says its @default. Read with the
// TypeScript compiler, over what a user's editor shows.
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ENTRY = join(__dirname, '..', '..', 'src', 'index.ts');
const program = ts.createProgram([ENTRY], {
  strict: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
});
const checker = program.getTypeChecker();
const entry = checker.getSymbolAtLocation(program.getSourceFile(ENTRY)!)!;
const exported = checker.getExportsOfModule(entry).map((s) => (s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s));

const documented = (s: ts.Symbol) => ts.displayPartsToString(s.getDocumentationComment(checker)).trim().length > 0;
const isProps = (s: ts.Symbol) => s.flags & ts.SymbolFlags.Interface && /(Props|Config|Options|Inputs)$/.test(s.name);
const members = (s: ts.Symbol) => checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(s));
const hasDefault = (m: ts.Symbol) => m.getJsDocTags(checker).some((t) => t.name === 'default');

describe('the public API (src/index.ts)', () => {
  it('exports the constructs, their props, the config, the plan and the pure helpers', () => {
    const names = exported.map((s) => s.name);
    for (const name of [
      'EgressHub',
      'EgressTenants',
      'EgressSpoke',
      'EgressHubConfig',
      'planEgress',
      'EgressPlan',
      'renderSquidConf',
      'estimate',
    ])
      expect(names).toContain(name);
  });

  it('has TSDoc on every exported symbol', () => {
    expect(exported.filter((s) => !documented(s)).map((s) => s.name)).toEqual([]);
  });

  it('documents every member of a props or config interface, and the default of every optional one', () => {
    const props = exported.filter(isProps);
    expect(props.length).toBeGreaterThan(15);
    const own = (m: ts.Symbol) => !m.declarations?.some((d) => d.getSourceFile().fileName.includes('node_modules'));
    const undocumented = props.flatMap((p) =>
      members(p)
        .filter((m) => own(m) && !documented(m))
        .map((m) => `${p.name}.${m.name}`),
    );
    const noDefault = props.flatMap((p) =>
      members(p)
        .filter((m) => own(m) && m.flags & ts.SymbolFlags.Optional && !hasDefault(m))
        .map((m) => `${p.name}.${m.name}`),
    );
    expect(undocumented).toEqual([]);
    expect(noDefault).toEqual([]);
  });

  it('exports every type of its own that a public member of an exported class or interface uses', () => {
    const exportedSet = new Set(exported);
    const ours = (s: ts.Symbol) => s.declarations?.some((d) => !d.getSourceFile().fileName.includes('node_modules')) ?? false;
    const named = ts.SymbolFlags.Class | ts.SymbolFlags.Interface | ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Enum;
    const missing = new Set<string>();
    const visit = (t: ts.Type, from: string, depth: number): void => {
      if (depth > 3) return;
      if (t.isUnionOrIntersection()) t.types.forEach((u) => visit(u, from, depth));
      const s = t.aliasSymbol ?? t.getSymbol();
      if (s && s.flags & named && ours(s) && !exportedSet.has(s)) missing.add(`${s.name} (${from})`);
      if (t.flags & ts.TypeFlags.Object) checker.getTypeArguments(t as ts.TypeReference).forEach((a) => visit(a, from, depth + 1));
    };
    for (const s of exported.filter((x) => x.flags & (ts.SymbolFlags.Class | ts.SymbolFlags.Interface))) {
      for (const m of members(s)) {
        const decl = m.valueDeclaration ?? m.declarations?.[0];
        if (!decl || !ours(m) || ts.getCombinedModifierFlags(decl) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        visit(checker.getTypeOfSymbolAtLocation(m, decl), `${s.name}.${m.name}`, 0);
      }
    }
    expect([...missing]).toEqual([]);
  });
});
