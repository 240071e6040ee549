// The lab's nftables rulesets (the NAT gateway, each tenant's endpoint and resource gateway) live as files in
// src/lab/nft/; their parameters come first as nft `define` lines, so no value is interpolated into ruleset text.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const NFT_DIR = join(__dirname, 'nft');

/** An nft `define` value: a word (address, port) or a set of words (`{ a, b }`). */
export type NftValue = string | number | readonly (string | number)[];

/** The ruleset src/lab/nft/<name>.nft, preceded by `define NAME = value` lines for `defines`. */
export function labRuleset(name: string, defines: Record<string, NftValue> = {}): string {
  const lines = Object.entries(defines).map(([k, v]) => `define ${k} = ${nftValue(v)}`);
  return [...lines, readFileSync(join(NFT_DIR, `${name}.nft`), 'utf8')].join('\n');
}

function nftValue(v: NftValue): string {
  const words = typeof v === 'object' ? v.map(String) : [String(v)];
  for (const w of words) {
    if (!/^[\w.:/-]+$/.test(w)) throw new Error(`not an nft word: ${JSON.stringify(w)}`);
  }
  return typeof v === 'object' ? `{ ${words.join(', ')} }` : words[0]!;
}
