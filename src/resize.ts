/**
 * resize.ts: growing and shrinking a live block, for `realloc` and the
 * Allocator API's grow/shrink. Main entry point: `resizeBlock`.
 *
 * ```
 *  shrink in place     │ block ········│ → │ block │ free tail │   (tail merged with a free next block)
 *  grow into next      │ block │ free next    │ → │ block ········ │ rest │
 *  slide back          │ free prev │ block │ (free next) │ → │ block ······· │ rest │   (payload copied back)
 *  move                allocate elsewhere, copy, free
 * ```
 * An ALIGNED block keeps its align trailer (layout.ts) in its last word
 * after every change of size.
 */
import { alignTrailer, header, prevFreeSize, ptrOf, rootAdd, setAlignTrailer, setHeader, sizeOf } from './block.js';
import { removeFree } from './freelist.js';
import type { Heap } from './heap.js';
import * as layout from './layout.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { ALIGN, ALIGNED, ALIGN_TRAILER_BYTES, FREE, HEADER_BYTES, MAX_PAYLOAD, MIN_BLOCK, PREV_FREE, R_FREE_BLOCKS, R_FREE_BYTES, R_USED_BYTES, blockSizeFor } = layout;


/** Usable payload bytes of an allocated block with header word `h`. */
export function usableOf(h: number): number {
	return sizeOf(h) - HEADER_BYTES - ((h & ALIGNED) !== 0 ? ALIGN_TRAILER_BYTES : 0);
}

/**
 * Resizes live block `block` to hold `size` bytes at an address
 * aligned to `align` (0: the alignment the block has), in place when it
 * can. `keep` is how many payload bytes must survive a move. Returns the payload address or 0 (then the
 * block is untouched).
 */
export function resizeBlock(heap: Heap, block: number, size: number, align: number, keep: number): number {
	if (size > MAX_PAYLOAD - ALIGN_TRAILER_BYTES) return 0;
	const m = heap._m;
	const root = heap._root;
	const ptr = ptrOf(block);
	const h = header(m, block);
	const cur = sizeOf(h);
	const aligned = (h & ALIGNED) !== 0;
	if (align === 0) align = aligned ? alignTrailer(m, block, cur) : ALIGN;
	const need = blockSizeFor(aligned ? size + ALIGN_TRAILER_BYTES : size);
	// In place only where the address already has the alignment, and a
	// block without a trailer stays without one.
	if (ptr % align === 0 && (aligned || align <= ALIGN)) {
		if (need <= cur) {
			trimBlock(heap, block, cur, need, align);
			return ptr;
		}
		const next = block + cur;
		const nh = header(m, next);
		const ns = sizeOf(nh);
		if ((nh & FREE) !== 0 && cur + ns >= need) {
			removeFree(m, root, next, ns);
			setHeader(m, block, (cur + ns) | (h & (PREV_FREE | ALIGNED)));
			heap._clearPrevFree(next + ns);
			rootAdd(m, root, R_FREE_BYTES, -ns);
			rootAdd(m, root, R_FREE_BLOCKS, -1);
			rootAdd(m, root, R_USED_BYTES, ns);
			trimBlock(heap, block, cur + ns, need, align);
			heap._raisePeak();
			return ptr;
		}
		if ((h & PREV_FREE) !== 0) {
			const out = slideBack(heap, block, need, align, keep);
			if (out !== 0) return out;
		}
	}
	const out = align <= ALIGN ? heap._allocBlock(blockSizeFor(size)) : heap._allocAligned(align, size);
	if (out === 0) return 0;
	const n = Math.min(keep, usableOf(h));
	heap._u8.copyWithin(out, ptr, ptr + n);
	heap._freeBlock(block);
	return out;
}

/**
 * Grows live block `block` (whose previous block is free) by merging it
 * with that block and with a free next block, when together they hold
 * `need` bytes at an address aligned to `align`: the payload slides back
 * to the start of the merged block. Returns the new payload address, or 0
 * (nothing changed) when they do not.
 */
function slideBack(heap: Heap, block: number, need: number, align: number, keep: number): number {
	const m = heap._m;
	const root = heap._root;
	const h = header(m, block);
	const cur = sizeOf(h);
	const ps = prevFreeSize(m, block);
	const prev = block - ps;
	const next = block + cur;
	const nh = header(m, next);
	const ns = (nh & FREE) !== 0 ? sizeOf(nh) : 0;
	const total = ps + cur + ns;
	if (total < need || ptrOf(prev) % align !== 0) return 0;
	const ptr = ptrOf(block);
	const out = ptrOf(prev);
	removeFree(m, root, prev, ps);
	if (ns !== 0) removeFree(m, root, next, ns);
	// The merged header before the copy, which may overwrite this block's
	// own header: the block walk stays whole at every step (Heap.recover).
	setHeader(m, prev, total | (h & ALIGNED));
	heap._clearPrevFree(prev + total);
	heap._u8.copyWithin(out, ptr, ptr + Math.min(keep, usableOf(h)));
	heap._unmark(ptr);
	heap._mark(out);
	rootAdd(m, root, R_FREE_BYTES, -(ps + ns));
	rootAdd(m, root, R_FREE_BLOCKS, ns !== 0 ? -2 : -1);
	rootAdd(m, root, R_USED_BYTES, ps + ns);
	trimBlock(heap, prev, total, need, align);
	heap._raisePeak();
	return out;
}

/**
 * Shrinks live block `block` of `cur` bytes to `need`, freeing the tail if
 * it is a block of its own; an ALIGNED block gets its trailer (`align`)
 * written at its final end.
 */
function trimBlock(heap: Heap, block: number, cur: number, need: number, align: number): void {
	const m = heap._m;
	const h = header(m, block);
	const rest = cur - need;
	let size = cur;
	if (rest >= MIN_BLOCK) {
		// The tail's header first: the block walk stays whole at every step
		// (Heap.recover rebuilds from it after a worker dies mid-call).
		setHeader(m, block + need, rest | FREE);
		setHeader(m, block, need | (h & (PREV_FREE | ALIGNED)));
		rootAdd(m, heap._root, R_USED_BYTES, -rest);
		rootAdd(m, heap._root, R_FREE_BYTES, rest);
		heap._releaseRange(block + need, rest, false);
		size = need;
	}
	if ((h & ALIGNED) !== 0) setAlignTrailer(m, block, size, align < ALIGN ? ALIGN : align);
}

