/**
 * blocks.ts: what every byte of every block is for, as a heap map draws it.
 * Main entry point: `blockViews(heap, requested?)`, a thin layer over the one
 * block walker (`heap.blocks()`). Uses no Node API.
 *
 * ```
 *  allocated block         │hdr│ payload ………………………… │ slack │
 *  allocated ALIGNED block │hdr│ payload …………… │ slack │trailer│
 *  free block              │ free (header, links, footer) ………… │
 *  free block in front of  │ gap ……………… │hdr│ payload … │trailer│
 *  an ALIGNED block          └ alignedAlloc's padding ┘
 *                           4 B                            4 B
 * ```
 * - `header`: the 4-byte header of an allocated block.
 * - `payload`: the bytes the caller asked for. When the request is not known
 *   (no `requested` entry for the block's ptr), the whole usable size.
 * - `slack`: usable bytes beyond the request (internal fragmentation: the
 *   rounding to 8 bytes and the 16-byte minimum block). Only drawn when the
 *   request is known.
 * - `trailer`: the last word of an ALIGNED block, where it keeps its
 *   alignment (layout.ts, ALIGN_TRAILER_BYTES). Not usable by the caller.
 * - `free`: every byte of a free block, its own header, links and footer
 *   included (as `HeapStats.freeBytes` counts them).
 * - `gap`: a free block that ends where an ALIGNED block starts and is
 *   smaller than that block's alignment + 16 bytes, i.e. one that can be the
 *   padding `alignedAlloc` put in front of it. It is an ordinary free block
 *   (filed in the free lists, reusable, coalescing), so it is counted as free
 *   in every total; the heap does not record where a free block came from,
 *   so this is what the layout shows, not a certainty.
 *
 * Σ over all parts = sentinel − blocksStart for a sound heap; a walk that
 * stops early (corrupt heap) leaves `[reachedEnd, sentinel)` unaccounted.
 */
import type { BlockInfo } from '../api.js';
import { alignTrailer } from '../block.js';
import type { Heap } from '../heap.js';
import { ALIGN, ALIGN_TRAILER_BYTES, HEADER_BYTES, MIN_BLOCK } from '../layout.js';

/** What a run of bytes inside a block is for (see the file comment). */
export type PartKind = 'header' | 'payload' | 'slack' | 'trailer' | 'free' | 'gap' | 'cached' | 'internal';

/** A run of bytes of one kind, `[start, end)` as buffer offsets. */
export interface BlockPart {
	kind: PartKind;
	start: number;
	end: number;
}

/**
 * A block's state as a map shows it: `gap` is a free block that may be
 * alignment padding; `cached` waits in the small-block cache (the heap's
 * own, or a shared heap's thread cache);
 * `internal` is heapfit's own (a moved bitmap, a thread table).
 */
export type BlockState = 'allocated' | 'free' | 'gap' | 'cached' | 'internal';

/** One block as the walker sees it, with its bytes classified. */
export interface BlockView extends BlockInfo {
	/** `allocated`, `free`, `gap` (free, in front of an ALIGNED block), `cached` or `internal`. */
	state: BlockState;
	/** Bytes the caller may use (0 for a free block). */
	usable: number;
	/** Bytes the caller asked for, when known (clamped to `usable`); null otherwise. */
	requested: number | null;
	/** Alignment of the payload: the trailer of an ALIGNED block, else 8 (0 for a free block). */
	align: number;
	/**
	 * The block's bytes in address order; they tile `[block, block + size)`
	 * (cut at the sentinel, and empty for a corrupt size below 4).
	 */
	parts: BlockPart[];
}

/** Byte totals of a set of block views, by part kind, and the fragmentation figures. */
export interface BlockTotals {
	/** Bytes covered by the views. */
	bytes: number;
	allocatedBlocks: number;
	freeBlocks: number;
	header: number;
	payload: number;
	slack: number;
	trailer: number;
	/** Free bytes, `gap` bytes included. */
	free: number;
	/** Of `free`, bytes of free blocks that may be alignment padding. */
	gap: number;
	/** Bytes of blocks in the small-block cache (counted in `allocatedBlocks`). */
	cached: number;
	/** Bytes of heapfit's own internal blocks (counted in `allocatedBlocks`). */
	internal: number;
	/** Size of the largest free block (0 when none). */
	largestFree: number;
	/** Usable bytes of allocated blocks whose request is known. */
	knownUsable: number;
	/**
	 * `slack / knownUsable`: the share of usable bytes the caller did not ask
	 * for, over the blocks whose request is known; null when none is known.
	 */
	internalFragmentation: number | null;
	/** `1 − largestFree / free` (0 when nothing is free), as `HeapStats` defines it. */
	externalFragmentation: number;
}

