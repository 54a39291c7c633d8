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
import { heapError } from './errors.js';
import { insertFree } from './freelist.js';
import {
	ALIGN,
	ALIGN_MASK,
	BITMAP_GRANULE_BITS,
	FREE,
	HEADER_BYTES,
	MAGIC,
	MAX_REGION_END,
	MIN_BLOCK,
	PREV_FREE,
	R_BITMAP_START,
	R_BLOCKS_START,
	R_FREE_BLOCKS,
	R_FREE_BYTES,
	R_MAGIC,
	R_META_BYTES,
	R_REGION_END,
	R_REGION_START,
	R_SENTINEL,
	R_VERSION,
	ROOT_WORDS,
	TABLES_BYTES,
	VERSION_WORD,
} from './layout.js';

/** Where a new region goes. */
export interface RegionRequest {
	buffer: ArrayBuffer | SharedArrayBuffer;
	regionStart: number;
	regionEnd: number;
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
}

const roundUp8 = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const roundDown8 = (n: number) => Math.floor(n / ALIGN) * ALIGN;

function optionError(message: string, received?: unknown): Error {
	return heapError('INVALID_OPTIONS', 'Heap', message, undefined, received);
}

/** Validates options and picks the buffer and region bounds. */
export function resolveRegion(options: HeapOptions): RegionRequest {
	if (options === null || typeof options !== 'object') throw optionError('options must be an object', options);
	const { size, memory, offset = 0 } = options;
	let buffer = options.buffer;
	if (buffer !== undefined && memory !== undefined) throw optionError('give buffer or memory, not both');
	if (memory !== undefined) {
		if (!(memory instanceof WebAssembly.Memory)) throw optionError('memory must be a WebAssembly.Memory', memory);
		buffer = memory.buffer;
	}
	if (buffer === undefined) {
		if (!Number.isSafeInteger(size) || (size as number) <= 0) {
			throw optionError('give a positive integer size, a buffer or a memory', size);
		}
		buffer = new ArrayBuffer(size as number);
	} else if (!(buffer instanceof ArrayBuffer) && !isShared(buffer)) {
		throw optionError('buffer must be an ArrayBuffer or SharedArrayBuffer', buffer);
	}
	if (!Number.isSafeInteger(offset) || offset < 0 || offset > buffer.byteLength) {
		throw optionError(`offset must be an integer in [0, ${buffer.byteLength}]`, offset);
	}
	const length = options.length ?? buffer.byteLength - offset;
	if (!Number.isSafeInteger(length) || length < 0 || offset + length > buffer.byteLength) {
		throw optionError(`length must be an integer with offset + length ≤ ${buffer.byteLength}`, length);
	}
	const regionStart = roundUp8(offset);
	const regionEnd = roundDown8(offset + length);
	if (regionEnd > MAX_REGION_END) throw optionError(`the region must end at or below ${MAX_REGION_END}`, regionEnd);
	if (regionEnd - regionStart < TABLES_BYTES + MIN_BLOCK * 4) {
		throw optionError(`the region is too small (${regionEnd - regionStart} bytes)`, length);
	}
	return { buffer, regionStart, regionEnd };
}

function isShared(buffer: unknown): buffer is SharedArrayBuffer {
	return typeof SharedArrayBuffer !== 'undefined' && buffer instanceof SharedArrayBuffer;
}

/** Writes a fresh heap into the region: root, empty tables, one free block. */
export function formatRegion(r: RegionRequest): void {
	const { buffer, regionStart, regionEnd } = r;
	const m = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
	const root = regionStart >>> 2;
	const bitmapStart = regionStart + TABLES_BYTES;
	const granules = Math.ceil((regionEnd - bitmapStart) / (1 << BITMAP_GRANULE_BITS));
	const bitmapBytes = Math.ceil(granules / 32) * 4;
	const blocksStart = roundUp8(bitmapStart + bitmapBytes) + HEADER_BYTES;
	const sentinel = regionEnd - HEADER_BYTES;
	const first = sentinel - blocksStart;
	if (first < MIN_BLOCK) throw optionError(`the region is too small (${regionEnd - regionStart} bytes)`);
	m.fill(0, root, blocksStart >>> 2);
	rootSet(m, root, R_MAGIC, MAGIC);
	rootSet(m, root, R_VERSION, VERSION_WORD);
	rootSet(m, root, R_REGION_START, regionStart);
	rootSet(m, root, R_REGION_END, regionEnd);
	rootSet(m, root, R_BLOCKS_START, blocksStart);
	rootSet(m, root, R_SENTINEL, sentinel);
	rootSet(m, root, R_BITMAP_START, bitmapStart);
	rootSet(m, root, R_META_BYTES, blocksStart - regionStart + HEADER_BYTES);
	setHeader(m, blocksStart, first | FREE);
	setFooter(m, blocksStart, first);
	setHeader(m, sentinel, PREV_FREE);
	insertFree(m, root, blocksStart, first);
	rootSet(m, root, R_FREE_BYTES, first);
	rootSet(m, root, R_FREE_BLOCKS, 1);
}

/** Reads and validates the root at `offset`; throws NO_HEAP / INCOMPATIBLE_HEAP. */
export function openRegion(buffer: ArrayBuffer | SharedArrayBuffer, offset: number, op: string): RegionInfo {
	if (!(buffer instanceof ArrayBuffer) && !isShared(buffer)) {
		throw heapError('INVALID_OPTIONS', op, 'buffer must be an ArrayBuffer, SharedArrayBuffer or WebAssembly.Memory');
	}
	if (!Number.isSafeInteger(offset) || offset < 0) {
		throw heapError('INVALID_OPTIONS', op, `offset must be a non-negative integer, got ${String(offset)}`);
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
	if (
		rootGet(m, root, R_REGION_START) !== regionStart ||
		regionEnd > buffer.byteLength ||
		bitmapStart !== regionStart + TABLES_BYTES ||
		(blocksStart & ALIGN_MASK) !== HEADER_BYTES ||
		blocksStart <= bitmapStart ||
		sentinel !== regionEnd - HEADER_BYTES ||
		sentinel - blocksStart < MIN_BLOCK
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
	};
}
