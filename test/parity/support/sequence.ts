/**
 * A hostile multi-day sequence for the parity suite: D1, D2, D3, then D2 and D1 again with
 * corrections. It holds what makes engines disagree when their rules drift: whitespace around
 * values, signs, '1.' and '.5', half-cent rounding, overflowing integers and decimals, impossible
 * dates, exact copies in A, B, A order, conflicting keys, orders for customers and products that
 * arrive only later, a late order, a workbook-only partition (two sheets), a gzip partition and a
 * malformed line.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';

export const D1 = '2025-11-01';
export const D2 = '2025-11-02';
export const D3 = '2025-11-03';

const CUSTOMERS = 'customer_id,first_name,last_name,email,join_date,city,state';
const PRODUCTS = ['product_id', 'product_name', 'category', 'price'];
const ORDERS = 'order_id,customer_id,product_id,order_date,order_amount,quantity,delivery_date';

export interface Step {
  /** The step's name: its date, with `-rerun` for the second time. */
  name: string;
  date: string;
  /** Writes the date's partitions (replacing what was there). */
  write(lakeDir: string): Promise<void>;
}

function partition(lakeDir: string, entity: string, date: string): string {
  const dir = path.join(lakeDir, 'raw', entity, date);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const csv = (header: string, lines: string[]) => `${[header, ...lines].join('\n')}\n`;

async function workbook(file: string, sheets: Record<string, string[][]>): Promise<void> {
  const book = new ExcelJS.Workbook();
  for (const [name, rows] of Object.entries(sheets)) {
    const sheet = book.addWorksheet(name);
    sheet.addRow(PRODUCTS);
    // Cells as text: the contract reads values as written, not as a spreadsheet's floats.
    for (const r of rows) sheet.addRow(r);
  }
  await book.xlsx.writeFile(file);
}

const d1Customers = [
  '1,Ann,Lee,ANN@X.IO,2024-01-01,Paris,fr',
  '2,Bob,Ray,bob@x.io,2024-13-01,Rome,IT',
  '3,Cy,Do, ,2024-01-02,Oslo,NO',
  '3,Cy,Do, ,2024-01-02,Oslo,NO',
  '4,Di,Em,di@x.io,2024-01-03,,',
  '" 5 ",Eve,Fox,eve@x.io," 2024-02-29 ",Lyon,fr',
  'x6,Gus,Hay,g@x.io,2024-01-01,Nice,FR',
  '7,Al,Bo,a@b.c,2024-02-30,Metz,FR',
  '99999999999999999999,Big,Key,b@k.c,2024-01-01,Caen,FR',
  '8,Old,Name,o@x.io,2024-01-01,Pau,FR',
  '8,New,Name,n@x.io,2024-01-01,Pau,FR',
  '8,Old,Name,o@x.io,2024-01-01,Pau,FR',
  '+9,Plus,Sign,p@s.c,2024-01-01,Albi,fr',
  '"\t10\t",Tab,Bed,t@b.c,2024-01-01,  Sète ,  ',
];

const d1Products = [
  '10,Pen,Office,1.50',
  '11,Cup,Home,-2',
  '12,Mug,Home,abc',
  '13,Ink,Office,1.005',
  '14,Pad,Office,.5',
  '15,Box,Home,1.',
  '16,Gem,Luxury,123456789.99',
  '17,Tag,Office,+0.004',
  '18,Neg,Office,-0.004',
  '19,Far,Home,  7.25',
  '19,Far,Home,7.26',
];

const d1Orders = [
  '100,1,10,2025-11-01,10.00,1,',
  '101,9,10,2025-11-01,5,2,2025-11-03',
  '102,7,10,2025-11-01,5,1,',
  '103,1,10,2025-11-01,0,1,',
  '104,1,10,2025-11-01,5,1,2025-10-31',
  '105,1,20,2025-11-01,5,1,',
  '106,21,10,2025-11-01,5,1,',
  '107,1,10,,5,1,',
  '108,1,10,2025-11-01,5,1.5,',
  '109,1,10,2025-11-01,5,3000000000,',
  '110,1,10,2025-11-01,5,0,',
  '111,x,10,2025-11-01,5,1,',
  '112,1,10,2025-11-01,5.555,2,2025-11-01',
  '113,3,13,2025-11-01,7,1,',
  '113,3,13,2025-11-01,8,1,',
  '114,8,14,2025-11-01,abc,1,',
  '115,5,10,2025-11-01, 12.5 ,1," 2025-11-02 "',
  '116,4,10,2025-11-01,1,1,2025-02-30',
  '117,1,10,2025-11-01,1,-1,',
  '118,10,19,2025-11-01,2.345,1,',
  '119,8,15,2025-11-01,-0.001,1,',
  '120,1,10,2025-11-01,99999999.995,1,',
];

function d2Customers(rerun: boolean): string[] {
  return [
    '20,Zed,Young,z@y.io,2024-05-05,Tours,fr',
    ...(rerun ? [] : ['21,Late,Comer,l@c.io,2024-05-05,Brest,FR']),
    '1,Ann,Lee-Changed,ann@x.io,2024-01-01,Paris,FR',
  ];
}

function d2Orders(rerun: boolean): string[] {
  return [
    '200,20,20,2025-11-02,30,1,',
    `201,21,21,2025-11-01,499.99,${rerun ? 2 : 1},`,
    '202,1,10,2025-11-02,1.75,1,',
    '113,3,13,2025-11-01,9,1,',
    '203,2,10,2025-11-02,5,1,',
    ...(rerun ? [] : ['204,20,99,2025-11-02,5,1,']),
  ];
}

export const SEQUENCE: Step[] = [
  {
    name: D1,
    date: D1,
    async write(lake) {
      fs.writeFileSync(path.join(partition(lake, 'customers', D1), 'customers.csv'), csv(CUSTOMERS, d1Customers));
      fs.writeFileSync(path.join(partition(lake, 'products', D1), 'products.csv'), csv(PRODUCTS.join(','), d1Products));
      const orders = partition(lake, 'orders', D1);
      fs.writeFileSync(path.join(orders, 'orders_a.csv'), csv(ORDERS, d1Orders.slice(0, 12)));
      fs.writeFileSync(path.join(orders, 'orders_b.csv'), csv(ORDERS, d1Orders.slice(12)));
    },
  },
  {
    name: D2,
    date: D2,
    async write(lake) {
      fs.writeFileSync(path.join(partition(lake, 'customers', D2), 'customers.csv.gz'), zlib.gzipSync(csv(CUSTOMERS, d2Customers(false))));
      await workbook(path.join(partition(lake, 'products', D2), 'products.xlsx'), {
        Main: [
          ['20', 'Lamp', 'Home', '30'],
          ['10', 'Pen', 'Office', '1.75'],
        ],
        More: [['21', 'Sofa', 'Home', '499.999']],
      });
      fs.writeFileSync(path.join(partition(lake, 'orders', D2), 'orders.csv'), csv(ORDERS, d2Orders(false)));
    },
  },
  {
    name: D3,
    date: D3,
    async write(lake) {
      fs.writeFileSync(
        path.join(partition(lake, 'customers', D3), 'customers.csv'),
        csv(CUSTOMERS, ['30,New,Person,n@p.io,2024-06-06,Dax,FR']),
      );
      fs.writeFileSync(path.join(partition(lake, 'products', D3), 'products.csv'), csv(PRODUCTS.join(','), ['30,Chair,Home,45.00']));
      fs.writeFileSync(
        path.join(partition(lake, 'orders', D3), 'orders.csv'),
        csv(ORDERS, ['300,30,30,2025-11-03,45,1,', '301,20,21,2025-11-02,500,1,', '302,30,30,2025-11-03,45,1,,surplus']),
      );
    },
  },
  {
    name: `${D2}-rerun`,
    date: D2,
    async write(lake) {
      fs.writeFileSync(path.join(partition(lake, 'customers', D2), 'customers.csv.gz'), zlib.gzipSync(csv(CUSTOMERS, d2Customers(true))));
      await workbook(path.join(partition(lake, 'products', D2), 'products.xlsx'), {
        Main: [
          ['20', 'Lamp', 'Home', '31'],
          ['10', 'Pen', 'Office', '1.75'],
        ],
        More: [['21', 'Sofa', 'Home', '499.999']],
      });
      fs.writeFileSync(path.join(partition(lake, 'orders', D2), 'orders.csv'), csv(ORDERS, d2Orders(true)));
    },
  },
  {
    name: `${D1}-rerun`,
    date: D1,
    async write(lake) {
      const customers = [...d1Customers.filter((l) => !l.startsWith('4,')), '22,Kim,Ng,k@n.io,2024-07-07,Agen,FR'];
      fs.writeFileSync(path.join(partition(lake, 'customers', D1), 'customers.csv'), csv(CUSTOMERS, customers));
      fs.writeFileSync(path.join(partition(lake, 'products', D1), 'products.csv'), csv(PRODUCTS.join(','), d1Products));
      const orders = partition(lake, 'orders', D1);
      fs.writeFileSync(path.join(orders, 'orders_a.csv'), csv(ORDERS, d1Orders.slice(0, 12)));
      fs.writeFileSync(path.join(orders, 'orders_b.csv'), csv(ORDERS, [...d1Orders.slice(12), '121,22,10,2025-11-01,3,1,']));
    },
  },
];