/** The parts of allocated block `b` (of `usable` usable bytes) given its request, cut at `end`. */
function allocatedParts(b: BlockInfo, usable: number, requested: number | null, end: number): BlockPart[] {
	const parts: BlockPart[] = [{ kind: 'header', start: b.block, end: Math.min(b.ptr, end) }];
	const payloadEnd = b.ptr + (requested ?? usable);
	if (payloadEnd > b.ptr) parts.push({ kind: 'payload', start: b.ptr, end: payloadEnd });
	const usableEnd = b.ptr + usable;
	if (usableEnd > payloadEnd) parts.push({ kind: 'slack', start: payloadEnd, end: usableEnd });
	if (end > usableEnd) parts.push({ kind: 'trailer', start: usableEnd, end });
	return parts;
}

/**
 * Every block of `heap` in address order (from `heap.blocks()`), each with
 * its bytes classified. `requested` maps a live block's ptr to the bytes its
 * caller asked for; blocks without an entry draw their whole usable size as
 * payload. O(blocks).
 */
export function blockViews(heap: Heap, requested?: ReadonlyMap<number, number>): BlockView[] {
	const m = heap._m;
	const views: BlockView[] = [];
	for (const b of heap.blocks()) {
		// Only a corrupt header makes a block end past the sentinel; draw what lies before it.
		const end = Math.min(b.block + b.size, heap._sentinel);
		if (b.free) {
			const parts: BlockPart[] = [{ kind: 'free', start: b.block, end }];
			views.push({ ...b, aligned: false, state: 'free', usable: 0, requested: null, align: 0, parts });
			continue;
		}
		if (b.cached || b.internal) {
			const kind = b.cached ? 'cached' : 'internal';
			views.push({ ...b, state: kind, usable: 0, requested: null, align: ALIGN, parts: [{ kind, start: b.block, end }] });
			continue;
		}
		const align = b.aligned && b.size >= MIN_BLOCK && b.block + b.size <= heap._sentinel ? alignTrailer(m, b.block, b.size) : ALIGN;
		const usable = Math.max(0, b.size - HEADER_BYTES - (b.aligned ? ALIGN_TRAILER_BYTES : 0));
		const asked = requested?.get(b.ptr);
		const req = asked === undefined ? null : Math.min(Math.max(0, asked), usable);
		const parts = allocatedParts(b, usable, req, end).filter((p) => p.end > p.start);
		views.push({ ...b, state: 'allocated', usable, requested: req, align, parts });
	}
	for (let i = 0; i + 1 < views.length; i++) {
		const v = views[i];
		const next = views[i + 1];
		if (v.free && next.aligned && v.size < next.align + MIN_BLOCK) {
			v.state = 'gap';
			v.parts[0].kind = 'gap';
		}
	}
	return views;
}

/** Byte totals by part kind and the fragmentation figures of `views`. O(views). */
export function blockTotals(views: readonly BlockView[]): BlockTotals {
	const t: BlockTotals = {
		bytes: 0,
		allocatedBlocks: 0,
		freeBlocks: 0,
		header: 0,
		payload: 0,
		slack: 0,
		trailer: 0,
		free: 0,
		gap: 0,
		cached: 0,
		internal: 0,
		largestFree: 0,
		knownUsable: 0,
		internalFragmentation: null,
		externalFragmentation: 0,
	};
	for (const v of views) {
		t.bytes += v.size;
		if (v.free) {
			t.freeBlocks++;
			if (v.size > t.largestFree) t.largestFree = v.size;
		} else {
			t.allocatedBlocks++;
			if (v.requested !== null) t.knownUsable += v.usable;
		}
		for (const p of v.parts) {
			const n = p.end - p.start;
			if (p.kind === 'gap') {
				t.gap += n;
				t.free += n;
			} else t[p.kind] += n;
		}
	}
	if (t.knownUsable > 0) t.internalFragmentation = t.slack / t.knownUsable;
	t.externalFragmentation = t.free === 0 ? 0 : 1 - t.largestFree / t.free;
	return t;
}
