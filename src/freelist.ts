/**
 * freelist.ts: the segregated free lists and their two-level bitmaps.
 * Main entry points: `insertFree`, `removeFree`, `findFree`.
 *
 * ```
 *  FL_BITMAP         bit fl           ─┐
 *  SL_BITMAP[fl]     bit sl            ├─ all in the root's tables (layout.ts)
 *  HEAD[fl][sl]      first free block ─┘
 *
 *  HEAD[li] ──► block ◄──► block ◄──► block ──► 0     (doubly linked, LIFO)
 * ```
 * Invariants (checked by check.ts):
 * - bit sl of SL_BITMAP[fl] is set iff HEAD[fl][sl] ≠ 0;
 * - bit fl of FL_BITMAP is set iff SL_BITMAP[fl] ≠ 0;
 * - a block is in list li iff it is free and mappingInsert(size) = li;
 * - the head's prev link is 0, and next(prev(b)) = b for every other b.
 */
import { nextFree, prevFree, setNextFree, setPrevFree, sizeOf, header } from './block.js';
import * as layout from './layout.js';
import * as sizeclass from './sizeclass.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { FL_COUNT, SL_BITS, SL_COUNT, SMALL_BLOCK, T_FL_BITMAP, T_HEADS, T_SL_BITMAP } = layout;
const { LIST_COUNT, mappingInsert, mappingSearch } = sizeclass;

const SL_MASK = SL_COUNT - 1;

/**
 * How many blocks of the request's own list `findFree` tries before moving
 * up to a list whose blocks all fit. Tuned on the real traces.
 */
export const EXACT_LIST_SCAN = 8;

/** Lowest set bit's index (x ≠ 0). */
function ffs(x: number): number {
	return 31 - Math.clz32(x & -x);
}

/** Head of list `li` (0 = empty). */
export function listHead(m: Uint32Array, root: number, li: number): number {
	return m[root + T_HEADS + li];
}

/** Files free block `block` of `size` bytes at the head of its list. */
export function insertFree(m: Uint32Array, root: number, block: number, size: number): void {
	const li = mappingInsert(size);
	const hi = root + T_HEADS + li;
	const head = m[hi];
	setNextFree(m, block, head);
	setPrevFree(m, block, 0);
	if (head !== 0) setPrevFree(m, head, block);
	m[hi] = block;
	const fl = li >>> SL_BITS;
	m[root + T_SL_BITMAP + fl] |= 1 << (li & SL_MASK);
	m[root + T_FL_BITMAP] |= 1 << fl;
}

/** Unlinks free block `block` of `size` bytes from its list. */
export function removeFree(m: Uint32Array, root: number, block: number, size: number): void {
	const next = nextFree(m, block);
	const prev = prevFree(m, block);
	if (next !== 0) setPrevFree(m, next, prev);
	if (prev !== 0) {
		setNextFree(m, prev, next);
		return;
	}
	const li = mappingInsert(size);
	m[root + T_HEADS + li] = next;
	if (next === 0) {
		const fl = li >>> SL_BITS;
		const sli = root + T_SL_BITMAP + fl;
		const slMap = m[sli] & ~(1 << (li & SL_MASK));
		m[sli] = slMap;
		if (slMap === 0) m[root + T_FL_BITMAP] &= ~(1 << fl);
	}
}

/**
 * Puts free block `neu` in the list position of free block `old`, which
 * leaves the list: for a block that shrinks (or grows) within one size
 * class, this saves an unlink and a link, and the bitmaps stay as they are.
 */
export function replaceFree(m: Uint32Array, root: number, old: number, neu: number, li: number): void {
	const next = nextFree(m, old);
	const prev = prevFree(m, old);
	setNextFree(m, neu, next);
	setPrevFree(m, neu, prev);
	if (next !== 0) setPrevFree(m, next, neu);
	if (prev !== 0) setNextFree(m, prev, neu);
	else m[root + T_HEADS + li] = neu;
}

/**
 * Free block `neu` of `newSize` bytes takes the place of free block `old` of
 * `oldSize` bytes in the lists: its list position when both map to the same
 * list (nothing to do when they are the same block), else `old` is unlinked
 * and `neu` filed at the head of its list.
 */
export function relinkFree(m: Uint32Array, root: number, old: number, oldSize: number, neu: number, newSize: number): void {
	const li = mappingInsert(newSize);
	if (mappingInsert(oldSize) === li) {
		if (old !== neu) replaceFree(m, root, old, neu, li);
		return;
	}
	removeFree(m, root, old, oldSize);
	insertFree(m, root, neu, newSize);
}

/** Head of the first non-empty list at or after `li` (0 = none). */
export function firstNonEmpty(m: Uint32Array, root: number, li: number): number {
	if (li >= LIST_COUNT) return 0;
	let fl = li >>> SL_BITS;
	let slMap = m[root + T_SL_BITMAP + fl] & (~0 << (li & SL_MASK));
	if (slMap === 0) {
		const flMap = fl + 1 < FL_COUNT ? m[root + T_FL_BITMAP] & (~0 << (fl + 1)) : 0;
		if (flMap === 0) return 0;
		fl = ffs(flMap);
		slMap = m[root + T_SL_BITMAP + fl];
	}
	return m[root + T_HEADS + ((fl << SL_BITS) | ffs(slMap))];
}

/** First block of list `li` with size ≥ `size`, trying at most `limit` blocks. */
function scanList(m: Uint32Array, root: number, li: number, size: number, limit: number): number {
	let b = m[root + T_HEADS + li];
	for (let n = 0; b !== 0 && n < limit; n++) {
		if (sizeOf(header(m, b)) >= size) return b;
		b = nextFree(m, b);
	}
	return 0;
}

/**
 * A free block of at least `size` bytes, still linked (0 = none fits).
 * Good fit: first the request's own list (a few blocks of it), then the head
 * of the first list whose blocks all fit, found with two find-first-set
 * operations; only when nothing else fits, the rest of the request's own
 * list, so that a block that fits is never missed.
 */
export function findFree(m: Uint32Array, root: number, size: number): number {
	const search = mappingSearch(size);
	if (size < SMALL_BLOCK) return firstNonEmpty(m, root, search);
	const li = mappingInsert(size);
	if (search !== li) {
		const b = scanList(m, root, li, size, EXACT_LIST_SCAN);
		if (b !== 0) return b;
	}
	const b = firstNonEmpty(m, root, search);
	if (b !== 0 || search === li) return b;
	return scanList(m, root, li, size, Number.POSITIVE_INFINITY);
}
