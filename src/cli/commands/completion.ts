// `egresshub completion bash|zsh`: a shell completion script for commands, sub-commands and their
// options, generated from the command table itself so it can never list an option that does not exist.
import { Command } from 'commander';
import { UsageError } from '../../config/errors';
import type { CommandSpec } from '../command';

interface Node {
  readonly path: string;
  readonly children: string[];
  readonly options: string[];
}

/** Every command path ('' for the root) with its sub-commands and long options, from the specs. */
export function completionTree(specs: readonly CommandSpec[], globalOptions: readonly string[]): Node[] {
  const nodes: Node[] = [{ path: '', children: specs.map((s) => s.name), options: [...globalOptions, '--help', '--version'] }];
  const walk = (prefix: string, spec: CommandSpec) => {
    const cmd = new Command(spec.name);
    spec.configure?.(cmd);
    const path = prefix ? `${prefix} ${spec.name}` : spec.name;
    const options = cmd.options.filter((o) => !o.hidden && o.long).map((o) => o.long as string);
    nodes.push({ path, children: (spec.subcommands ?? []).map((s) => s.name), options: [...options, '--help'] });
    for (const sub of spec.subcommands ?? []) walk(path, sub);
  };
  for (const s of specs) walk('', s);
  return nodes;
}

function bashScript(nodes: readonly Node[]): string {
  const cases = nodes.map((n) => `    "${n.path}") words="${[...n.children, ...n.options].join(' ')}" ;;`).join('\n');
  return `# egresshub completion for bash: eval "$(egresshub completion bash)" (e.g. in ~/.bashrc)
_egresshub() {
  local cur path word words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  path=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == -* ]] && continue
    case "$path" in
${nodes
  .filter((n) => n.children.length > 0)
  .map((n) => `      "${n.path}") [[ " ${n.children.join(' ')} " == *" $word "* ]] && path="\${path:+$path }$word" ;;`)
  .join('\n')}
    esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
}
complete -o default -F _egresshub egresshub
`;
}

export const completion: CommandSpec = {
  name: 'completion',
  summary: 'print a shell completion script: eval "$(egresshub completion bash)" (bash, or zsh through bashcompinit)',
  configure: (cmd) => cmd.argument('<shell>', 'bash or zsh'),
  run: ({ printer, commands }, _opts, [shell]) => {
    const nodes = completionTree(
      commands.map((c) => c.load()),
      ['--json', '--no-color', '--debug'],
    );
    let script: string;
    if (shell === 'bash') script = bashScript(nodes);
    else if (shell === 'zsh')
      script = `# egresshub completion for zsh: eval "$(egresshub completion zsh)" (e.g. in ~/.zshrc)\nautoload -U +X bashcompinit && bashcompinit\n${bashScript(nodes)}`;
    else throw new UsageError(`completion: unknown shell "${shell}"; use bash or zsh`);
    // --json means JSON on stdout, for this command too: the script as a string value.
    if (printer.json) printer.data({ shell, script });
    else printer.raw(script);
    return 0;
  },
};
