/** How the server tooling finds its binaries and reports what is missing; no server is started here. */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findTemporalCli, freePort, startTestServer, temporalCliCachePath, TestServerStartError } from '../../src/devtools';

const saved = { ...process.env };
let emptyDir: string;

beforeEach(() => {
  emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'devtools-test-'));
});

afterEach(() => {
  process.env = { ...saved };
  fs.rmSync(emptyDir, { recursive: true, force: true });
});

function writeExecutable(file: string, body: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('findTemporalCli', () => {
  it('names TEMPORAL_CLI_PATH when it points at nothing', async () => {
    process.env.TEMPORAL_CLI_PATH = path.join(emptyDir, 'nope');
    await expect(findTemporalCli()).rejects.toThrow(`TEMPORAL_CLI_PATH=${path.join(emptyDir, 'nope')} is not an executable file`);
  });

  it('prefers PATH over the cache, and uses the cache when PATH has none', async () => {
    delete process.env.TEMPORAL_CLI_PATH;
    process.env.XDG_CACHE_HOME = path.join(emptyDir, 'cache');
    const cached = writeExecutable(temporalCliCachePath(), 'exit 0');
    expect(cached).toBe(path.join(emptyDir, 'cache', 'ecommerce-pipeline', 'bin', 'temporal'));
    process.env.PATH = path.join(emptyDir, 'empty-bin');
    expect(await findTemporalCli({ install: false })).toBe(cached);
    const onPath = writeExecutable(path.join(emptyDir, 'bin', 'temporal'), 'exit 0');
    process.env.PATH = path.join(emptyDir, 'bin');
    expect(await findTemporalCli({ install: false })).toBe(onPath);
  });

  it('says Go is needed when there is no binary and no Go to build one', async () => {
    delete process.env.TEMPORAL_CLI_PATH;
    process.env.XDG_CACHE_HOME = path.join(emptyDir, 'cache');
    process.env.PATH = path.join(emptyDir, 'empty-bin');
    await expect(findTemporalCli()).rejects.toThrow(/Go is not on PATH to build it/);
    await expect(findTemporalCli({ install: false })).rejects.toThrow(/scripts\/ensure-temporal-cli\.sh/);
  });
});

describe('building the temporal CLI (scripts/ensure-temporal-cli.sh, also behind findTemporalCli)', () => {
  // A stand-in for go: counts its builds, prints a package list as go -v would, takes a second.
  function fakeGo(): string {
    const bin = path.join(emptyDir, 'fake-go-bin');
    writeExecutable(
      path.join(bin, 'go'),
      [
        'case "$1" in version) echo "go version go1.99 linux/amd64"; exit 0;; esac',
        `echo build >> ${path.join(emptyDir, 'builds')}`,
        'for i in $(seq 1 50); do echo "go: downloading example.com/module$i v1.0.0" >&2; done',
        'sleep 1',
        'mkdir -p "$GOBIN" && printf "#!/bin/sh\\necho temporal version 1.5.1\\n" > "$GOBIN/temporal" && chmod +x "$GOBIN/temporal"',
      ].join('\n'),
    );
    return bin;
  }

  it("builds once when two callers start together: the second says it waits, neither prints go's output", async () => {
    delete process.env.TEMPORAL_CLI_PATH;
    process.env.XDG_CACHE_HOME = path.join(emptyDir, 'cache');
    process.env.PATH = `${fakeGo()}:/usr/bin:/bin`;
    const script = path.resolve(__dirname, '../../scripts/ensure-temporal-cli.sh');
    const run = (): Promise<{ code: number | null; out: string; err: string }> =>
      new Promise((resolve) => {
        const child = spawn('bash', [script], { env: process.env });
        let out = '';
        let err = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.stderr.on('data', (c: Buffer) => (err += c.toString()));
        child.once('exit', (code) => resolve({ code, out, err }));
      });
    const first = run();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const lines: string[] = [];
    const [a, b] = await Promise.all([first, findTemporalCli({ log: (line) => lines.push(line) })]);
    expect(a.code).toBe(0);
    expect(a.out.trim()).toBe(temporalCliCachePath());
    expect(b).toBe(temporalCliCachePath());
    expect(fs.readFileSync(path.join(emptyDir, 'builds'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(lines.join('\n')).toMatch(/another process is building it; waiting/);
    expect(`${a.err}\n${lines.join('\n')}`).not.toMatch(/go: downloading/);
    expect(a.err.trim().split('\n')).toHaveLength(2); // "building ..." and "built ... in N s"
    expect(fs.readFileSync(`${temporalCliCachePath()}.build.log`, 'utf8')).toMatch(/go: downloading example.com\/module50/);
  });
});

describe('startTestServer', () => {
  it('reports a launcher that exits, with its output', async () => {
    const launcher = writeExecutable(path.join(emptyDir, 'broken-test-server'), 'echo "no JVM here" >&2; exit 3');
    const error = await startTestServer({ launcherPath: launcher }).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(TestServerStartError);
    expect((error as Error).message).toMatch(/exited \(3\) before listening[\s\S]*no JVM here/);
  });

  it('gives up on a launcher that never listens, and stops it', async () => {
    const pidFile = path.join(emptyDir, 'pid');
    const launcher = writeExecutable(path.join(emptyDir, 'silent-test-server'), `echo $$ > ${pidFile}; exec sleep 60`);
    const error = await startTestServer({ launcherPath: launcher, startTimeoutMs: 1_000 }).catch((err: unknown) => err);
    expect((error as Error).message).toMatch(/did not listen within 1 s/);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    expect(() => process.kill(pid, 0)).toThrow();
  });
});

describe('freePort', () => {
  it('returns a loopback port that can be bound', async () => {
    const port = await freePort();
    expect(port).toBeGreaterThan(0);
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
