/** stats() recomputed from an independent source, for the tests of the counters. */
import { type Heap, layout as L } from '../../src/index.js';

/** What the stats should say, recomputed from the block walker alone. */
export function fromWalk(heap: Heap) {
	let usedBytes = 0;
	let freeBytes = 0;
	let liveBlocks = 0;
	let freeBlocks = 0;
	let largestFreeBlock = 0;
	let cachedBytes = 0;
	let cachedBlocks = 0;
	let total = 0;
	for (const b of heap.blocks()) {
		if (!b.internal) total += b.size;
		if (b.free) {
			freeBytes += b.size;
			freeBlocks++;
			largestFreeBlock = Math.max(largestFreeBlock, b.size);
		} else if (b.cached) {
			cachedBytes += b.size;
			cachedBlocks++;
		} else if (!b.internal) {
			usedBytes += b.size - L.HEADER_BYTES;
			liveBlocks++;
		}
	}
	const metaBytes = heap.regionEnd - heap.regionStart - total;
	return { usedBytes, freeBytes, liveBlocks, freeBlocks, largestFreeBlock, metaBytes, cachedBytes, cachedBlocks };
}
