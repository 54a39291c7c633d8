/**
 * stats.ts: usage figures from the root's counters, in O(1).
 *
 * `largestFreeBlock` comes from the bitmaps: the highest non-empty list is
 * found with two count-leading-zeros operations, and only that one list is
 * scanned for its largest block (its sizes all lie within 1/32 of each other).
 */
import type { HeapStats } from './api.js';
import { header, nextFree, rootGet, sizeOf } from './block.js';
import type { Heap } from './heap.js';
import {
	HEADER_BYTES,
	R_FREE_BLOCKS,
	R_FREE_BYTES,
	R_LIVE_BLOCKS,
	R_META_BYTES,
	R_PEAK_USED,
	R_USED_BYTES,
	SL_BITS,
	T_FL_BITMAP,
	T_SL_BITMAP,
} from './layout.js';
import { listHead } from './freelist.js';
import { cacheTotals } from './cache.js';

/** Size of the largest free block (0 when none). */
export function largestFree(heap: Heap): number {
	const m = heap._m;
	const root = heap._root;
	const flMap = m[root + T_FL_BITMAP];
	if (flMap === 0) return 0;
	const fl = 31 - Math.clz32(flMap);
	const sl = 31 - Math.clz32(m[root + T_SL_BITMAP + fl]);
	let best = 0;
	for (let b = listHead(m, root, (fl << SL_BITS) | sl); b !== 0; b = nextFree(m, b)) {
		const size = sizeOf(header(m, b));
		if (size > best) best = size;
	}
	return best;
}

/** The heap's counters as a HeapStats object. */
export function readStats(heap: Heap): HeapStats {
	const m = heap._m;
	const root = heap._root;
	// Cached blocks are allocated to the root's counters; they are neither used nor free.
	const cached = cacheTotals(m, heap._slotWs);
	const usedBytes = rootGet(m, root, R_USED_BYTES) - (cached.bytes - cached.blocks * HEADER_BYTES);
	const freeBytes = rootGet(m, root, R_FREE_BYTES);
	const liveBlocks = rootGet(m, root, R_LIVE_BLOCKS) - cached.blocks;
	const metaBytes = rootGet(m, root, R_META_BYTES);
	const largestFreeBlock = largestFree(heap);
	return {
		regionBytes: heap.regionEnd - heap.regionStart,
		usedBytes,
		freeBytes,
		overheadBytes: metaBytes + liveBlocks * HEADER_BYTES,
		metaBytes,
		liveBlocks,
		freeBlocks: rootGet(m, root, R_FREE_BLOCKS),
		largestFreeBlock,
		largestAllocatable: largestFreeBlock === 0 ? 0 : largestFreeBlock - HEADER_BYTES,
		peakUsedBytes: rootGet(m, root, R_PEAK_USED),
		externalFragmentation: freeBytes === 0 ? 0 : 1 - largestFreeBlock / freeBytes,
		cachedBytes: cached.bytes,
		cachedBlocks: cached.blocks,
	};
}
