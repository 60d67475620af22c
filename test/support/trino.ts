/**
 * A throwaway Trino 476 server for tests (Athena engine v3 is Trino): one coordinator that also runs the
 * tasks, the memory connector only (catalog `memory`, schema `default`), on 127.0.0.1 on a port picked at
 * run time, with its etc/, data and log in a temp dir that stop() removes.
 *
 * The server tree comes from TRINO_HOME (and the JDK from TRINO_JAVA_HOME), as .ci/run hands them over;
 * without them scripts/setup/50-trino.sh is run here (it fetches and unpacks Trino once per machine).
 *
 * Values come back as Trino's JSON protocol sends them: booleans and numbers as such (bigint too, so
 * beyond 2^53 it loses precision: cast to varchar), decimal, date and timestamp values as strings.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const DEFAULT_JAVA_HOME = '/usr/lib/jvm/temurin-25-jdk-amd64';
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const START_TIMEOUT_MS = 180_000;
const REQUEST_TIMEOUT_MS = 120_000;
const NO_NODES_RETRY_MS = 60_000;
const READY_PROBE = 'memory.default.trino_test_ready_probe';
const USER = 'test';

export interface TrinoColumn {
  name: string;
  type: string;
}

export interface TrinoResult {
  columns: TrinoColumn[];
  rows: unknown[][];
}

export interface TestTrino {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The temp dir: etc/, data/, server.log. Removed by stop(). */
  dir: string;
  /** Runs one statement in catalog memory, schema default, and returns all its rows. */
  query(sql: string): Promise<TrinoResult>;
  /** Runs one statement for its effect. */
  run(sql: string): Promise<void>;
  /** The last lines of the server's log. */
  logTail(lines?: number): string;
  /** Kills the server and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** A statement Trino rejected: message is Trino's own (e.g. "line 1:8: Column 'x' cannot be resolved"). */
export class TrinoQueryError extends Error {
  readonly errorName: string;
  readonly errorType: string;
  readonly errorCode: number;
  readonly queryId: string;
  readonly lineNumber?: number;
  readonly columnNumber?: number;

  constructor(error: TrinoErrorJson, queryId: string) {
    super(error.message);
    this.name = 'TrinoQueryError';
    this.errorName = error.errorName;
    this.errorType = error.errorType;
    this.errorCode = error.errorCode;
    this.queryId = queryId;
    this.lineNumber = error.errorLocation?.lineNumber;
    this.columnNumber = error.errorLocation?.columnNumber;
  }
}

interface TrinoErrorJson {
  message: string;
  errorName: string;
  errorType: string;
  errorCode: number;
  errorLocation?: { lineNumber: number; columnNumber: number };
}

interface QueryResultsJson {
  id: string;
  nextUri?: string;
  columns?: { name: string; type: string }[];
  data?: unknown[][];
  error?: TrinoErrorJson;
}

interface TrinoInstall {
  home: string;
  javaHome: string;
}

let install: Promise<TrinoInstall> | undefined;

/** TRINO_HOME / TRINO_JAVA_HOME when set, else what scripts/setup/50-trino.sh prepares (once per process). */
export function findTrino(): Promise<TrinoInstall> {
  install ??= locateTrino();
  install.catch(() => {
    install = undefined;
  });
  return install;
}

async function locateTrino(): Promise<TrinoInstall> {
  const javaHome = process.env.TRINO_JAVA_HOME || DEFAULT_JAVA_HOME;
  if (!existsSync(path.join(javaHome, 'bin', 'java'))) {
    throw new Error(`Java 25 not found at ${javaHome} (Trino 476 needs it; set TRINO_JAVA_HOME)`);
  }
  const home = process.env.TRINO_HOME || (await runSetupScript());
  if (!existsSync(path.join(home, 'bin', 'launcher')) || !existsSync(path.join(home, 'plugin', 'memory'))) {
    throw new Error(`no Trino server at ${home} (bin/launcher and plugin/memory expected); run scripts/setup/50-trino.sh`);
  }
  return { home, javaHome };
}

