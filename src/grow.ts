/**
 * grow.ts: growing a region at its end. Main entry point: `growRegion`.
 *
 * ```
 *  before   │ ... │ last block (free or not) │END│
 *  grow     │ ... │ last block               │ old END + new bytes ........ │END│
 *  after    │ ... │ one free block, merged with the last block if free    │END│
 * ```
 * The buffer grows by at least the shortfall and at least doubles the
 * region (so n requests cost O(log n) growths), up to MAX_END. The old
 * sentinel's word becomes part of the new free block and a new sentinel is
 * written at the new end.
 *
 * When the payload-start bitmap (layout.ts) has too few bits for the grown
 * region, a new one is carved from the new free space as an internal block:
 * allocated, its own bit clear, counted in META_BYTES. The bits are copied
 * and the previous internal bitmap block, if any, is freed.
 */
import { wordsToCover } from './bitmap.js';
import { header, prevFreeSize, ptrOf, rootAdd, rootGet, rootSet, setFooter, setHeader, sizeOf } from './block.js';
import { insertFree, removeFree } from './freelist.js';
import type { Heap } from './heap.js';
import {
	FREE,
	HEADER_BYTES,
	MIN_BLOCK,
	PREV_FREE,
	R_BITMAP_START,
	R_BITMAP_WORDS,
	R_FREE_BLOCKS,
	R_FREE_BYTES,
	R_GROWTHS,
	R_META_BYTES,
	R_REGION_END,
	R_SENTINEL,
	blockSizeFor,
	roundDown8,
	roundUp8,
} from './layout.js';

const WASM_PAGE = 65536;


/** Size of the free block just before the sentinel at `sentinel` (0 when the last block is allocated). */
function lastFreeSize(m: Uint32Array, sentinel: number): number {
	return (header(m, sentinel) & PREV_FREE) !== 0 ? prevFreeSize(m, sentinel) : 0;
}

/** Grows the buffer to at least `end` bytes; false when it cannot. */
function growBuffer(heap: Heap, end: number): boolean {
	const buffer = heap._buffer;
	if (buffer.byteLength >= end) return true;
	try {
		if (heap._memory !== null) {
			heap._memory.grow(Math.ceil((end - buffer.byteLength) / WASM_PAGE));
			heap._rebind(heap._memory.buffer);
		} else {
			// ES2024 resizable ArrayBuffer / growable SharedArrayBuffer.
			const b = buffer as unknown as { resizable?: boolean; resize(n: number): void; grow(n: number): void };
			if (b.resizable === true) b.resize(end);
			else b.grow(end);
			heap._rebind(buffer);
		}
	} catch {
		return false; // the engine or the memory's maximum said no
	}
	return true;
}

/**
 * Grows `heap`'s region so that a free block of at least `need` bytes
 * exists at its end. Returns false, with nothing changed, when MAX_END or
 * the buffer's own limit does not allow it.
 */
