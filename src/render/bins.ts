/**
 * bins.ts: the TLSF free-list tables as data, for drawing them. Main entry
 * point: `tlsfBins(heap)`. Uses no Node API.
 *
 * ```
 *  FL_BITMAP        bit fl set iff SL_BITMAP[fl] ≠ 0
 *  SL_BITMAP[fl]    bit sl set iff HEAD[fl][sl] ≠ 0
 *  HEAD[fl][sl] ──► block ◄──► block ◄──► … ──► 0
 * ```
 * It reads the words as they are in the root's tables (layout.ts:
 * T_FL_BITMAP, T_SL_BITMAP, T_HEADS) and walks each non-empty list with the
 * free-list accessors, so a picture of it shows the heap's real state, bits
 * and all (and `check()` says whether they agree).
 */
import { header, nextFree, sizeOf } from '../block.js';
import { listHead } from '../freelist.js';
import type { Heap } from '../heap.js';
import { FL_COUNT, SL_BITS, SL_COUNT, T_FL_BITMAP, T_SL_BITMAP } from '../layout.js';
import { LIST_COUNT, listMinSize } from '../sizeclass.js';

/** One non-empty free list. */
export interface TlsfList {
	/** List index, `fl << SL_BITS | sl`. */
	li: number;
	fl: number;
	sl: number;
	/** Smallest block size the list holds. */
	minSize: number;
	/** One past the largest block size the list holds. */
	maxSize: number;
	/** Header addresses of its blocks, head first (at most `limit`). */
	blocks: number[];
	/** Sizes of those blocks. */
	sizes: number[];
	/** Blocks in the list (counted up to `limit`; more means a broken list). */
	count: number;
}

/** The TLSF tables of a heap. */
export interface TlsfBins {
	/** First-level classes (rows of the table). */
	flCount: number;
	/** Second-level lists per class (columns). */
	slCount: number;
	/** The FL_BITMAP word. */
	flBitmap: number;
	/** The SL_BITMAP words, one per first-level class. */
	slBitmaps: number[];
	/** Every list whose head is not 0, in list order. */
	lists: TlsfList[];
	/**
	 * Classes a block of this heap can fall in: 1 + the first level of the
	 * largest block size the blocks area can hold.
	 */
	usedFlCount: number;
}

/**
 * The FL and SL bitmaps and the non-empty free lists of `heap`, walking each
 * list for at most `limit` blocks (a guard for a corrupt heap). O(free blocks).
 */
export function tlsfBins(heap: Heap, limit = 1 << 20): TlsfBins {
	const m = heap._m;
	const root = heap._root;
	const slBitmaps: number[] = [];
	for (let fl = 0; fl < FL_COUNT; fl++) slBitmaps.push(m[root + T_SL_BITMAP + fl]);
	const lists: TlsfList[] = [];
	for (let li = 0; li < LIST_COUNT; li++) {
		let b = listHead(m, root, li);
		if (b === 0) continue;
		const blocks: number[] = [];
		const sizes: number[] = [];
		for (; b !== 0 && blocks.length < limit; b = nextFree(m, b)) {
			blocks.push(b);
			sizes.push(sizeOf(header(m, b)));
		}
		const maxSize = li + 1 < LIST_COUNT ? listMinSize(li + 1) : 2 ** 32;
		lists.push({ li, fl: li >>> SL_BITS, sl: li & (SL_COUNT - 1), minSize: listMinSize(li), maxSize, blocks, sizes, count: blocks.length });
	}
	const area = heap._sentinel - heap._blocksStart;
	let usedFlCount = 1;
	while (usedFlCount < FL_COUNT && listMinSize(usedFlCount << SL_BITS) <= area) usedFlCount++;
	return { flCount: FL_COUNT, slCount: SL_COUNT, flBitmap: m[root + T_FL_BITMAP], slBitmaps, lists, usedFlCount };
}