function runSetupScript(): Promise<string> {
  const script = path.join(REPO_ROOT, 'scripts', 'setup', '50-trino.sh');
  return new Promise((resolve, reject) => {
    // stderr passes through: the script's one progress line, or Maven's output when it fails.
    const child = spawn('bash', [script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, CI_ENV_FILE: '' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const home = out.trim().split('\n').pop() ?? '';
      if (code === 0 && home) resolve(home);
      else reject(new Error(`${script} failed (exit ${code}); its messages are on stderr above`));
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function tail(file: string, lines = 60): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no server log)';
  }
}

async function writeEtc(dir: string, port: number): Promise<string> {
  const etc = path.join(dir, 'etc');
  await mkdir(path.join(etc, 'catalog'), { recursive: true });
  await mkdir(path.join(dir, 'tmp'));
  const files: Record<string, string[]> = {
    'node.properties': [
      'node.environment=test',
      `node.id=${randomUUID()}`,
      `node.data-dir=${path.join(dir, 'data')}`,
      // airlift binds the HTTP server to node.bind-ip (Trino 476 has no http-server.http.host).
      'node.bind-ip=127.0.0.1',
      'node.internal-address=127.0.0.1',
    ],
    'jvm.config': [
      '-server',
      '-Xmx2G',
      '-XX:+UseG1GC',
      '-XX:G1HeapRegionSize=32M',
      '-XX:+ExplicitGCInvokesConcurrent',
      '-XX:+ExitOnOutOfMemoryError',
      '-XX:-OmitStackTraceInFastThrow',
      '-XX:ReservedCodeCacheSize=256M',
      '-XX:PerMethodRecompilationCutoff=10000',
      '-XX:PerBytecodeRecompilationCutoff=10000',
      '-Djdk.attach.allowAttachSelf=true',
      '-Djdk.nio.maxCachedBufferSize=2000000',
      // JOL's dynamic agent (Trino's memory accounting), as in Trino's own image
      '-XX:+EnableDynamicAgentLoading',
      '-XX:+UnlockDiagnosticVMOptions',
      '-XX:G1NumCollectionsKeepPinned=10000000',
      // Java 25 warns about JNA and JOL otherwise
      '--enable-native-access=ALL-UNNAMED',
      '--sun-misc-unsafe-memory-access=allow',
      // no /tmp/hsperfdata_* left behind by a killed server; temp files stay in the temp dir
      '-XX:-UsePerfData',
      `-Djava.io.tmpdir=${path.join(dir, 'tmp')}`,
    ],
    'config.properties': [
      'coordinator=true',
      'node-scheduler.include-coordinator=true',
      `http-server.http.port=${port}`,
      `discovery.uri=http://127.0.0.1:${port}`,
      'http-server.log.enabled=false',
      // A lone node that misses heartbeats to itself on a busy machine is dropped as failed, and queries
      // fail with NO_NODES_AVAILABLE until it is back: pointless with one node.
      'failure-detector.enabled=false',
      'query.max-memory=1GB',
      'query.max-memory-per-node=512MB',
    ],
    'catalog/memory.properties': ['connector.name=memory', 'memory.max-data-per-node=512MB'],
  };
  for (const [name, lines] of Object.entries(files)) await writeFile(path.join(etc, name), `${lines.join('\n')}\n`);
  return etc;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Started: GET /v1/info says starting:false, and then an INSERT into a memory table runs. The scheduler's
 * list of nodes serving the memory catalog lags behind starting:false (system.runtime.nodes already lists
 * the node active meanwhile), and in the first seconds the node can drop out of it once more; statements
 * refused for that (NO_NODES_AVAILABLE) are run again by query().
 */
async function waitUntilStarted(url: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let started = false;
  while (Date.now() < deadline) {
    if (exited(child)) {
      throw new StartError(
        `Trino exited (${child.exitCode ?? child.signalCode}) before it started; the end of ${log}:\n${tail(log)}`,
        tail(log),
      );
    }
    try {
      if (!started) {
        const res = await fetch(`${url}/v1/info`, { signal: AbortSignal.timeout(5_000) });
        started = res.ok && ((await res.json()) as { starting?: boolean }).starting === false;
      }
      if (started) {
        await runQuery(url, `CREATE TABLE IF NOT EXISTS ${READY_PROBE} (x integer)`);
        await runQuery(url, `INSERT INTO ${READY_PROBE} VALUES 1`);
        await runQuery(url, `DROP TABLE ${READY_PROBE}`);
        return;
      }
    } catch (error) {
      // not listening yet, or not in the node list yet
      if (error instanceof TrinoQueryError && error.errorName !== 'NO_NODES_AVAILABLE') throw error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new StartError(`Trino at ${url} did not start within ${START_TIMEOUT_MS / 1000} s; the end of ${log}:\n${tail(log)}`, tail(log));
}

class StartError extends Error {
  constructor(
    message: string,
    readonly logTail: string,
  ) {
    super(message);
  }
}

function killNow(child: ChildProcess): void {
  if (!exited(child)) child.kill('SIGKILL');
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (exited(child)) return;
  const done = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => killNow(child), 10_000);
  await done;
  clearTimeout(timer);
}

async function startOnce(trino: TrinoInstall): Promise<TestTrino> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'trino-test-'));
  const log = path.join(dir, 'server.log');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  // A test process that exits without stop() leaves neither the server nor its temp dir behind.
  const onExit = () => {
    if (child) killNow(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const etc = await writeEtc(dir, port);
    const fd = openSync(log, 'a');
    try {
      // `launcher run` execs java in the foreground: the child's pid is the server's.
      child = spawn(path.join(trino.home, 'bin', 'launcher'), ['run', `--etc-dir=${etc}`, `--jvm-dir=${trino.javaHome}`], {
        cwd: dir,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, JAVA_HOME: trino.javaHome },
      });
    } finally {
      closeSync(fd);
    }
    process.once('exit', onExit);
    await waitUntilStarted(url, child, log);
  } catch (error) {
    process.removeListener('exit', onExit);
    if (child) await stopChild(child);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const server = child;
  const query = (sql: string) => runQueryRetryingNoNodes(url, sql);
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    dir,
    query,
    run: async (sql) => {
      await query(sql);
    },
    logTail: (lines) => tail(log, lines),
    stop() {
      stopped ??= (async () => {
        process.removeListener('exit', onExit);
        await stopChild(server);
        await rm(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** Starts a server (about 10-20 s); the caller stops it. */
export async function startTrino(): Promise<TestTrino> {
  const trino = await findTrino();
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(trino);
    } catch (error) {
      // The free port was taken between picking it and Trino binding it: pick another.
      const portTaken = error instanceof StartError && /BindException|Address already in use/.test(error.logTail);
      if (!portTaken || attempt >= 3) throw error;
    }
  }
}

async function request(url: string, init: RequestInit): Promise<QueryResultsJson> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    // The protocol asks clients to retry these (server busy or restarting).
    if ([502, 503, 504].includes(res.status) && attempt < 10) {
      await res.body?.cancel();
      await new Promise((r) => setTimeout(r, 100 * attempt));
      continue;
    }
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url} -> HTTP ${res.status}: ${text}`);
    return JSON.parse(text) as QueryResultsJson;
  }
}

/**
 * NO_NODES_AVAILABLE means the query was refused before any task ran (the node list is refreshed every
 * few seconds, and a node can drop out of it for a moment on a loaded machine): run it again.
 */
async function runQueryRetryingNoNodes(url: string, sql: string): Promise<TrinoResult> {
  const deadline = Date.now() + NO_NODES_RETRY_MS;
  for (;;) {
    try {
      return await runQuery(url, sql);
    } catch (error) {
      if (!(error instanceof TrinoQueryError && error.errorName === 'NO_NODES_AVAILABLE') || Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Trino's REST protocol: POST the statement, then follow nextUri until there is none. */
async function runQuery(url: string, sql: string): Promise<TrinoResult> {
  let results = await request(`${url}/v1/statement`, {
    method: 'POST',
    headers: {
      'X-Trino-User': USER,
      'X-Trino-Catalog': 'memory',
      'X-Trino-Schema': 'default',
      'Content-Type': 'text/plain; charset=utf-8',
    },
    body: sql,
  });
  let columns: TrinoColumn[] | undefined;
  const rows: unknown[][] = [];
  for (;;) {
    if (results.error) throw new TrinoQueryError(results.error, results.id);
    if (results.columns && !columns) columns = results.columns.map(({ name, type }) => ({ name, type }));
    for (const row of results.data ?? []) rows.push(row);
    if (!results.nextUri) break;
    results = await request(results.nextUri, { method: 'GET', headers: { 'X-Trino-User': USER } });
  }
  return { columns: columns ?? [], rows };
}

/** A double-quoted SQL identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A varchar literal, or NULL. */
export function sqlString(value: string | null): string {
  return value === null ? 'NULL' : `'${value.replace(/'/g, "''")}'`;
}

// Trino rejects statements longer than query.max-length (1,000,000 characters by default).
const MAX_BATCH_CHARS = 500_000;
const MAX_BATCH_ROWS = 1_000;

/**
 * (Re)creates memory.default.<table> with every column varchar and inserts the rows (null -> NULL), a few
 * hundred at a time: how tests load raw CSV rows.
 */
export async function loadVarcharTable(trino: TestTrino, table: string, columns: string[], rows: (string | null)[][]): Promise<void> {
  if (columns.length === 0) throw new Error(`loadVarcharTable(${table}): no columns`);
  const target = `memory.default.${quoteIdentifier(table)}`;
  await trino.run(`DROP TABLE IF EXISTS ${target}`);
  await trino.run(`CREATE TABLE ${target} (${columns.map((c) => `${quoteIdentifier(c)} varchar`).join(', ')})`);
  const head = `INSERT INTO ${target} (${columns.map(quoteIdentifier).join(', ')}) VALUES\n`;
  let batch: string[] = [];
  let chars = head.length;
  const flush = async () => {
    if (batch.length > 0) await trino.run(head + batch.join(',\n'));
    batch = [];
    chars = head.length;
  };
  for (const [i, row] of rows.entries()) {
    if (row.length !== columns.length) {
      throw new Error(`loadVarcharTable(${table}): row ${i} has ${row.length} values for ${columns.length} columns`);
    }
    const tuple = `(${row.map(sqlString).join(', ')})`;
    if (batch.length >= MAX_BATCH_ROWS || (batch.length > 0 && chars + tuple.length + 2 > MAX_BATCH_CHARS)) await flush();
    batch.push(tuple);
    chars += tuple.length + 2;
  }
  await flush();
}
