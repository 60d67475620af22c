/**
 * What a partition holds that the catalog did not read. The data contract allows nothing to be
 * ignored silently, so every backend reports these and the workflow names them in the catalog
 * stage's status and in the notice. Pure data only: this module is bundled into workflow code.
 */

/** Something in a partition that was not read, and why. */
export interface UnreadItem {
  /** Lake- or bucket-relative key; a workbook sheet as `raw/.../book.xlsx[Sheet]`. */
  key: string;
  reason: string;
}

/** How many items a one-line summary names before it says "and N more". */
const NAMED = 5;

/** One line for a stage message or a gate failure: `2 items in the partitions were not read: a (why); b (why)`. */
export function unreadSummary(unread: readonly UnreadItem[]): string {
  const named = unread.slice(0, NAMED).map((u) => `${u.key} (${u.reason})`);
  const more = unread.length > NAMED ? `; and ${unread.length - NAMED} more` : '';
  return `${unread.length} item${unread.length === 1 ? '' : 's'} in the partitions ${unread.length === 1 ? 'was' : 'were'} not read: ${named.join('; ')}${more}`;
}
