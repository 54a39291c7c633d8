/**
 * repair.ts: rebuilding a heap's derived state from its block headers, for
 * `Heap.recover` after a worker died inside a heap call. Main entry points:
 * `repairShared` (the whole repair: caches, an unfinished growth, the
 * rebuild) and `rebuildHeap` (the rebuild itself).
 *
 * ```
 *  ground truth   the block headers: sizes, F (free), A (aligned)
 *  rebuilt        P bits, footers, the TLSF lists and bitmaps, the
 *                 payload-start bitmap, the root counters
 * ```
 * Every mutation in heap.ts, resize.ts and grow.ts writes the header that
 * takes over the rest of a block before the header that shrinks it, so the
 * walk from blocksStart reaches the sentinel at every step of every call.
 * What a dead call may leave behind, and what the rebuild makes of it:
 * - free neighbours not merged yet → merged;
 * - a free block not in its list, or a list link half-written → lists are
 *   rebuilt from scratch;
 * - counters half-updated → recounted;
 * - growth that wrote the new space's header but not the root → the old
 *   sentinel header is written back and the region keeps its old end;
 * - an allocated block whose payload-start bit is clear and that no thread
 *   cache holds (it was being handed out, cached or resized) → kept
 *   allocated, its bit set, and counted as leaked: another worker may hold
 *   its pointer, so freeing it could hand one block out twice.
 */
import { granuleOf, isMarked, mark, wordsToCover } from './bitmap.js';
import { moveBitmap } from './grow.js';
import { cachedList, clearSlot, cutLists, releaseSlot, takeSplits } from './threads.js';
import { blockOf, header, rootGet, rootSet, setFooter, setHeader, sizeOf } from './block.js';
import { heapError } from './errors.js';
import { insertFree } from './freelist.js';
import type { Heap } from './heap.js';
import {
	ALIGN_MASK,
	FREE,
	HEADER_BYTES,
	MIN_BLOCK,
	PREV_FREE,
	R_BITMAP_START,
	R_BITMAP_WORDS,
	R_FREE_BLOCKS,
	R_FREE_BYTES,
	R_LIVE_BLOCKS,
	R_META_BYTES,
	R_PEAK_USED,
	R_REGION_END,
	R_SENTINEL,
	R_USED_BYTES,
	TABLE_END_WORDS,
	TABLES_BYTES,
	T_FL_BITMAP,
} from './layout.js';
import { walk } from './walk.js';
import { fixedMetaBytes } from './region.js';

/** What the rebuild found. */
export interface RebuildResult {
	/** Blocks of `release` that became free. */
	released: number;
	/** Allocated blocks owned by nobody, kept allocated. */
	leaked: number;
}

/**
 * Rebuilds `heap` (every lock held) from its headers. `cached`: blocks in
 * live threads' caches (stay allocated, bit clear); `release`: blocks of
 * dead threads' caches (become free). The walk's internal blocks (the
 * thread table, a moved bitmap) stay allocated, bit clear, in META_BYTES.
 */
export function rebuildHeap(heap: Heap, cached: ReadonlySet<number>, release: ReadonlySet<number>): RebuildResult {
	const m = heap._m;
	const root = heap._root;
	const sentinel = rootGet(m, root, R_SENTINEL);
	// Growth interrupted before the root moved: the old sentinel is a sentinel again.
	setHeader(m, sentinel, 0);
	const blocks = [...walk(heap, cached)];
	let end = heap._blocksStart;
	for (const b of blocks) {
		if (b.size < MIN_BLOCK || (b.size & ALIGN_MASK) !== 0 || b.block + b.size > sentinel) {
			throw heapError('CORRUPT_HEAP', 'recover', `the block walk breaks at ${b.block}: the heap cannot be rebuilt`);
		}
		end = b.block + b.size;
	}
	if (end !== sentinel) throw heapError('CORRUPT_HEAP', 'recover', `the block walk ends at ${end}, not at the sentinel ${sentinel}`);

	const bitmapWord = heap._bitmapWord;
	const live = new Set<number>();
	for (const b of blocks) {
		if (!b.free && !release.has(b.block) && !b.internal && !b.cached) live.add(b.block);
	}
	const result: RebuildResult = { released: 0, leaked: 0 };
	for (const b of blocks) {
		if (live.has(b.block) && !isMarked(m, bitmapWord, granuleOf(heap._payloadBase, b.ptr))) result.leaked++;
		if (release.has(b.block) && !b.free) result.released++;
	}
	m.fill(0, bitmapWord, bitmapWord + rootGet(m, root, R_BITMAP_WORDS));
	m.fill(0, root + T_FL_BITMAP, root + TABLE_END_WORDS);

	let used = 0;
	let liveCount = 0;
	let freeBytes = 0;
	let freeBlocks = 0;
	let internalBytes = 0;
	let run = -1;
	let runSize = 0;
	const closeRun = () => {
		if (run < 0) return;
		setHeader(m, run, runSize | FREE);
		setFooter(m, run, runSize);
		insertFree(m, root, run, runSize);
		freeBytes += runSize;
		freeBlocks++;
	};
	for (const b of blocks) {
		if (b.free || release.has(b.block)) {
			if (run < 0) {
				run = b.block;
				runSize = 0;
			}
			runSize += b.size;
			continue;
		}
		const h = header(m, b.block);
		setHeader(m, b.block, (h & ~(PREV_FREE | FREE)) | (run >= 0 ? PREV_FREE : 0));
		closeRun();
		run = -1;
		if (b.internal) {
			internalBytes += b.size;
			continue;
		}
		if (live.has(b.block)) mark(m, bitmapWord, granuleOf(heap._payloadBase, b.ptr));
		used += b.size - HEADER_BYTES;
		liveCount++;
	}
	closeRun();
	setHeader(m, sentinel, run >= 0 ? PREV_FREE : 0);
	rootSet(m, root, R_USED_BYTES, used);
	rootSet(m, root, R_LIVE_BLOCKS, liveCount);
	rootSet(m, root, R_FREE_BYTES, freeBytes);
	rootSet(m, root, R_FREE_BLOCKS, freeBlocks);
	rootSet(m, root, R_META_BYTES, fixedMetaBytes(heap.regionStart, heap._blocksStart) + internalBytes);
	if (rootGet(m, root, R_PEAK_USED) < used) rootSet(m, root, R_PEAK_USED, used);
	return result;
}

