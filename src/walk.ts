/**
 * walk.ts: the one block walker. Stats, validation, heap maps and the CLI
 * all see blocks through it.
 *
 * ```
 *  blocksStart                                              sentinel
 *  │ hdr │ payload … │ hdr │ free … ftr │ hdr │ payload … │ END │
 *  └─ size ─────────►└─ size ──────────►└─ size ─────────►
 * ```
 * It follows sizes from the first block to the sentinel. A size that cannot
 * be right (below 16, not reaching forward, past the sentinel) ends the walk
 * after that block is yielded; check.ts reports where it stopped.
 */
import type { BlockInfo } from './api.js';
import { header, ptrOf, sizeOf } from './block.js';
import type { Heap } from './heap.js';
import { ALIGNED, FREE, MIN_BLOCK } from './layout.js';

/** Every block of `heap` in address order. */
export function* walk(heap: Heap): IterableIterator<BlockInfo> {
	const m = heap._m;
	const end = heap._sentinel;
	let block = heap._blocksStart;
	while (block < end) {
		const h = header(m, block);
		const size = sizeOf(h);
		yield { block, offset: block, ptr: ptrOf(block), size, free: (h & FREE) !== 0, aligned: (h & ALIGNED) !== 0 };
		if (size < MIN_BLOCK || block + size > end) return;
		block += size;
	}
}
