/**
 * Arrivals in the local lake folder, found by listing it every few seconds: fs.watch's recursive
 * mode is unreliable on Linux with Node 20, and a listing is what the sensor does anyway. A date is
 * reported when its partitions' listing differs from the previous scan's (a new file, a file that
 * grew, a temporary file renamed into place).
 */
import type { RawPartitionListing } from '../activities/types';
import type { ArrivalSource } from './watcher';
import { abortableSleep } from './watcher';
import type { ListDate } from './partitions';
import { lakeFolderDates } from './partitions';
import { listingSignature } from './readiness';

export class FolderSource implements ArrivalSource {
  readonly kind = 'folder' as const;
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly lakeDir: string,
    private readonly list: ListDate,
    readonly scanIntervalMs: number,
  ) {}

  describe(): string {
    return `the lake folder ${this.lakeDir}/raw (listed every ${this.scanIntervalMs / 1000} s)`;
  }

  get idleWaitMs(): number {
    return this.scanIntervalMs;
  }

  /** The dates already in the lake, with what they hold, as the baseline of later scans. */
  async initial(): Promise<{ runDate: string; listings: RawPartitionListing[] }[]> {
    const out: { runDate: string; listings: RawPartitionListing[] }[] = [];
    for (const runDate of lakeFolderDates(this.lakeDir)) {
      try {
        const listings = await this.list(runDate);
        this.seen.set(runDate, listingSignature(listings));
        out.push({ runDate, listings });
      } catch (err) {
        this.seen.set(runDate, `unlistable: ${(err as Error).message}`);
      }
    }
    return out;
  }

  async next(waitMs: number, signal: AbortSignal): Promise<string[]> {
    await abortableSleep(Math.min(waitMs, this.scanIntervalMs), signal);
    if (signal.aborted) return [];
    const changed: string[] = [];
    for (const runDate of lakeFolderDates(this.lakeDir)) {
      let signature: string;
      try {
        signature = listingSignature(await this.list(runDate));
      } catch (err) {
        // The watcher lists the date itself and says what is wrong with it, once per change.
        signature = `unlistable: ${(err as Error).message}`;
      }
      if (this.seen.get(runDate) !== signature) changed.push(runDate);
      this.seen.set(runDate, signature);
    }
    return changed;
  }

  release(): Promise<void> {
    return Promise.resolve(); // nothing is held: the folder is listed again on every scan
  }
}
