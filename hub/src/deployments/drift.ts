import type { Drift } from '@cuttle/shared';
import type { InventoryApp } from './release-history-repository.js';

/**
 * Compares the hub's record of a machine's current release with what its disk holds for the
 * project's main app (by the last inventory, or a job result since):
 * - unknown: no record, or the machine never reported, or the record installed no package and
 *   the app is absent (nothing to compare);
 * - in-sync: the disk's current release is the recorded one;
 * - drifted: it is another one, or the app is missing though the record installed a package.
 */
export function driftOf(
  record: { release: string; installedPackage: boolean } | null,
  lastReport: string | null,
  app: InventoryApp | null,
): Drift {
  const onDisk = app?.release ?? null;
  const reportedAt = app?.reportedAt ?? lastReport;
  const drift = (state: Drift['state']): Drift => ({ state, onDisk, reportedAt });
  if (record === null || (lastReport === null && app === null)) return drift('unknown');
  if (onDisk === record.release) return drift('in-sync');
  if (onDisk !== null) return drift('drifted');
  return drift(record.installedPackage ? 'drifted' : 'unknown');
}
