/**
 * region.ts: turning options into a region, formatting a fresh region, and
 * opening (validating) one that already holds a heap.
 *
 * ```
 *  regionStart        bitmapStart            blocksStart          sentinel  regionEnd
 *  │ root + tables     │ payload-start bitmap  │pad│ first free block  │ END  │
 *  │ TABLES_BYTES      │ ⌈(end − bitmapStart)/64⌉ B, whole words      │ 4 B  │
 * ```
 * The byte layout of each part is drawn in layout.ts.
 */
import type { HeapOptions } from './api.js';
import { rootGet, rootSet, setFooter, setHeader } from './block.js';
import { heapError, invalidOptions } from './errors.js';
import { wordsToCover } from './bitmap.js';
import { insertFree } from './freelist.js';
import {
	ALIGN_MASK,
	BITMAP_GRANULE_BITS,
	FREE,
	HEADER_BYTES,
	MAGIC,
	MAX_REGION_END,
	MAX_THREAD_SLOTS,
	MIN_BLOCK,
	PREV_FREE,
	ROOT_WORDS,
	R_BITMAP_START,
	R_BITMAP_WORDS,
	R_BLOCKS_START,
	R_FREE_BLOCKS,
	R_FREE_BYTES,
	R_MAGIC,
	R_MAX_END,
	R_META_BYTES,
	R_REGION_END,
	R_REGION_START,
	R_SENTINEL,
	R_THREADS,
	R_THREAD_SLOTS,
	R_VERSION,
	SLOT_BYTES,
	TABLES_BYTES,
	VERSION_WORD,
	roundDown8,
	roundUp8,
} from './layout.js';

/** Where a new region goes. */
export interface RegionRequest {
	buffer: ArrayBuffer | SharedArrayBuffer;
	regionStart: number;
	regionEnd: number;
	/** Highest region end growth may reach; 0 for a fixed region. */
	maxEnd: number;
}

/** An opened region: its bounds, read back from its root, and views. */
export interface RegionInfo extends RegionRequest {
	m: Uint32Array;
	u8: Uint8Array;
	/** Word index of the root. */
	root: number;
	blocksStart: number;
	sentinel: number;
	/** Word index of the payload-start bitmap. */
	bitmapWord: number;
	/** Capacity of the bitmap in words. */
	bitmapWords: number;
}

/** Largest byte length `buffer` can grow to (its current length when it cannot). */
export function maxByteLength(buffer: ArrayBuffer | SharedArrayBuffer, memory?: WebAssembly.Memory): number {
	if (memory !== undefined) {
		// A memory without a declared maximum can grow to 4 GiB (wasm32).
		return 0x1_0000_0000;
	}
	const b = buffer as { resizable?: boolean; growable?: boolean; maxByteLength?: number };
	return b.resizable === true || b.growable === true ? (b.maxByteLength as number) : buffer.byteLength;
}


