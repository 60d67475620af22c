/**
 * What the rawDataArrived signal does to a run: it is written down in the status, nothing more. The
 * sensor still decides, by listing the partitions, when the data is there; the signal tells an
 * operator why an event-started run exists and what the watcher saw.
 */
import type { PipelineStatus, RawDataArrival } from './definitions';
import { ARRIVAL_KEYS_KEPT } from './definitions';

export function recordArrival(status: PipelineStatus, arrival: RawDataArrival | undefined): void {
  const seen = status.arrivals ?? { signals: 0, lastAt: '', keys: [] };
  seen.signals += 1;
  seen.lastAt = typeof arrival?.at === 'string' ? arrival.at : seen.lastAt;
  for (const key of Array.isArray(arrival?.keys) ? arrival.keys : []) {
    if (seen.keys.length >= ARRIVAL_KEYS_KEPT) break;
    if (typeof key === 'string' && !seen.keys.includes(key)) seen.keys.push(key);
  }
  status.arrivals = seen;
}
