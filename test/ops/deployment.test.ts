/**
 * The deployment files: docker-compose.yml validates with the docker client's `compose config` (no
 * engine needed) and has the shape operations rely on; .env.example documents every setting the
 * code reads; the Dockerfile builds the way the README says; the setup scripts parse.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '..', '..');

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  ports?: { host_ip?: string; published?: string; target: number }[];
  volumes?: { type: string; source?: string; target: string; read_only?: boolean }[];
  depends_on?: Record<string, { condition: string }>;
  platform?: string;
  healthcheck?: unknown;
}
let services: Record<string, ComposeService>;

function compose(args: string[], extra: string[] = []): { code: number | null; out: string; err: string } {
  const r = spawnSync('docker', ['compose', '--project-directory', ROOT, ...extra, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  const client = spawnSync('docker', ['--version'], { encoding: 'utf8' });
  if (client.error)
    throw new Error('the docker client is not installed: these tests validate docker-compose.yml with `docker compose config`');
  const plugin = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  if (plugin.status !== 0) {
    throw new Error(
      `\`docker compose\` is not available (${plugin.stderr.trim()}); install it with \`bash deploy/compose/ensure-compose-plugin.sh\``,
    );
  }
  const r = compose(['config', '--format', 'json'], ['--env-file', path.join(ROOT, '.env.example')]);
  expect(r.code, r.err).toBe(0);
  services = (JSON.parse(r.out) as { services: Record<string, ComposeService> }).services;
});

describe('docker-compose.yml', () => {
  it('validates with the defaults and with .env.example', () => {
    const plain = compose(['config', '--quiet']);
    expect(plain.code, plain.err).toBe(0);
    expect(plain.err).toBe('');
    const withEnv = compose(['config', '--quiet'], ['--env-file', path.join(ROOT, '.env.example')]);
    expect(withEnv.code, withEnv.err).toBe(0);
  });

  it('is rejected when broken (the validation is real)', () => {
    const broken = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'compose-')), 'override.yml');
    fs.writeFileSync(broken, 'services:\n  worker:\n    depends_on:\n      no-such-service:\n        condition: service_healthy\n');
    const r = compose(['config', '--quiet'], ['-f', path.join(ROOT, 'docker-compose.yml'), '-f', broken]);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/no-such-service/);
  });

  it('pins every pulled image to a version (the pipeline image is built from the pinned Dockerfile)', () => {
    for (const [name, s] of Object.entries(services).filter(([, s]) => !s.build)) {
      expect(s.image, name).toMatch(/^[\w./-]+:[\w.-]*\d[\w.-]*$/);
      expect(s.image, name).not.toMatch(/:latest$/);
    }
    expect(services.temporal!.image).toMatch(/^temporalio\/server:\d+\.\d+\.\d+$/);
    expect(services['temporal-ui']!.image).toMatch(/^temporalio\/ui:\d+\.\d+\.\d+$/);
    expect(services.postgresql!.image).toMatch(/^postgres:\d+/);
  });

  it('publishes ports on 127.0.0.1 only', () => {
    const published = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThanOrEqual(3);
    for (const p of published) expect(p.host_ip).toBe('127.0.0.1');
  });

  it('starts in order: schema, server, namespace, setup (search attributes + schedule), worker', () => {
    expect(services.temporal!.depends_on).toMatchObject({ 'temporal-schema': { condition: 'service_completed_successfully' } });
    expect(services['temporal-namespace']!.depends_on).toMatchObject({ temporal: { condition: 'service_healthy' } });
    expect(services['pipeline-setup']!.depends_on).toMatchObject({ 'temporal-namespace': { condition: 'service_completed_successfully' } });
    expect(services.worker!.depends_on).toMatchObject({ 'pipeline-setup': { condition: 'service_completed_successfully' } });
    expect(services['pipeline-setup']!.command).toEqual([
      'schedule',
      'create',
      '--register-search-attributes',
      '--id',
      'daily-ecommerce-pipeline',
      '--cron',
      '40 19 * * *',
      '--time-zone',
      'UTC',
      '--overlap',
      'skip',
      '--catchup-window',
      '1 day',
    ]);
  });

  it('runs the worker from the Dockerfile with the lake and warehouse on volumes and metrics on', () => {
    const w = services.worker!;
    expect(w.build).toMatchObject({ dockerfile: 'Dockerfile' });
    expect(w.command).toEqual(['worker']);
    expect(w.platform).toBe('linux/amd64');
    expect(w.volumes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'volume', source: 'lake', target: '/data/lake' }),
        expect.objectContaining({ type: 'volume', source: 'warehouse', target: '/data/warehouse' }),
      ]),
    );
    expect(w.environment).toMatchObject({
      TEMPORAL_ADDRESS: 'temporal:7233',
      PIPELINE_LAKE_DIR: '/data/lake',
      PIPELINE_WAREHOUSE_PATH: '/data/warehouse/warehouse.duckdb',
      PIPELINE_METRICS_ADDRESS: '0.0.0.0:9464',
      PIPELINE_TASK_QUEUE: 'ecommerce-pipeline',
    });
    expect(w.healthcheck).toBeDefined();
    expect(services.temporal!.volumes).toEqual(
      expect.arrayContaining([expect.objectContaining({ target: '/etc/temporal/config/dynamicconfig', read_only: true })]),
    );
  });
});

describe('.env.example', () => {
  it('lists every setting the code reads, each with a comment above its group', () => {
    const sources = ['src/config/index.ts', 'src/config/local.ts', 'src/config/temporal.ts', 'src/config/aws.ts', 'src/worker.ts']
      .map((f) => fs.readFileSync(path.join(ROOT, f), 'utf8'))
      .join('\n');
    const read = new Set(sources.match(/\b(?:PIPELINE|TEMPORAL)_[A-Z_]+\b|\bAWS_REGION\b/g));
    expect(read.size).toBeGreaterThan(30);
    const example = fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]));
    const missing = [...read].filter((k) => !listed.has(k));
    expect(missing).toEqual([]);
    expect(example.split('\n').filter((l) => l.startsWith('#')).length).toBeGreaterThan(30);
  });

  it('holds values the configuration accepts', async () => {
    const { loadConfig } = await import('../../src/config');
    const env = Object.fromEntries(
      [...fs.readFileSync(path.join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    expect(() => loadConfig(env)).not.toThrow();
  });
});

describe('Dockerfile and scripts', () => {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');

  it('builds in two stages and runs production dependencies as a non-root user', () => {
    const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\w+)$/gm)].map((m) => m[2]);
    expect(stages).toEqual(['build', 'runtime']);
    const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));
    expect(dockerfile.slice(0, dockerfile.indexOf('AS runtime'))).toMatch(/RUN npm run build/);
    expect(runtime).toMatch(/RUN npm ci .*--omit=dev/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(runtime).toMatch(/PIPELINE_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
    expect(runtime).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$/m);
  });

  it('keeps secrets and local state out of the build context', () => {
    const ignored = fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', '.env', 'data', '.git', 'dist']) expect(ignored).toContain(entry);
  });

  it('has shell scripts that parse', () => {
    for (const script of ['deploy/compose/temporal-schema.sh', 'deploy/compose/temporal-namespace.sh']) {
      expect(() => execFileSync('sh', ['-n', path.join(ROOT, script)])).not.toThrow();
    }
    for (const script of [
      'deploy/compose/ensure-compose-plugin.sh',
      'scripts/setup/40-chromium.sh',
      'scripts/ensure-temporal-cli.sh',
      'scripts/lib/build-once.sh',
      '.ci/run',
    ]) {
      expect(() => execFileSync('bash', ['-n', path.join(ROOT, script)])).not.toThrow();
    }
  });
});
