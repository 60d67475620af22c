/**
 * DuckDB checks a key's text by regex only when it is not its number's shortest text
 * (`Dialect.integerText`). The shortcut must judge every text as the plain check does: texts that
 * are the shortest form, texts that are well-formed but not it (signs, zeros, blanks around), and
 * texts DuckDB's cast would take but the contract does not (exponents, underscores, hex).
 */
import { describe, expect, it } from 'vitest';
import { duckdb } from '../../src/rules/dialect';
import { ruleStatements } from '../../src/rules/verdicts';
import type { StepInputs } from './support/engines';
import { runDuckdb } from './support/engines';

const KEY_TEXTS: [string | null, string | null][] = [
  ['1', null],
  ['0', null],
  ['-7', null],
  ['9223372036854775807', null],
  ['+5', null],
  ['007', null],
  [' 12 ', null],
  ['\t13\n', null],
  ['-08', null],
  ['1e3', 'missing_key'],
  ['1_000', 'missing_key'],
  ['0x1F', 'missing_key'],
  ['1.0', 'missing_key'],
  ['9223372036854775808', 'missing_key'],
  ['', 'missing_key'],
  ['  ', 'missing_key'],
  [null, 'missing_key'],
  ['1 2', 'missing_key'],
  ['+-3', 'missing_key'],
];

function inputs(): StepInputs {
  const order = (i: number, id: string | null) => ({
    ord: i + 2,
    file: 'orders.csv',
    cols: {
      order_id: id,
      customer_id: '1',
      product_id: '1',
      order_date: '2025-01-02',
      order_amount: '10.00',
      quantity: '1',
      delivery_date: null,
      malformed_line: null,
    },
  });
  return {
    raw: {
      customers: [
        {
          ord: 2,
          file: 'customers.csv',
          cols: {
            customer_id: '1',
            first_name: 'Ada',
            last_name: 'L',
            email: 'a@example.com',
            join_date: '2024-01-01',
            city: 'X',
            state: 'CA',
            malformed_line: null,
          },
        },
      ],
      products: [
        {
          ord: 2,
          file: 'products.csv',
          cols: { product_id: '1', product_name: 'P', category: 'C', price: '1.00', malformed_line: null },
        },
      ],
      orders: KEY_TEXTS.map(([id], i) => order(i, id)),
    },
    known: { customers: [], products: [] },
  };
}

describe("DuckDB's key shortcut", () => {
  it('is rendered for the key only, and judges every key text as the plain check does', async () => {
    const plainDialect = { ...duckdb, integerText: undefined };
    const withShortcut = ruleStatements(duckdb).find((s) => s.name === 'orders_keyed')!.select;
    expect(withShortcut).toContain('CAST("t_order_id" AS VARCHAR) = "order_id"');
    expect(withShortcut).not.toContain('CAST("t_customer_id" AS VARCHAR)');
    expect(ruleStatements(plainDialect).find((s) => s.name === 'orders_keyed')!.select).not.toContain('AS VARCHAR) =');

    const [fast, plain] = await Promise.all([runDuckdb(inputs()), runDuckdb(inputs(), undefined, plainDialect)]);
    const reasons = (r: typeof fast) => [...r.verdicts.orders].sort((a, b) => a.ord - b.ord).map((v) => v.reason);
    expect(reasons(fast)).toEqual(KEY_TEXTS.map(([, reason]) => reason));
    expect(fast.verdicts).toEqual(plain.verdicts);
    expect(fast.quality).toEqual(plain.quality);
  });
});