export function growRegion(heap: Heap, need: number): boolean {
	const start = heap.regionStart;
	const oldEnd = heap.regionEnd;
	const oldSentinel = heap._sentinel;
	const sh = header(heap._m, oldSentinel);
	const lastFree = lastFreeSize(heap._m, oldSentinel);
	const capacity = rootGet(heap._m, heap._root, R_BITMAP_WORDS);
	// The request, less what the last free block already holds, plus room
	// for a new bitmap when the current one is too small for the new end.
	const shortfall = Math.max(need - lastFree, MIN_BLOCK);

	// The smallest end that holds `need` bytes plus the bitmap that end needs.
	const fit = (base: number) => {
		let end = roundUp8(base);
		for (let i = 0; i < 3; i++) {
			const words = wordsToCover(heap._payloadBase, end);
			end = roundUp8(base + (words > capacity ? blockSizeFor(words * 4) : 0));
		}
		return end;
	};
	const least = fit(oldEnd + shortfall);
	const doubled = fit(Math.max(oldEnd + shortfall, start + 2 * (oldEnd - start)));
	if (least > heap._maxEnd) return false;
	// Double when the limits allow it, else take just what is needed.
	if (!growBuffer(heap, Math.min(doubled, heap._maxEnd)) && !growBuffer(heap, least)) return false;
	// A memory grows by whole pages: use them.
	const end = Math.min(roundDown8(heap._buffer.byteLength), heap._maxEnd);

	const m = heap._m;
	const root = heap._root;
	const sentinel = end - HEADER_BYTES;
	const ext = sentinel - oldSentinel;
	setHeader(m, sentinel, 0);
	// The new space reads as one block before the root moves the sentinel,
	// so the block walk stays whole at every step (see Heap.recover).
	setHeader(m, oldSentinel, ext | FREE | (sh & PREV_FREE));
	rootSet(m, root, R_REGION_END, end);
	rootSet(m, root, R_SENTINEL, sentinel);
	rootAdd(m, root, R_GROWTHS, 1);
	heap._sentinel = sentinel;
	rootAdd(m, root, R_FREE_BYTES, ext);
	heap._releaseRange(oldSentinel, ext, (sh & PREV_FREE) !== 0);
	const words = wordsToCover(heap._payloadBase, sentinel);
	if (words > rootGet(m, root, R_BITMAP_WORDS)) moveBitmap(heap, words);
	return true;
}

/**
 * Carves a bitmap of `words` words from the end of the last free block (the
 * one growth just made) and moves the bits there. At the very end of the
 * region it never splits the free space: the previous bitmap block, freed
 * below, sat at the old end and merges with the space on both its sides.
 */
export function moveBitmap(heap: Heap, words: number): void {
	const m = heap._m;
	const root = heap._root;
	const need = blockSizeFor(words * 4);
	const sentinel = heap._sentinel;
	const lastSize = lastFreeSize(m, sentinel);
	// growRegion sized the growth to hold this block.
	if (lastSize < need) throw new Error('growRegion: no room for the bitmap (bug)');
	const last = sentinel - lastSize;
	removeFree(m, root, last, lastSize);
	const rest = lastSize - need;
	let block = last;
	let flags = 0;
	if (rest >= MIN_BLOCK) {
		block = last + rest;
		flags = PREV_FREE;
	}
	const taken = sentinel - block;
	// The new block's header before `last` shrinks: the block walk stays
	// whole at every step (Heap.recover).
	setHeader(m, block, taken | flags);
	if (rest >= MIN_BLOCK) {
		setHeader(m, last, rest | FREE);
		setFooter(m, last, rest);
		insertFree(m, root, last, rest);
	} else {
		rootAdd(m, root, R_FREE_BLOCKS, -1);
	}
	heap._clearPrevFree(sentinel);
	rootAdd(m, root, R_FREE_BYTES, -taken);
	rootAdd(m, root, R_META_BYTES, taken);
	const oldWord = heap._bitmapWord;
	const oldWords = rootGet(m, root, R_BITMAP_WORDS);
	const newWord = ptrOf(block) >>> 2;
	m.copyWithin(newWord, oldWord, oldWord + oldWords);
	m.fill(0, newWord + oldWords, newWord + words);
	rootSet(m, root, R_BITMAP_START, ptrOf(block));
	rootSet(m, root, R_BITMAP_WORDS, words);
	heap._bitmapWord = newWord;
	const oldPtr = oldWord << 2;
	if (oldPtr > heap._blocksStart) {
		// The previous internal bitmap block goes back to the free lists: its
		// bytes move from META_BYTES to FREE_BYTES (its bit was never set).
		const oldBlock = oldPtr - HEADER_BYTES;
		const oh = header(m, oldBlock);
		const oldSize = sizeOf(oh);
		setHeader(m, oldBlock, oh | FREE);
		rootAdd(m, root, R_META_BYTES, -oldSize);
		rootAdd(m, root, R_FREE_BYTES, oldSize);
		heap._releaseRange(oldBlock, oldSize, (oh & PREV_FREE) !== 0);
	}
}