/** Validates options and picks the buffer and region bounds. */
export function resolveRegion(options: HeapOptions): RegionRequest {
	const { size, memory, offset = 0, grow = false, maxSize } = options;
	let buffer = options.buffer;
	if (buffer !== undefined && memory !== undefined) throw invalidOptions('Heap', 'give buffer or memory, not both');
	if (memory !== undefined) {
		if (!(memory instanceof WebAssembly.Memory)) throw invalidOptions('Heap', 'memory must be a WebAssembly.Memory', memory);
		buffer = memory.buffer;
	}
	if (buffer === undefined) {
		if (!Number.isSafeInteger(size) || (size as number) <= 0) {
			throw invalidOptions('Heap', 'give a positive integer size, a buffer or a memory', size);
		}
		buffer = new ArrayBuffer(size as number);
	} else if (!(buffer instanceof ArrayBuffer) && !isShared(buffer)) {
		throw invalidOptions('Heap', 'buffer must be an ArrayBuffer or SharedArrayBuffer', buffer);
	}
	if (!Number.isSafeInteger(offset) || offset < 0 || offset > buffer.byteLength) {
		throw invalidOptions('Heap', `offset must be an integer in [0, ${buffer.byteLength}]`, offset);
	}
	if (typeof grow !== 'boolean') throw invalidOptions('Heap', 'grow must be a boolean', grow);
	if (grow && options.length !== undefined) throw invalidOptions('Heap', 'a growing region runs to the end of the buffer: leave out length');
	const length = options.length ?? buffer.byteLength - offset;
	if (!Number.isSafeInteger(length) || length < 0 || offset + length > buffer.byteLength) {
		throw invalidOptions('Heap', `length must be an integer with offset + length ≤ ${buffer.byteLength}`, length);
	}
	const regionStart = roundUp8(offset);
	let regionEnd = roundDown8(offset + length);
	let maxEnd = 0;
	if (grow) {
		const limit = maxByteLength(buffer, memory);
		if (limit <= buffer.byteLength) {
			throw invalidOptions('Heap', 'grow needs a WebAssembly.Memory, a resizable ArrayBuffer or a growable SharedArrayBuffer');
		}
		if (maxSize !== undefined && (!Number.isSafeInteger(maxSize) || maxSize <= 0)) {
			throw invalidOptions('Heap', 'maxSize must be a positive integer', maxSize);
		}
		maxEnd = roundDown8(Math.min(limit, MAX_REGION_END, maxSize === undefined ? Number.POSITIVE_INFINITY : regionStart + maxSize));
		regionEnd = Math.min(regionEnd, maxEnd);
	}
	if (regionEnd > MAX_REGION_END) throw invalidOptions('Heap', `the region must end at or below ${MAX_REGION_END}`, regionEnd);
	if (regionEnd - regionStart < TABLES_BYTES + MIN_BLOCK * 4) {
		throw invalidOptions('Heap', `the region is too small (${regionEnd - regionStart} bytes)`, length);
	}
	return { buffer, regionStart, regionEnd, maxEnd };
}

/** Whether `buffer` is a SharedArrayBuffer (false where there are none). */
export function isShared(buffer: unknown): buffer is SharedArrayBuffer {
	return typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
}

/** Writes a fresh heap into the region: root, empty tables, one free block. */
export function formatRegion(r: RegionRequest): void {
	const { buffer, regionStart, regionEnd, maxEnd } = r;
	const m = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
	const root = regionStart >>> 2;
	const bitmapStart = regionStart + TABLES_BYTES;
	const bitmapBytes = wordsToCover(bitmapStart, regionEnd) * 4;
	const blocksStart = roundUp8(bitmapStart + bitmapBytes) + HEADER_BYTES;
	const sentinel = regionEnd - HEADER_BYTES;
	const first = sentinel - blocksStart;
	if (first < MIN_BLOCK) throw invalidOptions('Heap', `the region is too small (${regionEnd - regionStart} bytes)`);
	m.fill(0, root, blocksStart >>> 2);
	rootSet(m, root, R_MAGIC, MAGIC);
	rootSet(m, root, R_VERSION, VERSION_WORD);
	rootSet(m, root, R_REGION_START, regionStart);
	rootSet(m, root, R_REGION_END, regionEnd);
	rootSet(m, root, R_BLOCKS_START, blocksStart);
	rootSet(m, root, R_SENTINEL, sentinel);
	rootSet(m, root, R_BITMAP_START, bitmapStart);
	rootSet(m, root, R_META_BYTES, fixedMetaBytes(regionStart, blocksStart));
	rootSet(m, root, R_BITMAP_WORDS, bitmapBytes >>> 2);
	rootSet(m, root, R_MAX_END, maxEnd);
	setHeader(m, blocksStart, first | FREE);
	setFooter(m, blocksStart, first);
	setHeader(m, sentinel, PREV_FREE);
	insertFree(m, root, blocksStart, first);
	rootSet(m, root, R_FREE_BYTES, first);
	rootSet(m, root, R_FREE_BLOCKS, 1);
}

