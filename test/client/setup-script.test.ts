// proxy-setup.sh run for real (dash and bash) against throwaway AL2023-like and Ubuntu-like roots:
// apply twice = same tree, every file's exact content, remove = the original tree byte for byte.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SETUP_SCRIPT, SETUP_SCRIPT_FILE, USER_DATA_DELIMITER } from '../../src/client/setup-script';
import { AL2023_DNF_CONF, makeRoot, read, removeRoot, runShell, SHELLS, snapshot, type Flavour } from './roots';

const URL = 'http://project-a.egress.internal:3201';
const NO_PROXY = '169.254.169.254,fd00:ec2::254,169.254.170.2,localhost,127.0.0.1,.internal,10.0.0.0/16';
const roots: string[] = [];
afterEach(() => roots.splice(0).forEach(removeRoot));

function root(flavour: Flavour, opts: Parameters<typeof makeRoot>[1] = {}): string {
  const r = makeRoot(flavour, opts);
  roots.push(r);
  return r;
}

function setup(rootDir: string, action: string, env: Record<string, string> = {}, shell?: string) {
  return runShell(
    [SETUP_SCRIPT_FILE, action],
    { EGRESSHUB_ROOT: rootDir, EGRESSHUB_PROXY_URL: URL, EGRESSHUB_NO_PROXY: NO_PROXY, ...env },
    undefined,
    shell,
  );
}

const PROFILE = `# egresshub proxy for login shells (managed by egresshub; undo with the remove action)
export HTTP_PROXY='${URL}'
export HTTPS_PROXY='${URL}'
export http_proxy='${URL}'
export https_proxy='${URL}'
export NO_PROXY='${NO_PROXY}'
export no_proxy='${NO_PROXY}'
`;
const ENV_ASSIGNMENTS = `"HTTP_PROXY=${URL}" "HTTPS_PROXY=${URL}" "http_proxy=${URL}" "https_proxy=${URL}" "NO_PROXY=${NO_PROXY}" "no_proxy=${NO_PROXY}"`;
const MANAGER = `# egresshub proxy for systemd services (managed by egresshub; undo with the remove action)\n[Manager]\nDefaultEnvironment=${ENV_ASSIGNMENTS}\n`;
const DOCKER_UNIT = `# egresshub proxy for the Docker daemon (managed by egresshub; undo with the remove action)\n[Service]\nEnvironment=${ENV_ASSIGNMENTS}\n`;
const DOCKER_CLIENT = { proxies: { default: { httpProxy: URL, httpsProxy: URL, noProxy: NO_PROXY } } };
const DNF_BLOCK = `# BEGIN egresshub proxy (managed by egresshub; undo with the remove action)\nproxy=${URL}\n# END egresshub proxy\n`;

describe.each(SHELLS)('proxy-setup.sh under %s', (shell) => {
  it.each(['al2023', 'ubuntu'] as const)('configures an %s-like root, is idempotent, and remove restores it exactly', (flavour) => {
    const r = root(flavour, { docker: true });
    const original = snapshot(r);

    const first = setup(r, 'apply', {}, shell);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const applied = snapshot(r);

    expect(read(r, 'etc/profile.d/egresshub-proxy.sh')).toBe(PROFILE);
    expect(read(r, 'etc/systemd/system.conf.d/egresshub-proxy.conf')).toBe(MANAGER);
    expect(read(r, 'etc/systemd/system/docker.service.d/egresshub-proxy.conf')).toBe(DOCKER_UNIT);
    expect(JSON.parse(read(r, 'root/.docker/config.json'))).toEqual(DOCKER_CLIENT);
    expect(applied['root/.docker']?.mode).toBe('700');
    expect(applied['root/.docker/config.json']?.mode).toBe('600');
    expect(applied['etc/profile.d/egresshub-proxy.sh']?.mode).toBe('644');
    if (flavour === 'al2023') {
      expect(read(r, 'etc/dnf/dnf.conf')).toBe(AL2023_DNF_CONF.replace('[main]\n', `[main]\n${DNF_BLOCK}`));
      expect(applied['etc/apt']).toBeUndefined();
    } else {
      expect(read(r, 'etc/apt/apt.conf.d/95egresshub-proxy')).toBe(
        `// egresshub proxy for apt (managed by egresshub; undo with the remove action)\nAcquire::http::Proxy "${URL}";\nAcquire::https::Proxy "${URL}";\n`,
      );
    }
    // Nothing else changed: every pre-existing path is still there with the same bytes.
    for (const [path, entry] of Object.entries(original)) if (path !== 'etc/dnf/dnf.conf') expect(applied[path]).toEqual(entry);

    const second = setup(r, 'apply', {}, shell);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toMatch(/wrote|edited/);
    expect(snapshot(r)).toEqual(applied);

    const removed = setup(r, 'remove', { EGRESSHUB_PROXY_URL: '' }, shell);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toBe('');
    expect(snapshot(r)).toEqual(original);
  });
});

