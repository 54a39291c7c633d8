/**
 * bitmap.ts: the payload-start bitmap, one bit per 8-byte granule.
 *
 * ```
 *  word w of the bitmap, bit b  ⇔  granule g = 32·w + b
 *  granule g                    ⇔  payload address payloadBase + 8·g
 *
 *   bit  31 30 ...  2  1  0
 *       ┌──┬──┬───┬──┬──┬──┐
 *       │  │  │...│  │  │  │   1 = an allocated block's payload starts here
 *       └──┴──┴───┴──┴──┴──┘
 * ```
 * Invariant: bit g is set iff the block whose header is at
 * `payloadBase + 8·g − 4` exists and is allocated.
 */
import * as layout from './layout.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { BITMAP_GRANULE_BITS } = layout;

/** Word index (into the u32 view) holding granule `g`'s bit. */
function wordOf(bitmapWord: number, g: number): number {
	return bitmapWord + (g >>> 5);
}

/** Bitmap words that cover every payload in `[payloadBase, end)`. */
export function wordsToCover(payloadBase: number, end: number): number {
	return Math.ceil((end - payloadBase) / (32 << BITMAP_GRANULE_BITS));
}

/** Granule of payload `ptr`, given the first payload address. */
export function granuleOf(payloadBase: number, ptr: number): number {
	return (ptr - payloadBase) >>> BITMAP_GRANULE_BITS;
}

/** Whether granule `g` is marked as an allocated payload start. */
export function isMarked(m: Uint32Array, bitmapWord: number, g: number): boolean {
	return (m[wordOf(bitmapWord, g)] & (1 << (g & 31))) !== 0;
}

/** Marks granule `g`. */
export function mark(m: Uint32Array, bitmapWord: number, g: number): void {
	m[wordOf(bitmapWord, g)] |= 1 << (g & 31);
}

/** Clears granule `g`. */
export function unmark(m: Uint32Array, bitmapWord: number, g: number): void {
	m[wordOf(bitmapWord, g)] &= ~(1 << (g & 31));
}

/** Number of set bits in `words` words from `bitmapWord` (for check.ts). */
export function countMarked(m: Uint32Array, bitmapWord: number, words: number): number {
	let n = 0;
	for (let i = 0; i < words; i++) {
		let x = m[bitmapWord + i];
		while (x !== 0) {
			x &= x - 1;
			n++;
		}
	}
	return n;
}

// Shared heaps: the same bits, changed with Atomics, because one bitmap
// word covers blocks that different threads may be freeing at once. `a` is
// an Int32Array over the same buffer as the Uint32Array above.

/** Marks granule `g` atomically. */
export function markAtomic(a: Int32Array, bitmapWord: number, g: number): void {
	Atomics.or(a, wordOf(bitmapWord, g), 1 << (g & 31));
}

/** Clears granule `g` atomically. */
export function unmarkAtomic(a: Int32Array, bitmapWord: number, g: number): void {
	Atomics.and(a, wordOf(bitmapWord, g), ~(1 << (g & 31)));
}

/**
 * Clears granule `g` atomically and says whether it was set: of two
 * threads freeing the same pointer at once, exactly one sees true.
 */
export function testAndUnmark(a: Int32Array, bitmapWord: number, g: number): boolean {
	const bit = 1 << (g & 31);
	return (Atomics.and(a, wordOf(bitmapWord, g), ~bit) & bit) !== 0;
}
