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
import { header, ptrOf, rootGet, sizeOf } from './block.js';
import type { Heap } from './heap.js';
import { ALIGNED, FREE, MIN_BLOCK, R_BITMAP_START, R_THREADS } from './layout.js';

const NONE: ReadonlySet<number> = new Set();

/**
 * Every block of `heap` in address order. `cached` holds the blocks in
 * thread caches (shared-admin.ts collects them with the locks held).
 */
export function* walk(heap: Heap, cached: ReadonlySet<number> = NONE): IterableIterator<BlockInfo> {
	const m = heap._m;
	const end = heap._sentinel;
	const bitmapPtr = rootGet(m, heap._root, R_BITMAP_START);
	const threadsPtr = rootGet(m, heap._root, R_THREADS);
	let block = heap._blocksStart;
	while (block < end) {
		const h = header(m, block);
		const size = sizeOf(h);
		const ptr = ptrOf(block);
		const free = (h & FREE) !== 0;
		yield {
			block,
			offset: block,
			ptr,
			size,
			free,
			aligned: (h & ALIGNED) !== 0,
			internal: !free && (ptr === bitmapPtr || ptr === threadsPtr),
			cached: cached.has(block),
		};
		if (size < MIN_BLOCK || block + size > end) return;
		block += size;
	}
}
