/**
 * check.ts: every invariant of the heap, checked by one function.
 *
 * The rules, each an "iff" on the data it constrains:
 * - root:      MAGIC and VERSION are this build's; the bounds are consistent.
 * - walk:      block sizes are multiples of 8 and ≥ 16, and the walk from
 *              blocksStart lands exactly on the sentinel.
 * - footer:    a free block's last word (its footer) equals its size.
 * - prev-free: a block's P bit is set iff the block before it is free (the
 *              first block's P is 0; the sentinel's P tells the last block).
 * - adjacent-free: no two free blocks are neighbours.
 * - aligned:   A is never set on a free block; an allocated block has A
 *              iff its last word is an align trailer: a power of two ≥ 8
 *              that divides its payload address.
 * - bitmap:    a payload-start bit is set iff an allocated block starts there
 *              (the internal bitmap block of a grown heap and the thread
 *              table are allocated, bit clear, and counted in META_BYTES; a
 *              block in a cache list is allocated, bit clear, and counted as
 *              used by the root).
 * - cache:     every cache list (cache.ts `cachedSet`) holds allocated blocks
 *              of its class, no block twice, exactly COUNT of them; a
 *              slot's CACHED_BYTES / CACHED_BLOCKS are its lists' totals; a
 *              free slot caches nothing.
 * - lists:     a block is in list li iff it is free and mappingInsert(size)
 *              = li; links are consistent both ways; no cycles.
 * - sl-bitmap: SL bit (fl, sl) is set iff list (fl, sl) is non-empty.
 * - fl-bitmap: FL bit fl is set iff SL_BITMAP[fl] ≠ 0.
 * - counters:  USED, FREE, LIVE, FREE_BLOCKS equal what the walk counts;
 *              PEAK_USED ≥ the bytes in use; META matches the region's fixed part.
 */
import type { Violation } from './api.js';
import { countMarked, granuleOf, isMarked } from './bitmap.js';
import { alignTrailer, footer, header, nextFree, prevFree, rootGet, sizeOf } from './block.js';
import { heapError } from './errors.js';
import { listHead } from './freelist.js';
import type { Heap } from './heap.js';
import {
	ALIGN,
	ALIGNED,
	MAX_ALIGN,
	ALIGN_MASK,
	FL_COUNT,
	FREE,
	HEADER_BYTES,
	MAGIC,
	MIN_BLOCK,
	PREV_FREE,
	R_FREE_BLOCKS,
	R_FREE_BYTES,
	R_LIVE_BLOCKS,
	R_BITMAP_START,
	R_BITMAP_WORDS,
	R_MAGIC,
	R_META_BYTES,
	R_PEAK_USED,
	R_USED_BYTES,
	R_VERSION,
	SL_BITS,
	SL_COUNT,
	T_FL_BITMAP,
	T_SL_BITMAP,
	VERSION_WORD,
} from './layout.js';
import { LIST_COUNT, mappingInsert } from './sizeclass.js';
import { walk } from './walk.js';
import { cachedPayload, cachedSet } from './cache.js';
import { fixedMetaBytes } from './region.js';

