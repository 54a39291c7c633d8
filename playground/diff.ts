/**
 * diff.ts: what one heap call did to the blocks, found by comparing the
 * walker's blocks before and after it, so the page can flash the blocks a
 * split made and the block a coalesce made, and say so in words.
 *
 * ```
 *  before  │  A  │     free F      │  B  │          │  X  │ free │  Y  │ free │
 *  after   │  A  │ new │ rest of F │  B  │          │  X  │      free        │
 *                └ split: 1 → 2 ┘                         └ merge: 3 → 1 ┘
 * ```
 * Both lists tile the same bytes, so they share a set of boundaries (block
 * starts present in both). Between two shared boundaries lies a "change"
 * when the blocks differ: k blocks before, m after. k = 1, m > 1 is a
 * split; k > 1, m = 1 a merge (coalesce, or a realloc that absorbed its
 * neighbour); anything else a reshuffle.
 */
export interface Blk {
	block: number;
	size: number;
	free: boolean;
}

export type ChangeKind = 'split' | 'merge' | 'reshape' | 'state';

/** One region of the heap that changed. */
export interface Change {
	kind: ChangeKind;
	before: Blk[];
	after: Blk[];
}

/** The regions where `after` differs from `before` (both in address order, tiling the same range). */
export function diffBlocks(before: Blk[], after: Blk[]): Change[] {
	const changes: Change[] = [];
	let i = 0;
	let j = 0;
	while (i < before.length && j < after.length) {
		const b = before[i];
		const a = after[j];
		if (b.block === a.block && b.size === a.size) {
			if (b.free !== a.free) changes.push({ kind: 'state', before: [b], after: [a] });
			i++;
			j++;
			continue;
		}
		// Grow both sides until they end at the same address.
		const bs: Blk[] = [b];
		const as: Blk[] = [a];
		let bEnd = b.block + b.size;
		let aEnd = a.block + a.size;
		i++;
		j++;
		while (bEnd !== aEnd) {
			if (bEnd < aEnd) {
				if (i >= before.length) break;
				bs.push(before[i]);
				bEnd += before[i++].size;
			} else {
				if (j >= after.length) break;
				as.push(after[j]);
				aEnd += after[j++].size;
			}
		}
		const kind: ChangeKind = bs.length === 1 && as.length > 1 ? 'split' : bs.length > 1 && as.length === 1 ? 'merge' : 'reshape';
		changes.push({ kind, before: bs, after: as });
	}
	return changes;
}