/**
 * With every lock of a shared heap held (shared.ts `recover`): returns the
 * caches of the dead thread slots `dead` (indexes into `slotWs`) to the heap, settles a growth they
 * cut short, and rebuilds the heap from its headers.
 */
export function repairShared(heap: Heap, i32: Int32Array, slotWs: readonly number[], dead: readonly number[]): RebuildResult {
	const bitmapWords = rollBackGrowth(heap);
	// The root may not open yet (a bitmap still to move): read its bounds as they are.
	heap._rebind(heap._memory === null ? heap._buffer : heap._memory.buffer);
	heap._sentinel = rootGet(heap._m, heap._root, R_SENTINEL);
	heap._bitmapWord = rootGet(heap._m, heap._root, R_BITMAP_START) >>> 2;
	const m = heap._m;
	const keep = new Set<number>();
	const release = new Set<number>();
	for (const [s, w] of slotWs.entries()) {
		// The rebuild counts every block from the headers.
		takeSplits(m, w);
		if (dead.includes(s)) {
			// cachedList ends a list at its first bad entry; the other lists still count.
			for (const e of cachedList(m, w, heap._blocksStart, heap._sentinel)) if (e.ok) release.add(e.block);
			clearSlot(m, w);
			releaseSlot(i32, w);
		} else {
			// A live slot's list a dead thread was draining may have lost its tail.
			cutLists(m, w, heap._blocksStart, heap._sentinel, keep);
		}
	}
	const r = rebuildHeap(heap, keep, release);
	// Finish the growth the dead thread was making.
	if (bitmapWords !== 0) moveBitmap(heap, bitmapWords);
	return r;
}

/**
 * Settles the root after a growth that a dead thread left unfinished
 * (grow.ts writes REGION_END, then SENTINEL, then moves the bitmap if it is
 * too small: BITMAP_START, then BITMAP_WORDS). Returns the bitmap words the
 * region needs when the bitmap has yet to move (0 when it need not).
 */
function rollBackGrowth(heap: Heap): number {
	const m = heap._m;
	const root = heap._root;
	const sentinel = rootGet(m, root, R_SENTINEL);
	if (rootGet(m, root, R_REGION_END) !== sentinel + HEADER_BYTES) rootSet(m, root, R_REGION_END, sentinel + HEADER_BYTES);
	const words = wordsToCover(heap._payloadBase, sentinel);
	if (rootGet(m, root, R_BITMAP_WORDS) >= words) return 0;
	const bitmap = rootGet(m, root, R_BITMAP_START);
	// BITMAP_START moved but BITMAP_WORDS not yet: the new block (sized for
	// the grown region) already holds the copied bits.
	if (bitmap !== heap.regionStart + TABLES_BYTES && (sizeOf(header(m, blockOf(bitmap))) - HEADER_BYTES) >>> 2 >= words) {
		rootSet(m, root, R_BITMAP_WORDS, words);
		return 0;
	}
	// Before the bitmap moved: the rebuild only needs the bits the old region
	// had (the new space is one free block); repairShared then moves it.
	return words;
}
