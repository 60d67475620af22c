/** How the server tooling finds its binaries and reports what is missing; no server is started here. */
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
