// Throwaway host roots for the setup script: an "al2023-like" and an "ubuntu-like" tree with the files
// those systems ship, and a snapshot of a tree (type, mode, bytes) to prove apply/remove effects exactly.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type Flavour = 'al2023' | 'ubuntu';

const OS_RELEASE: Record<Flavour, string> = {
  al2023: 'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n',
  ubuntu: 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n',
};

// AL2023's stock dnf.conf, deliberately without a final newline to prove remove restores bytes exactly.
export const AL2023_DNF_CONF =
  '[main]\ngpgcheck=True\ninstallonly_limit=3\nclean_requirements_on_remove=True\nbest=False\nskip_if_unavailable=False';

export function makeRoot(flavour: Flavour, opts: { docker?: boolean; dockerConfig?: string } = {}): string {
  const root = mkdtempSync(join(tmpdir(), `egresshub-root-${flavour}-`));
  for (const d of ['etc/profile.d', 'etc/systemd/system', 'var/lib', 'root', 'usr/bin']) mkdirSync(join(root, d), { recursive: true });
  chmodSync(join(root, 'root'), 0o700);
  writeFileSync(join(root, 'etc/os-release'), OS_RELEASE[flavour]);
  writeFileSync(join(root, 'etc/profile.d/lang.sh'), '# shipped by the distribution\nexport LANG=C.UTF-8\n');
  if (flavour === 'al2023') {
    mkdirSync(join(root, 'etc/dnf'));
    writeFileSync(join(root, 'etc/dnf/dnf.conf'), AL2023_DNF_CONF, { mode: 0o644 });
  } else {
    mkdirSync(join(root, 'etc/apt/apt.conf.d'), { recursive: true });
    writeFileSync(join(root, 'etc/apt/apt.conf.d/20auto-upgrades'), 'APT::Periodic::Update-Package-Lists "1";\n');
  }
  if (opts.docker) writeFileSync(join(root, 'usr/bin/dockerd'), '', { mode: 0o755 });
  if (opts.dockerConfig !== undefined) {
    mkdirSync(join(root, 'root/.docker'), { mode: 0o700 });
    writeFileSync(join(root, 'root/.docker/config.json'), opts.dockerConfig, { mode: 0o600 });
  }
  return root;
}

export interface Entry {
  readonly type: 'dir' | 'file';
  readonly mode: string;
  readonly content?: string;
}

/** Every path under root with its type, permission bits and (for files) exact content. */
export function snapshot(root: string): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, path));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        out[path] = { type: 'dir', mode };
        walk(path);
      } else {
        out[path] = { type: 'file', mode, content: readFileSync(join(root, path), 'latin1') };
      }
    }
  };
  walk('');
  return out;
}

export function read(root: string, path: string): string {
  return readFileSync(join(root, path), 'utf8');
}

export interface ShellRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a shell (dash when installed: Ubuntu's /bin/sh) on a script file or stdin, with extra env. */
export function runShell(args: readonly string[], env: Record<string, string>, input?: string, shell = SHELLS[0]!): ShellRun {
  const r = spawnSync(shell, args, {
    input,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const has = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
/** dash is Ubuntu's /bin/sh, bash is AL2023's: the script must behave the same under both. */
export const SHELLS: readonly string[] = ['dash', 'bash'].filter(has);

export function removeRoot(root: string): void {
  execFileSync('rm', ['-rf', '--', root]);
}
