/**
 * The lake folder: where raw partitions are read and where bronze, silver, gold and rejects Parquet
 * is written, one `batch_date=D` folder per table and batch. Raw files are only ever read.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Entity } from '../../shared/contract';
import { ENTITIES, rawPartitionPrefix, unreadFileReason } from '../../shared/contract';
import type { RawObject, RawPartitionListing, UnreadItem } from '../types';
import { badConfig, invalidData } from '../errors';

export type Layer = 'bronze' | 'silver' | 'gold' | 'rejects';

export interface RawFile {
  key: string; // lake-relative, forward slashes
  name: string; // file name inside the partition
  absPath: string;
  size: number;
  /** By the name's ending, in any case: `ORDERS.CSV.GZ` is gzip-compressed CSV. */
  kind: 'csv' | 'csv.gz' | 'xlsx';
  lastModified: string;
}

export class Lake {
  constructor(readonly root: string) {}

  /** The lake folder must exist; a missing folder is a configuration mistake, not an empty lake. */
  assertExists(): void {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(this.root);
    } catch {
      throw badConfig(`PIPELINE_LAKE_DIR: lake folder ${this.root} does not exist`);
    }
    if (!stat.isDirectory()) throw badConfig(`PIPELINE_LAKE_DIR: ${this.root} is not a folder`);
  }

  partitionDir(entity: Entity, runDate: string): string {
    return path.join(this.root, 'raw', entity, runDate);
  }

  /**
   * Supported raw files in name order (the order that decides duplicate_key), plus everything else the
   * partition holds, each with the reason it is not read. Nothing is followed out of the partition:
   * symbolic links are not read, and a partition folder that resolves outside the lake is refused.
   */
  listRaw(entity: Entity, runDate: string): { files: RawFile[]; unread: UnreadItem[] } {
    this.assertExists();
    const prefix = rawPartitionPrefix(entity, runDate);
    const dir = this.partitionDir(entity, runDate);
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      // The sensor keeps waiting on a partition that has not arrived yet.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: [], unread: [] };
      throw err;
    }
    this.assertInside(dir, prefix);
    const files: RawFile[] = [];
    const unread: UnreadItem[] = [];
    for (const e of [...entries].sort((a, b) => compareNames(a.name, b.name))) {
      const key = prefix + e.name;
      const lower = e.name.toLowerCase();
      const notRead = (reason: string) => unread.push({ key, reason });
      const byName = unreadFileReason(e.name);
      if (e.isSymbolicLink()) notRead('a symbolic link: links are not followed; copy the file into the partition');
      else if (e.isDirectory()) notRead('a folder: partitions are not read recursively');
      else if (!e.isFile()) notRead('not a regular file');
      else if (byName) notRead(byName);
      else {
        const absPath = path.join(dir, e.name);
        const stat = fs.statSync(absPath);
        const kind = lower.endsWith('.xlsx') ? 'xlsx' : lower.endsWith('.gz') ? 'csv.gz' : 'csv';
        files.push({ key, name: e.name, absPath, size: stat.size, kind, lastModified: stat.mtime.toISOString() });
      }
    }
    return { files, unread };
  }

  /** A partition reached through a link to somewhere outside the lake is refused by name. */
  private assertInside(dir: string, prefix: string): void {
    const root = fs.realpathSync(this.root);
    const real = fs.realpathSync(dir);
    if (real !== root && !real.startsWith(root + path.sep)) {
      throw invalidData(
        `${prefix}: the partition folder resolves to ${real}, outside the lake folder ${root}; nothing outside the lake is read`,
      );
    }
  }

  listing(entity: Entity, runDate: string): RawPartitionListing {
    const { files, unread } = this.listRaw(entity, runDate);
    const objects: RawObject[] = files.map((f) => ({ key: f.key, size: f.size, lastModified: f.lastModified }));
    return { entity, prefix: rawPartitionPrefix(entity, runDate), objects, ignored: unread.map((u) => u.key) };
  }

  tableDir(layer: Layer, table: string, runDate: string): string {
    return path.join(this.root, 'processed', layer, table, `batch_date=${runDate}`);
  }

  /** Where the batch's per-row verdicts are kept between validate and transform (see verdicts.ts). */
  verdictsDir(runDate: string): string {
    return path.join(this.root, 'processed', '_verdicts', `batch_date=${runDate}`);
  }

  /**
   * About how much data a day is: the bytes of its raw files as stored, or, once they are gone, of its
   * bronze Parquet scaled to CSV (about five times smaller). Nothing is checked or refused here.
   */
  dayBytes(runDate: string): number {
    const sum = (dir: string) => {
      try {
        return fs
          .readdirSync(dir, { withFileTypes: true })
          .reduce((n, e) => (e.isFile() ? n + fs.statSync(path.join(dir, e.name)).size : n), 0);
      } catch {
        return 0;
      }
    };
    const raw = ENTITIES.reduce((n, e) => n + sum(this.partitionDir(e, runDate)), 0);
    return raw > 0 ? raw : 5 * ENTITIES.reduce((n, e) => n + sum(this.tableDir('bronze', e, runDate)), 0);
  }

  /** Batch folders of a table, oldest first, as [date, folder]. */
  batches(layer: Layer, table: string): [string, string][] {
    const dir = path.join(this.root, 'processed', layer, table);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .map((n) => /^batch_date=(\d{4}-\d{2}-\d{2})$/.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => [m[1], path.join(dir, m[0])] as [string, string])
      .sort((a, b) => a[0].localeCompare(b[0]));
  }

  /** Parquet files of one batch folder (empty when the folder does not exist). */
  parquetFiles(dir: string): string[] {
    try {
      return fs
        .readdirSync(dir)
        .filter((n) => n.endsWith('.parquet'))
        .sort()
        .map((n) => path.join(dir, n));
    } catch {
      return [];
    }
  }

  /** Removes every job's staged output (at start-up, when no job of this lake can be running). */
  removeStaging(): void {
    fs.rmSync(path.join(this.root, 'processed', '_staging'), { recursive: true, force: true });
  }

  /** A fresh folder to write a job's output into before it replaces the published folders. */
  stagingDir(jobId: string): string {
    const dir = path.join(this.root, 'processed', '_staging', jobId);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Replaces a batch folder with a staged one. Each folder swaps by rename, so a reader sees the old
   * batch or the new one, never half of each.
   */
  publish(staged: string, target: string): void {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const old = `${target}.old-${process.pid}-${Date.now()}`;
    const hadOld = fs.existsSync(target);
    if (hadOld) fs.renameSync(target, old);
    fs.renameSync(staged, target);
    if (hadOld) fs.rmSync(old, { recursive: true, force: true });
  }
}

/** Files as they are now (name, size, modification time): a file rewritten since gives another signature. */
export function filesSignature(files: string[]): string {
  return files
    .map((f) => {
      const st = fs.statSync(f);
      return `${path.basename(f)}:${st.size}:${st.mtimeMs}`;
    })
    .join('|');
}

/** Plain code-point order, so every backend agrees on "name order" regardless of locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
