/**
 * block.ts: the named accessors for block headers, footers and free links,
 * and for the root's counters. Every raw read or write of heap memory goes
 * through a function here (or in freelist.ts / bitmap.ts, which own their
 * words). The byte layout they implement is drawn in layout.ts:
 *
 * ```
 *  block+0        header   size | A | P | F
 *  block+4        next free link   (free blocks only)
 *  block+8        prev free link   (free blocks only)
 *  block+size−4   footer = size    (free blocks only)
 *  block+size−4   align trailer    (allocated blocks with A set only)
 * ```
 * `m` is a Uint32Array over the whole buffer; addresses are byte offsets.
 */
import * as layout from './layout.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { ALIGN_TRAILER_BYTES, BLOCK_NEXT_FREE, BLOCK_PREV_FREE, FLAG_MASK, FOOTER_BYTES, HEADER_BYTES } = layout;

/** The header word of `block`. */
export function header(m: Uint32Array, block: number): number {
	return m[block >>> 2];
}
/** Writes the header word of `block`. */
export function setHeader(m: Uint32Array, block: number, value: number): void {
	m[block >>> 2] = value;
}
/** Block size held in a header word. */
export function sizeOf(h: number): number {
	return h - (h & FLAG_MASK);
}
/** Payload address of a block. */
export function ptrOf(block: number): number {
	return block + HEADER_BYTES;
}
/** Block (header) address of a payload. */
export function blockOf(ptr: number): number {
	return ptr - HEADER_BYTES;
}
/** Writes the footer of a free block of `size` bytes. */
export function setFooter(m: Uint32Array, block: number, size: number): void {
	m[(block + size - FOOTER_BYTES) >>> 2] = size;
}
/** The footer of a free block of `size` bytes. */
export function footer(m: Uint32Array, block: number, size: number): number {
	return m[(block + size - FOOTER_BYTES) >>> 2];
}
/** The alignment an ALIGNED block of `size` bytes keeps (its trailer). */
export function alignTrailer(m: Uint32Array, block: number, size: number): number {
	return m[(block + size - ALIGN_TRAILER_BYTES) >>> 2];
}
/** Writes the align trailer of an ALIGNED block of `size` bytes. */
export function setAlignTrailer(m: Uint32Array, block: number, size: number, align: number): void {
	m[(block + size - ALIGN_TRAILER_BYTES) >>> 2] = align;
}
/** Size of the free block just before `block` (valid only when P is set). */
export function prevFreeSize(m: Uint32Array, block: number): number {
	return m[(block - FOOTER_BYTES) >>> 2];
}
/** Next block in the free list (0 = none). */
export function nextFree(m: Uint32Array, block: number): number {
	return m[(block + BLOCK_NEXT_FREE) >>> 2];
}
/** Previous block in the free list (0 = none). */
export function prevFree(m: Uint32Array, block: number): number {
	return m[(block + BLOCK_PREV_FREE) >>> 2];
}
/** Sets the next free-list link. */
export function setNextFree(m: Uint32Array, block: number, next: number): void {
	m[(block + BLOCK_NEXT_FREE) >>> 2] = next;
}
/** Sets the previous free-list link. */
export function setPrevFree(m: Uint32Array, block: number, prev: number): void {
	m[(block + BLOCK_PREV_FREE) >>> 2] = prev;
}

// Shared heaps: a block's owner may shrink its header (shared.ts) while the
// heap lock's holder flips that header's PREV_FREE bit, so both sides change
// such a header with one atomic read-modify-write. `a` is an Int32Array over
// the same buffer as `m`.

/** Sets the PREV_FREE-style `bits` in the header of `block` atomically. */
export function orHeaderAtomic(a: Int32Array, block: number, bits: number): void {
	Atomics.or(a, block >>> 2, bits);
}
/** Clears `bits` in the header of `block` atomically. */
export function andNotHeaderAtomic(a: Int32Array, block: number, bits: number): void {
	Atomics.and(a, block >>> 2, ~bits);
}
/** Gives allocated `block` a new size, keeping whatever flag bits its header has at that instant. */
export function resizeHeaderAtomic(a: Int32Array, block: number, size: number): void {
	const i = block >>> 2;
	for (;;) {
		const h = Atomics.load(a, i);
		if (Atomics.compareExchange(a, i, h, size | (h & FLAG_MASK)) === h) return;
	}
}

/** Reads root word `field` (an R_* index) of the heap rooted at word `root`. */
export function rootGet(m: Uint32Array, root: number, field: number): number {
	return m[root + field];
}
/** Writes root word `field`. */
export function rootSet(m: Uint32Array, root: number, field: number, value: number): void {
	m[root + field] = value;
}
/** Adds `delta` to root counter `field`. */
export function rootAdd(m: Uint32Array, root: number, field: number, delta: number): void {
	m[root + field] += delta;
}
