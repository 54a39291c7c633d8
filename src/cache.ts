/**
 * cache.ts: the caches of small freed blocks, kept in the thread table
 * (layout.ts "The thread table"; list operations in threads.ts). Main entry
 * points: `makeThreadTable`, `drainSlot`, `trimList`, `cachedSet`.
 *
 * ```
 *  unshared heap   one slot, used by every call without a lock:
 *                    free(≤ 4 KiB)   clear bit ─► push on HEAD[class]
 *                    malloc(≤ 4 KiB) pop HEAD[class] ─► set bit   (miss: the lists)
 *                    list full (localCacheLimit) ─► the block goes to the free lists
 *  shared heap     one slot per Heap object, under that slot's lock (shared.ts);
 *                    a list over cacheLimit gives half of itself back (trimList)
 * ```
 * A cached block is an allocated block to the free lists (its neighbours
 * never merge with it) and a free block to the user (its payload-start bit
 * is clear, so a second free is caught). The root's USED_BYTES and
 * LIVE_BLOCKS still count it; `stats()` subtracts the slots' CACHED_*
 * counters. The functions here assume the caller holds whatever locks the
 * heap needs (none on an unshared heap).
 */
import type { Violation } from './api.js';
import { blockOf, header, rootAdd, rootGet, rootSet, sizeOf } from './block.js';
import type { Heap } from './heap.js';
import * as layout from './layout.js';
import { cacheCount, cachePop, cachedBlocks, cachedBytes, cachedList, listHolds, slotWord, takeSplits } from './threads.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { CACHE_CLASSES, CACHE_MAX_BLOCK, FREE, HEADER_BYTES, MIN_BLOCK, R_LIVE_BLOCKS, R_META_BYTES, R_PEAK_USED, R_THREAD_SLOTS, R_THREADS, R_USED_BYTES, S_STATE, SLOT_BYTES, DEFAULT_THREAD_SLOTS, blockSizeFor, cacheClassDown, cacheLimit } = layout;

/**
 * Carves a thread table of `slots` slots from the front of a fresh region
 * (nobody else can see the heap yet) as an internal block: allocated, bit
 * clear, counted in META_BYTES, and sets `heap._slotWs`. Returns false when
 * it does not fit.
 */
export function makeThreadTable(heap: Heap, slots: number): boolean {
	const m = heap._m;
	const root = heap._root;
	const ptr = heap._allocBlock(blockSizeFor(slots * SLOT_BYTES));
	if (ptr === 0) return false;
	const size = sizeOf(header(m, blockOf(ptr)));
	m.fill(0, ptr >>> 2, (ptr + size - HEADER_BYTES) >>> 2);
	heap._unmark(ptr);
	rootAdd(m, root, R_USED_BYTES, -(size - HEADER_BYTES));
	rootAdd(m, root, R_LIVE_BLOCKS, -1);
	rootAdd(m, root, R_META_BYTES, size);
	rootSet(m, root, R_PEAK_USED, 0);
	rootSet(m, root, R_THREADS, ptr);
	rootSet(m, root, R_THREAD_SLOTS, slots);
	heap._slotWs = tableSlots(m, root);
	return true;
}

/**
 * Thread slots a new heap gets unless told: DEFAULT_THREAD_SLOTS, fewer
 * when the table would take more than 1/64 of the region (0 below 64 slots'
 * worth of bytes: an unshared heap then has no cache by default).
 */
export function defaultSlots(regionBytes: number): number {
	return Math.min(DEFAULT_THREAD_SLOTS, Math.floor(regionBytes / 64 / SLOT_BYTES));
}

/** Word index of every slot of the heap's thread table (none when it has no table). */
export function tableSlots(m: Uint32Array, root: number): number[] {
	const table = rootGet(m, root, R_THREADS) >>> 2;
	const slots = table === 0 ? 0 : rootGet(m, root, R_THREAD_SLOTS);
	return Array.from({ length: slots }, (_, s) => slotWord(table, s));
}

/** Marks slot word `w` claimed (an unshared heap's one slot). */
export function claimForever(m: Uint32Array, w: number): void {
	m[w + S_STATE] = 1;
}

/**
 * Moves slot `w`'s SPLITS count into the root counters (blocks a shared
 * heap's owner split in two without the heap lock; see shared.ts).
 */