const hasTool = (bin: string) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** The Environment= entries systemd itself parses for `unit` under `root` (its debug dump of the unit). */
function systemdEnvironment(root: string, unit: string): { env: string[]; complaints: string[] } {
  const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, unit], {
    encoding: 'utf8',
    env: { ...process.env, SYSTEMD_LOG_LEVEL: 'debug' },
    timeout: 20_000,
  });
  const out = `${r.stdout}${r.stderr}`;
  return {
    env: [...out.matchAll(/^\s+Environment: (.*)$/gm)].map((m) => m[1]!),
    complaints: out.split('\n').filter((l) => /egresshub-proxy\.conf:\d+: /.test(l)),
  };
}

describe('what the real tools make of the files', () => {
  const expected = [URL, URL, URL, URL, NO_PROXY, NO_PROXY].map(
    (v, i) => `${['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'NO_PROXY', 'no_proxy'][i]}=${v}`,
  );

  it.runIf(hasTool('systemd-analyze'))(
    'systemd parses the Docker drop-in and the DefaultEnvironment assignments into the six variables',
    () => {
      const r = root('ubuntu', { docker: true });
      setup(r, 'apply');
      writeFileSync(join(r, 'etc/systemd/system/docker.service'), '[Unit]\nDescription=stand-in\n[Service]\nExecStart=/usr/bin/dockerd\n');
      const docker = systemdEnvironment(r, 'docker.service');
      expect(docker.complaints).toEqual([]);
      expect(docker.env).toEqual(expected);
      // DefaultEnvironment= takes the same quoted assignment list as Environment= (systemd-system.conf(5)):
      // parse the manager line's value through a scratch unit, since verify does not load system.conf.d.
      const manager = read(r, 'etc/systemd/system.conf.d/egresshub-proxy.conf').match(/^DefaultEnvironment=(.*)$/m)![1]!;
      const scratch = mkdtempSync(join(tmpdir(), 'egresshub-systemd-'));
      roots.push(scratch);
      mkdirSync(join(scratch, 'etc/systemd/system'), { recursive: true });
      writeFileSync(join(scratch, 'etc/systemd/system/probe.service'), `[Service]\nExecStart=/bin/true\nEnvironment=${manager}\n`);
      expect(systemdEnvironment(scratch, 'probe.service').env).toEqual(expected);
    },
  );

  it.runIf(hasTool('apt-config'))('apt reads the proxy from the apt.conf.d file', () => {
    const r = root('ubuntu');
    setup(r, 'apply');
    const dump = spawnSync('apt-config', ['-c', join(r, 'etc/apt/apt.conf.d/95egresshub-proxy'), 'dump'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(dump.status).toBe(0);
    expect(dump.stdout).toContain(`Acquire::http::Proxy "${URL}";`);
    expect(dump.stdout).toContain(`Acquire::https::Proxy "${URL}";`);
  });
});

describe('proxy-setup.sh', () => {
  it('fails when EGRESSHUB_ROOT is not a directory, at once and with exit code 2', () => {
    const r = spawnSync('sh', [SETUP_SCRIPT_FILE, 'apply'], {
      env: {
        PATH: process.env.PATH,
        EGRESSHUB_ROOT: join(tmpdir(), 'egresshub-no-such-root'),
        EGRESSHUB_PROXY_URL: URL,
        EGRESSHUB_NO_PROXY: NO_PROXY,
      },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('is not a directory');
  });

  it('leaves out the Docker files when Docker is not installed', () => {
    const r = root('al2023');
    expect(setup(r, 'apply').stdout).toMatch(/Docker not installed; skipped/);
    const after = snapshot(r);
    expect(after['etc/systemd/system/docker.service.d']).toBeUndefined();
    expect(after['root/.docker']).toBeUndefined();
  });

  it("never overwrites a user's own Docker client config, and remove leaves it alone", () => {
    const mine = '{\n  "auths": { "registry.example": {} }\n}\n';
    const r = root('ubuntu', { docker: true, dockerConfig: mine });
    const run = setup(r, 'apply');
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\/root\/\.docker\/config\.json exists and is not ours; left unchanged/);
    expect(read(r, 'root/.docker/config.json')).toBe(mine);
    setup(r, 'remove');
    expect(read(r, 'root/.docker/config.json')).toBe(mine);
  });

  it('keeps a Docker client config that was changed after apply (docker login) when removing', () => {
    const r = root('ubuntu', { docker: true });
    setup(r, 'apply');
    writeFileSync(join(r, 'root/.docker/config.json'), '{"auths":{"registry.example":{}}}\n');
    const run = setup(r, 'remove');
    expect(run.stderr).toMatch(/\/root\/\.docker\/config\.json changed since egresshub wrote it; left in place/);
    expect(read(r, 'root/.docker/config.json')).toBe('{"auths":{"registry.example":{}}}\n');
    expect(snapshot(r)['etc/systemd/system/docker.service.d']).toBeUndefined();
  });

  it('replaces its settings when the proxy changes, without duplicating lines', () => {
    const r = root('al2023', { docker: true });
    setup(r, 'apply');
    const other = 'http://project-a.egress.example.org:3201';
    expect(setup(r, 'apply', { EGRESSHUB_PROXY_URL: other }).code).toBe(0);
    const dnf = read(r, 'etc/dnf/dnf.conf');
    expect(dnf.match(/^proxy=/gm)).toEqual(['proxy=']);
    expect(dnf).toContain(`proxy=${other}\n`);
    expect(read(r, 'etc/profile.d/egresshub-proxy.sh')).not.toContain(URL);
    expect(JSON.parse(read(r, 'root/.docker/config.json'))).toMatchObject({ proxies: { default: { httpProxy: other } } });
    setup(r, 'remove');
    expect(read(r, 'etc/dnf/dnf.conf')).toBe(AL2023_DNF_CONF);
  });

  it('removes only its own lines from dnf.conf, keeping what the admin added since', () => {
    const r = root('al2023');
    setup(r, 'apply');
    appendFileSync(join(r, 'etc/dnf/dnf.conf'), '\nfastestmirror=True\n');
    setup(r, 'remove');
    expect(read(r, 'etc/dnf/dnf.conf')).toBe(`${AL2023_DNF_CONF}\nfastestmirror=True\n`);
  });

  it('fails when the proxy URL is not a proxy URL, with exit 2 and nothing written', () => {
    const r = root('ubuntu');
    const before = snapshot(r);
    const run = setup(r, 'apply', { EGRESSHUB_PROXY_URL: "http://x:1'; touch /tmp/pwned; '" });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /error: EGRESSHUB_PROXY_URL must look like http:\/\/project-a\.egress\.internal:3201 \(got 'http:\/\/x:1'; touch/,
    );
    expect(snapshot(r)).toEqual(before);
  });

  it('fails when NO_PROXY holds a space or a quote, with exit 2', () => {
    const run = setup(root('ubuntu'), 'apply', { EGRESSHUB_NO_PROXY: 'localhost, "x"' });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: EGRESSHUB_NO_PROXY may hold only names, addresses and CIDRs/);
  });

  it('fails when the action is unknown, with exit 2', () => {
    const run = setup(root('ubuntu'), 'install');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/error: action must be apply or remove \(got 'install'\)/);
  });

  it('contains nothing SSM or the user-data heredoc would interpret', () => {
    expect(SETUP_SCRIPT).not.toContain('{{');
    expect(SETUP_SCRIPT.split('\n')).not.toContain(USER_DATA_DELIMITER);
  });
});