/** All broken invariants of `heap` (empty when it is sound). */
export function checkHeap(heap: Heap): Violation[] {
	const out: Violation[] = [];
	const cached = cachedSet(heap, out);
	const m = heap._m;
	const root = heap._root;
	const bad = (rule: string, at: number, message: string) => {
		out.push({ rule, at, message });
	};
	if (rootGet(m, root, R_MAGIC) !== MAGIC) bad('root', heap.regionStart, 'magic number is wrong');
	if (rootGet(m, root, R_VERSION) !== VERSION_WORD) bad('root', heap.regionStart, 'version word is wrong');

	const freeSet = new Set<number>();
	const bitmapPtr = rootGet(m, root, R_BITMAP_START);
	let cachedSeen = 0;
	let internalBytes = 0;
	let used = 0;
	let freeBytes = 0;
	let live = 0;
	let prevWasFree = false;
	let end = heap._blocksStart;
	for (const b of walk(heap, cached)) {
		const h = header(m, b.block);
		if (b.size < MIN_BLOCK || (b.size & ALIGN_MASK) !== 0 || b.block + b.size > heap._sentinel) {
			bad('walk', b.block, `impossible block size ${b.size}`);
			end = -1;
			break;
		}
		if (((h & PREV_FREE) !== 0) !== prevWasFree) bad('prev-free', b.block, `P bit is ${h & PREV_FREE ? 1 : 0} but the previous block is ${prevWasFree ? 'free' : 'allocated'}`);
		const marked = isMarked(m, heap._bitmapWord, granuleOf(heap._payloadBase, b.ptr));
		if (b.free) {
			if (prevWasFree) bad('adjacent-free', b.block, 'two free blocks are neighbours');
			if (footer(m, b.block, b.size) !== b.size) bad('footer', b.block, `footer ${footer(m, b.block, b.size)} ≠ size ${b.size}`);
			if (b.aligned) bad('aligned', b.block, 'A bit set on a free block');
			if (marked) bad('bitmap', b.block, 'payload-start bit set on a free block');
			freeSet.add(b.block);
			freeBytes += b.size;
		} else if (b.internal) {
			// The internal bitmap block of a grown heap, or the thread table of
			// a shared one: allocated, bit clear.
			if (marked) bad('bitmap', b.block, 'payload-start bit set on an internal block');
			internalBytes += b.size;
		} else if (b.cached) {
			// In a thread cache: allocated as far as the root counts, bit clear.
			if (marked) bad('bitmap', b.block, 'payload-start bit set on a cached block');
			if (b.aligned) bad('cache', b.block, 'A bit set on a cached block');
			used += b.size - HEADER_BYTES;
			live++;
			cachedSeen++;
		} else {
			if (!marked) bad('bitmap', b.block, 'payload-start bit clear on an allocated block');
			if (b.aligned) {
				const a = alignTrailer(m, b.block, b.size);
				if (a < ALIGN || a > MAX_ALIGN || (a & (a - 1)) !== 0 || b.ptr % a !== 0) {
					bad('align-trailer', b.block, `align trailer ${a} is not a power of two ≥ 8 that divides ${b.ptr}`);
				}
			}
			used += b.size - HEADER_BYTES;
			live++;
		}
		prevWasFree = b.free;
		end = b.block + b.size;
	}
	if (end !== -1 && end !== heap._sentinel) bad('walk', end, `walk ended at ${end}, not at the sentinel ${heap._sentinel}`);
	if (end === heap._sentinel && ((header(m, end) & PREV_FREE) !== 0) !== prevWasFree) {
		bad('prev-free', end, 'sentinel P bit disagrees with the last block');
	}
	const bitmapWords = rootGet(m, root, R_BITMAP_WORDS);
	if (heap._bitmapWord << 2 !== bitmapPtr) bad('root', heap.regionStart, 'BITMAP_START disagrees with the heap object (call refresh())');
	const marks = countMarked(m, heap._bitmapWord, bitmapWords);
	if (marks !== live - cachedSeen) bad('bitmap', heap._bitmapWord << 2, `${marks} payload-start bits set for ${live - cachedSeen} allocated blocks`);
	if (cachedSeen !== cached.size) bad('cache', heap.regionStart, `${cached.size - cachedSeen} cached block(s) are not allocated blocks of the walk`);

	checkLists(heap, freeSet, bad);

	const counters: [number, string, number][] = [
		[R_USED_BYTES, 'USED_BYTES', used],
		[R_FREE_BYTES, 'FREE_BYTES', freeBytes],
		[R_LIVE_BLOCKS, 'LIVE_BLOCKS', live],
		[R_FREE_BLOCKS, 'FREE_BLOCKS', freeSet.size],
		[R_META_BYTES, 'META_BYTES', fixedMetaBytes(heap.regionStart, heap._blocksStart) + internalBytes],
	];
	for (const [field, name, want] of counters) {
		const got = rootGet(m, root, field);
		if (got !== want) bad('counters', heap.regionStart, `${name} is ${got}, the walk says ${want}`);
	}
	// An unshared heap's peak leaves its cache out (Heap._raisePeak).
	const inUse = used - (heap._cacheW === 0 ? 0 : cachedPayload(m, heap._cacheW));
	if (rootGet(m, root, R_PEAK_USED) < inUse) bad('counters', heap.regionStart, 'PEAK_USED is below the bytes in use');
	return out;
}

/** The list and bitmap rules: every free block in exactly its own list. */
function checkLists(heap: Heap, freeSet: Set<number>, bad: (rule: string, at: number, message: string) => void): void {
	const m = heap._m;
	const root = heap._root;
	const seen = new Set<number>();
	const flMap = m[root + T_FL_BITMAP];
	if (flMap >>> FL_COUNT !== 0) bad('fl-bitmap', heap.regionStart, 'FL bits set beyond FL_COUNT');
	for (let li = 0; li < LIST_COUNT; li++) {
		const fl = li >>> SL_BITS;
		const sl = li & (SL_COUNT - 1);
		const slMap = m[root + T_SL_BITMAP + fl];
		const head = listHead(m, root, li);
		if (((slMap >>> sl) & 1) !== (head !== 0 ? 1 : 0)) bad('sl-bitmap', heap.regionStart, `SL bit (${fl}, ${sl}) disagrees with its list`);
		if (sl === 0 && ((flMap >>> fl) & 1) !== (slMap !== 0 ? 1 : 0)) bad('fl-bitmap', heap.regionStart, `FL bit ${fl} disagrees with SL_BITMAP[${fl}]`);
		let prev = 0;
		for (let b = head; b !== 0; b = nextFree(m, b)) {
			if (seen.has(b)) {
				bad('lists', b, `block is linked twice (list ${li})`);
				break;
			}
			seen.add(b);
			if (!freeSet.has(b)) {
				bad('lists', b, `list ${li} holds a block that is not a free block of the walk`);
				break;
			}
			const size = sizeOf(header(m, b));
			if ((header(m, b) & FREE) === 0) bad('lists', b, 'listed block is not free');
			if (mappingInsert(size) !== li) bad('lists', b, `size ${size} belongs in list ${mappingInsert(size)}, found in ${li}`);
			if (prevFree(m, b) !== prev) bad('lists', b, 'prev link disagrees with the list order');
			prev = b;
		}
	}
	for (const b of freeSet) if (!seen.has(b)) bad('lists', b, 'free block is in no list');
	if ((header(m, heap._sentinel) & (FREE | ALIGNED)) !== 0) bad('walk', heap._sentinel, 'sentinel has F or A set');
}

/** Throws HeapError CORRUPT_HEAP listing the violations, if there are any. */
export function assertValid(heap: Heap, op = 'check'): void {
	const v = heap.check();
	if (v.length === 0) return;
	const list = v.slice(0, 8).map((x) => `${x.rule} @${x.at}: ${x.message}`);
	throw heapError('CORRUPT_HEAP', op, `${v.length} invariant(s) broken: ${list.join('; ')}`);
}
