/** The extract settings: off when neither is set, one line naming the setting, the file and the entry for each mistake, the URL never shown. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config';
import { loadExtractConfig } from '../../src/config/extract';
import { tempDir } from '../local/support';

const URL = 'postgres://shop:hunter2-secret@db.internal:5432/shop';

function withFile(content: string): { file: string; load: () => ReturnType<typeof loadExtractConfig> } {
  const file = path.join(tempDir('extract-config'), 'extract.json');
  fs.writeFileSync(file, content);
  return { file, load: () => loadExtractConfig({ PIPELINE_EXTRACT_DATABASE_URL: URL, PIPELINE_EXTRACT_CONFIG: file }) };
}

function problem(load: () => unknown): string {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('extract configuration', () => {
  it('is off when neither variable is set, and part of the app configuration when both are', () => {
    expect(loadExtractConfig({})).toBeUndefined();
    expect(loadConfig({}).extract).toBeUndefined();
    const { file } = withFile(
      JSON.stringify({ orders: { query: 'SELECT 1 AS order_id WHERE $1::date IS NOT NULL' }, customers: { table: 'public.customers' } }),
    );
    const config = loadConfig({ PIPELINE_EXTRACT_DATABASE_URL: URL, PIPELINE_EXTRACT_CONFIG: file }).extract;
    expect(config).toEqual({
      databaseUrl: URL,
      configFile: file,
      sources: [
        { entity: 'customers', table: 'public.customers' },
        { entity: 'orders', query: 'SELECT 1 AS order_id WHERE $1::date IS NOT NULL' },
      ],
    });
  });

  it('names the missing half of the pair', () => {
    expect(problem(() => loadExtractConfig({ PIPELINE_EXTRACT_DATABASE_URL: URL }))).toMatch(/^PIPELINE_EXTRACT_CONFIG: is missing; /);
    expect(problem(() => loadExtractConfig({ PIPELINE_EXTRACT_CONFIG: 'x.json' }))).toMatch(/^PIPELINE_EXTRACT_DATABASE_URL: is missing; /);
  });

  it('names the file and the entry of each mistake in one line', () => {
    expect(problem(withFile('{"orders": ').load)).toMatch(/^PIPELINE_EXTRACT_CONFIG: .*extract\.json is not JSON: /);
    expect(problem(withFile('{"shipments": {"table": "public.shipments"}}').load)).toMatch(
      /^PIPELINE_EXTRACT_CONFIG: .*extract\.json: shipments: unknown entity; expected customers, products, orders$/,
    );
    expect(problem(withFile('{"orders": {"table": "orders; DROP TABLE orders"}}').load)).toMatch(
      /extract\.json: orders\.table: expected a table name such as public\.customers$/,
    );
    expect(problem(withFile('{"orders": {"table": "orders", "query": "SELECT 1"}}').load)).toMatch(
      /extract\.json: orders: expected \{"table": \.\.\.\} or \{"query": \.\.\.\}$/,
    );
    expect(problem(withFile('{}').load)).toMatch(/names no entity/);
    expect(
      problem(() => loadExtractConfig({ PIPELINE_EXTRACT_DATABASE_URL: URL, PIPELINE_EXTRACT_CONFIG: '/nonexistent/extract.json' })),
    ).toBe('PIPELINE_EXTRACT_CONFIG: cannot read /nonexistent/extract.json: ENOENT');
    for (const m of [problem(withFile('{}').load)]) expect(m.split('\n')).toHaveLength(1);
  });

  it('never shows the database URL or its password in an error', () => {
    const message = problem(() => loadExtractConfig({ PIPELINE_EXTRACT_DATABASE_URL: 'mysql://shop:hunter2-secret@db.internal/shop' }));
    expect(message).toMatch(/^PIPELINE_EXTRACT_DATABASE_URL: /);
    expect(message).not.toContain('hunter2-secret');
  });
});
