/**
 * sizeclass.ts: the TLSF mapping from a block size to a free list.
 *
 * A list is named by one number, `li = fl << SL_BITS | sl`.
 *
 * ```
 *  blockSize < SMALL_BLOCK (256):  fl = 0, sl = size / 8     (exact classes)
 *  blockSize ≥ SMALL_BLOCK:
 *     bit   31 ...  lg  lg-1 .. lg-SL_BITS  ...  0
 *          ┌─────┬────┬───────────────────┬────────┐
 *          │  0  │ 1  │        sl         │ ignored│    fl = lg − FL_SHIFT
 *          └─────┴────┴───────────────────┴────────┘
 * ```
 * List (fl, sl) for fl ≥ 1 holds sizes in
 * `[2^lg + sl·2^(lg−SL_BITS), 2^lg + (sl+1)·2^(lg−SL_BITS))`, lg = fl + FL_SHIFT.
 */
import * as layout from './layout.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { ALIGN_BITS, FL_COUNT, FL_SHIFT, SL_BITS, SL_COUNT, SMALL_BLOCK } = layout;

/** Index of the list a free block of `size` bytes is filed in (mapping_insert). */
export function mappingInsert(size: number): number {
	if (size < SMALL_BLOCK) return size >>> ALIGN_BITS;
	const lg = 31 - Math.clz32(size);
	return ((lg - FL_SHIFT) << SL_BITS) | ((size >>> (lg - SL_BITS)) ^ SL_COUNT);
}

/**
 * Index of the first list all of whose blocks are ≥ `size` (mapping_search):
 * the request is rounded up to the next list boundary first. Returns
 * LIST_COUNT when no list can hold it.
 */
export function mappingSearch(size: number): number {
	if (size < SMALL_BLOCK) return size >>> ALIGN_BITS;
	const lg = 31 - Math.clz32(size);
	const li = ((lg - FL_SHIFT) << SL_BITS) | ((size >>> (lg - SL_BITS)) ^ SL_COUNT);
	// A size exactly on a list boundary fits every block of its own list.
	return (size & ((1 << (lg - SL_BITS)) - 1)) === 0 ? li : li + 1;
}

/** Number of lists. */
export const LIST_COUNT = FL_COUNT * SL_COUNT;

/** Smallest block size list `li` can hold. */
export function listMinSize(li: number): number {
	const fl = li >>> SL_BITS;
	const sl = li & (SL_COUNT - 1);
	if (fl === 0) return sl << ALIGN_BITS;
	const lg = fl + FL_SHIFT;
	return 2 ** lg + sl * 2 ** (lg - SL_BITS);
}