/** META_BYTES without internal blocks: the root, tables and inline bitmap before the first block, and the sentinel. */
export function fixedMetaBytes(regionStart: number, blocksStart: number): number {
	return blocksStart - regionStart + HEADER_BYTES;
}

/**
 * Whether the root's thread table (THREADS, THREAD_SLOTS: none, or a
 * payload inside the blocks with a sane slot count) can be trusted.
 */
function tableFits(m: Uint32Array, root: number, blocksStart: number, sentinel: number): boolean {
	const table = rootGet(m, root, R_THREADS);
	const slots = rootGet(m, root, R_THREAD_SLOTS);
	if (table === 0) return slots === 0;
	return (
		slots >= 1 && slots <= MAX_THREAD_SLOTS && table >= blocksStart + HEADER_BYTES && (table & ALIGN_MASK) === 0 && table + slots * SLOT_BYTES <= sentinel
	);
}

/** Reads and validates the root at `offset`; throws NO_HEAP / INCOMPATIBLE_HEAP. */
export function openRegion(buffer: ArrayBuffer | SharedArrayBuffer, offset: number, op: string): RegionInfo {
	if (!(buffer instanceof ArrayBuffer) && !isShared(buffer)) {
		throw invalidOptions(op, 'buffer must be an ArrayBuffer, SharedArrayBuffer or WebAssembly.Memory');
	}
	if (!Number.isSafeInteger(offset) || offset < 0) {
		throw invalidOptions(op, `offset must be a non-negative integer, got ${String(offset)}`);
	}
	const regionStart = roundUp8(offset);
	const noHeap = (why: string) => heapError('NO_HEAP', op, `no heap at offset ${regionStart}: ${why}`);
	if (regionStart + ROOT_WORDS * 4 > buffer.byteLength) throw noHeap('the buffer is too short');
	const m = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
	const root = regionStart >>> 2;
	if (rootGet(m, root, R_MAGIC) !== MAGIC) throw noHeap('bad magic number');
	const version = rootGet(m, root, R_VERSION);
	if (version !== VERSION_WORD) {
		throw heapError('INCOMPATIBLE_HEAP', op, `heap layout 0x${version.toString(16)} is not 0x${VERSION_WORD.toString(16)}`);
	}
	const regionEnd = rootGet(m, root, R_REGION_END);
	const blocksStart = rootGet(m, root, R_BLOCKS_START);
	const sentinel = rootGet(m, root, R_SENTINEL);
	const bitmapStart = rootGet(m, root, R_BITMAP_START);
	const bitmapWords = rootGet(m, root, R_BITMAP_WORDS);
	const inline = bitmapStart === regionStart + TABLES_BYTES;
	if (
		rootGet(m, root, R_REGION_START) !== regionStart ||
		regionEnd > buffer.byteLength ||
		!(inline || (bitmapStart > blocksStart && bitmapStart + bitmapWords * 4 <= sentinel)) ||
		(blocksStart & ALIGN_MASK) !== HEADER_BYTES ||
		blocksStart <= regionStart + TABLES_BYTES ||
		bitmapWords * 32 * (1 << BITMAP_GRANULE_BITS) < sentinel - blocksStart ||
		sentinel !== regionEnd - HEADER_BYTES ||
		sentinel - blocksStart < MIN_BLOCK ||
		!tableFits(m, root, blocksStart, sentinel)
	) {
		throw noHeap('the root describes a region that does not fit this buffer');
	}
	return {
		buffer,
		regionStart,
		regionEnd,
		m,
		u8: new Uint8Array(buffer),
		root,
		blocksStart,
		sentinel,
		bitmapWord: bitmapStart >>> 2,
		bitmapWords,
		maxEnd: rootGet(m, root, R_MAX_END),
	};
}