export function foldSplits(heap: Heap, w: number): void {
	const m = heap._m;
	const n = takeSplits(m, w);
	if (n === 0) return;
	rootAdd(m, heap._root, R_LIVE_BLOCKS, n);
	rootAdd(m, heap._root, R_USED_BYTES, -n * HEADER_BYTES);
}

/** Frees every block slot `w` caches to the free lists; returns how many. */
export function drainSlot(heap: Heap, w: number): number {
	const m = heap._m;
	let n = 0;
	foldSplits(heap, w);
	for (let c = 0; c < CACHE_CLASSES; c++) {
		for (let b = cachePop(m, w, c); b !== 0; b = cachePop(m, w, c)) {
			heap._freeClaimed(b);
			n++;
		}
	}
	return n;
}

/** Returns list `c` of slot `w` to half its limit, freeing the rest to the free lists. */
export function trimList(heap: Heap, w: number, c: number): void {
	const m = heap._m;
	foldSplits(heap, w);
	for (let n = cacheCount(m, w, c); n > cacheLimit(c) >>> 1; n--) {
		const block = cachePop(m, w, c);
		if (block === 0) break;
		heap._freeClaimed(block);
	}
}

/** Cached bytes and blocks over the slots `slotWs`. */
export function cacheTotals(m: Uint32Array, slotWs: readonly number[]): { bytes: number; blocks: number } {
	let bytes = 0;
	let blocks = 0;
	for (const w of slotWs) {
		bytes += cachedBytes(m, w);
		blocks += cachedBlocks(m, w);
	}
	return { bytes, blocks };
}

/** Payload bytes of the blocks slot `w` caches (the part of USED_BYTES that is not in use). */
export function cachedPayload(m: Uint32Array, w: number): number {
	return cachedBytes(m, w) - HEADER_BYTES * cachedBlocks(m, w);
}

/**
 * The blocks in every cache of the heap (slots `heap._slotWs`); what is
 * wrong with the lists or their counts goes to `out`.
 */
export function cachedSet(heap: Heap, out: Violation[]): Set<number> {
	const m = heap._m;
	const cached = new Set<number>();
	for (const [s, w] of heap._slotWs.entries()) {
		let bytes = 0;
		let count = 0;
		const perList = new Uint32Array(CACHE_CLASSES);
		for (const e of cachedList(m, w, heap._blocksStart, heap._sentinel)) {
			perList[e.c]++;
			if (!e.ok || cached.has(e.block)) {
				out.push({ rule: 'cache', at: e.block, message: `slot ${s} list ${e.c} holds ${e.block}, which is not a cached block of its class` });
				continue;
			}
			cached.add(e.block);
			bytes += sizeOf(header(m, e.block));
			count++;
		}
		for (let c = 0; c < CACHE_CLASSES; c++) {
			if (perList[c] < cacheCount(m, w, c)) out.push({ rule: 'cache', at: w << 2, message: `slot ${s} list ${c} counts ${cacheCount(m, w, c)} blocks and holds ${perList[c]}` });
		}
		if (m[w + S_STATE] === 0 && count !== 0) out.push({ rule: 'cache', at: w << 2, message: `free slot ${s} caches ${count} blocks` });
		if (bytes !== cachedBytes(m, w) || count !== cachedBlocks(m, w)) {
			out.push({ rule: 'cache', at: w << 2, message: `slot ${s} counts ${cachedBlocks(m, w)} blocks / ${cachedBytes(m, w)} B, its lists hold ${count} / ${bytes} B` });
		}
	}
	return cached;
}

/**
 * Whether `block` is in one of the heap's caches: its list is searched,
 * at most COUNT entries of it (used only to name a rejected pointer; on a
 * shared heap another thread may be changing the list, which can only make
 * the answer wrong, never loop or write).
 */
export function isCached(heap: Heap, block: number): boolean {
	const m = heap._m;
	const h = header(m, block);
	const size = sizeOf(h);
	if ((h & FREE) !== 0 || size < MIN_BLOCK || size > CACHE_MAX_BLOCK) return false;
	const c = cacheClassDown(size);
	return heap._slotWs.some((w) => listHolds(m, w, c, block, heap._blocksStart, heap._sentinel));
}
