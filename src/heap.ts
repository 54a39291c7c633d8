/**
 * heap.ts: the Heap, a TLSF allocator over one region of a buffer.
 * Main entry points: `new Heap(options)`, `Heap.attach(buffer, offset)`,
 * `malloc`, `calloc`, `realloc`, `free`, `alignedAlloc`, `usableSize`.
 *
 * All state lives in the region (layout.ts draws it); a Heap object only
 * caches the region's bounds and typed views of the buffer, so any number of
 * Heap objects may be attached to the same region, one at a time.
 *
 * ```
 *  malloc ─► cache list of its class ─(empty)─► free lists (TLSF) ─(none)─► empty the cache, try again
 *  free   ─► cache list, if small and the list has room ─(else)─► free lists, merged with free neighbours
 * ```
 * The cache (cache.ts) is an unshared heap's; a shared heap goes through
 * shared.ts instead.
 *
 * How misuse is caught, in O(1), before anything is written:
 * - not a number, NaN, fractional, negative, ≥ 2^32 → INVALID_POINTER
 *   ('not-integer' / 'negative' / 'out-of-range');
 * - outside [first payload, sentinel) → INVALID_POINTER 'out-of-range';
 * - not a multiple of 8 → INVALID_POINTER 'misaligned';
 * - its payload-start bit is clear → not a live block. If the word before
 *   it still reads as a freed header (F set, plausible size) the error is
 *   DOUBLE_FREE, and so is a block found in a cache list; otherwise
 *   INVALID_POINTER 'not-block-start'. The bitmap
 *   makes detection exact; only the name of the error is a best guess once
 *   the freed memory has been reused.
 */
import type { ArrayType, ArrayTypeMap, BlockInfo, HeapOptions, HeapStats, RecoverReport, Violation } from './api.js';
import { type Layout, allocate, allocateZeroed, deallocate, grow, growZeroed, shrink } from './allocator.js';
import { granuleOf, isMarked, mark, unmark } from './bitmap.js';
import { SharedState, checkSharedOptions } from './shared.js';
import {
	andNotHeaderAtomic,
	blockOf,
	orHeaderAtomic,
	footer,
	header,
	prevFreeSize,
	ptrOf,
	rootAdd,
	rootGet,
	rootSet,
	setAlignTrailer,
	setFooter,
	setHeader,
	sizeOf,
} from './block.js';
import { assertValid, checkHeap } from './check.js';
import { cachedPayload, cachedSet, claimForever, defaultSlots, drainSlot, isCached, makeThreadTable, tableSlots } from './cache.js';
import { cacheCount, cachePop, cachePush } from './threads.js';
import { checkAlign, checkSize, heapError, invalidOptions } from './errors.js';
import { findFree, insertFree, relinkFree, removeFree } from './freelist.js';
import * as layout from './layout.js';
import { growRegion } from './grow.js';
import { resizeBlock, usableOf } from './resize.js';
import { type RegionInfo, formatRegion, isShared, openRegion, resolveRegion } from './region.js';
import { readStats } from './stats.js';
import { LiveView, allocArray, freeArray, view } from './views.js';
import { type WasmImports, wasmImports } from './wasm.js';
import { walk } from './walk.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { ALIGN, ALIGNED, ALIGN_TRAILER_BYTES, CACHE_MAX_BLOCK, cacheClassDown, cacheClassUp, localCacheLimit, FREE, HEADER_BYTES, MAX_ALIGN, MAX_BLOCK, MAX_PAYLOAD, MIN_BLOCK, PREV_FREE, R_FREE_BLOCKS, R_FREE_BYTES, R_GROWTHS, R_LIVE_BLOCKS, R_PEAK_USED, R_USED_BYTES, blockSizeFor } = layout;

/** Passed through the constructor by `Heap.attach` only. */
const ATTACH: unique symbol = Symbol('heapfit.attach');
interface AttachRequest {
	buffer: ArrayBuffer | SharedArrayBuffer;
	offset: number;
	memory: WebAssembly.Memory | null;
	owner: number;
}


/**
 * Bytes from `block` to the first block start whose payload is aligned to
 * `align` and that leaves either no gap or a gap that is a block of its own.
 */
function alignGap(block: number, align: number): number {
	const gap = (align - (ptrOf(block) % align)) % align;
	return gap !== 0 && gap < MIN_BLOCK ? gap + align : gap;
}

/**
 * Whether a new unshared heap of `regionBytes` gets a cache (`option` is
 * HeapOptions.cache): by default when its one slot takes at most 1/64 of
 * the region.
 */
function wantsCache(option: boolean | undefined, regionBytes: number): boolean {
	return option ?? defaultSlots(regionBytes) >= 1;
}

/** A TLSF heap over one region of an ArrayBuffer, SharedArrayBuffer or WebAssembly.Memory. */
export class Heap {
	/** First byte of the region. */
	readonly regionStart: number;
	/** @internal the buffer, as of the last growth or refresh. */
	_buffer: ArrayBuffer | SharedArrayBuffer;
	/** @internal the memory whose buffer this is, if any. */
	readonly _memory: WebAssembly.Memory | null;
	/** @internal highest region end growth may reach; 0 = fixed region. */
	_maxEnd: number;
	/** @internal u32 view of the whole buffer. */
	_m: Uint32Array;
	/** @internal u8 view of the whole buffer. */
	_u8: Uint8Array;
	/** @internal word index of the root. */
	readonly _root: number;
	/** @internal address of the first block header. */
	readonly _blocksStart: number;
	/** @internal address of the END sentinel header. */
	_sentinel: number;
	/** @internal word index of the payload-start bitmap. */
	_bitmapWord: number;
	/** @internal first payload address (granule 0 of the bitmap). */
	readonly _payloadBase: number;
	/** Debug level in force (see HeapOptions.debug). */
	readonly debug: 0 | 1 | 2 | 3;
	/** @internal locks and thread cache of a heap on shared memory; null otherwise. */
	readonly _sync: SharedState | null;
	/** @internal word index of every slot of the thread table (empty: no table). */
	_slotWs: readonly number[];
	/** @internal an unshared heap's cache: the word index of its slot (0: no cache). */
	_cacheW: number;

	/**
	 * Makes a new heap. With `size`, over a new ArrayBuffer; with `buffer` or
	 * `memory`, over `[offset, offset + length)` of it, overwriting whatever
	 * was there.
	 */
	constructor(options: HeapOptions = {}) {
		if (options === null || typeof options !== 'object') {
			throw invalidOptions('Heap', 'options must be an object', options);
		}
		const debug = options.debug ?? 0;
		if (debug !== 0 && debug !== 1 && debug !== 2 && debug !== 3) {
			throw invalidOptions('Heap', 'debug must be 0, 1, 2 or 3', debug);
		}
		const req = (options as { [ATTACH]?: AttachRequest })[ATTACH];
		let info: RegionInfo;
		if (req === undefined) {
			const r = resolveRegion(options);
			if (options.cache !== undefined && typeof options.cache !== 'boolean') throw invalidOptions('Heap', 'cache must be a boolean', options.cache);
			if (options.cache === false && options.threads !== undefined && options.threads !== 0) {
				throw invalidOptions('Heap', 'cache: false and threads > 0 contradict each other', options.threads);
			}
			if (isShared(r.buffer)) checkSharedOptions('Heap', options.threads, options.lockTimeout, options.owner, r.regionEnd - r.regionStart);
			formatRegion(r);
			info = openRegion(r.buffer, r.regionStart, 'Heap');
			this._memory = options.memory ?? null;
		} else {
			checkSharedOptions('attach', undefined, options.lockTimeout, req.owner, 0);
			info = openRegion(req.buffer, req.offset, 'attach');
			this._memory = req.memory;
		}
		this._buffer = info.buffer;
		this._maxEnd = info.maxEnd;
		this.regionStart = info.regionStart;
		this._m = info.m;
		this._u8 = info.u8;
		this._root = info.root;
		this._blocksStart = info.blocksStart;
		this._sentinel = info.sentinel;
		this._bitmapWord = info.bitmapWord;
		this._payloadBase = info.blocksStart + HEADER_BYTES;
		this.debug = debug;
		this._slotWs = tableSlots(info.m, info.root);
		this._cacheW = 0;
		// Null first: a new heap allocates its thread table through
		// _allocBlock, whose bitmap update reads _sync, before _sync is set.
		this._sync = null;
		if (isShared(info.buffer)) {
			const threads = options.cache === false ? 0 : options.threads;
			this._sync = new SharedState(this, req === undefined, threads, options.lockTimeout, req?.owner ?? options.owner);
			return;
		}
		if (req === undefined && wantsCache(options.cache, this.regionEnd - this.regionStart)) {
			if (!makeThreadTable(this, 1)) throw invalidOptions('Heap', 'the region is too small for a cache', options.cache);
		}
		if (this._slotWs.length !== 0) {
			// Every Heap object of an unshared region uses the first slot, one call at a time.
			this._cacheW = this._slotWs[0];
			claimForever(this._m, this._cacheW);
		}
	}

	/**
	 * Re-opens the heap whose state already lives at `offset` of `buffer`
	 * (for another worker, or a buffer saved and restored). Throws
	 * HeapError NO_HEAP or INCOMPATIBLE_HEAP when there is none.
	 */
	static attach(
		buffer: ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory,
		offset = 0,
		options: Pick<HeapOptions, 'debug' | 'owner' | 'lockTimeout'> = {},
	): Heap {
		const memory = buffer instanceof WebAssembly.Memory ? buffer : null;
		const req: AttachRequest = {
			buffer: memory === null ? (buffer as ArrayBuffer) : memory.buffer,
			offset,
			memory,
			owner: options.owner ?? 0,
		};
		return new Heap({ debug: options.debug, lockTimeout: options.lockTimeout, [ATTACH]: req } as HeapOptions);
	}

	/** One past the last byte of the region (moves when the region grows): the sentinel's end. */
	get regionEnd(): number {
		return this._sentinel + HEADER_BYTES;
	}

	/**
	 * The buffer pointers index into. Always current: after the region grows
	 * a WebAssembly.Memory's buffer is a new object.
	 */
	get buffer(): ArrayBuffer | SharedArrayBuffer {
		if (this._m.length === 0) this._resync('buffer');
		return this._buffer;
	}

	/**
	 * @internal The views read as empty: the buffer was detached (a
	 * WebAssembly.Memory grown by someone else). A heap that holds the memory
	 * re-binds to its new buffer; one opened on a bare buffer cannot, and
	 * says so instead of reading garbage.
	 */
	private _resync(op: string): void {
		if (this._memory !== null) {
			this.refresh();
			return;
		}
		throw heapError(
			'DETACHED_BUFFER',
			op,
			'the buffer was detached (its memory grew); open the heap with { memory } or Heap.attach(memory) so it can follow the memory',
		);
	}

	/**
	 * Re-reads the buffer and the region's bounds. Needed only when someone
	 * else grew the memory (e.g. the wasm module itself) or another Heap
	 * object attached to this region grew it; this heap's own growth
	 * refreshes it by itself.
	 */
	refresh(): void {
		if (this._sync !== null) {
			this._sync.refresh();
			return;
		}
		this._refreshViews();
	}

	/** @internal `refresh` without locking. */
	_refreshViews(): void {
		const buffer = this._memory === null ? this._buffer : this._memory.buffer;
		const info = openRegion(buffer, this.regionStart, 'refresh');
		this._rebind(info.buffer);
		this._sentinel = info.sentinel;
		this._bitmapWord = info.bitmapWord;
		this._maxEnd = info.maxEnd;
	}

	/** @internal Points the views at `buffer` (after it grew or was replaced). */
	_rebind(buffer: ArrayBuffer | SharedArrayBuffer): void {
		this._buffer = buffer;
		this._m = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
		this._u8 = new Uint8Array(buffer);
		if (this._sync) this._sync.rebind(buffer);
	}

	// ─── C-style API ──────────────────────────────────────────────────────

	/**
	 * Allocates `size` bytes, 8-byte aligned. Returns the payload address, or
	 * 0 when no free block is large enough. `malloc(0)` returns a unique
	 * minimum block. Throws HeapError INVALID_SIZE unless `size` is a
	 * non-negative safe integer.
	 */
	malloc(size: number): number {
		if (this._m.length === 0) this._resync('malloc');
		if (typeof size !== 'number' || size >>> 0 !== size || size > MAX_PAYLOAD) {
			checkSize('malloc', size);
			return 0;
		}
		const ptr = this._sync === null ? this._alloc(blockSizeFor(size)) : this._sync.alloc(blockSizeFor(size));
		if (this.debug !== 0) this._debugAfter('malloc');
		return ptr;
	}

	/**
	 * Allocates `count × size` bytes that read as zero. Returns 0 when the
	 * product overflows or does not fit.
	 */
	calloc(count: number, size: number): number {
		checkSize('calloc', count);
		checkSize('calloc', size);
		if (this._m.length === 0) this._resync('calloc');
		const total = count * size;
		if (total > MAX_PAYLOAD) return 0;
		const ptr = this._sync === null ? this._alloc(blockSizeFor(total)) : this._sync.alloc(blockSizeFor(total));
		if (ptr !== 0) this._u8.fill(0, ptr, ptr + total);
		if (this.debug !== 0) this._debugAfter('calloc');
		return ptr;
	}

	/**
	 * Allocates `size` bytes at an address that is a multiple of `align` (a
	 * power of two up to 2 GiB). The padding in front of the block is
	 * returned to the free lists. Returns 0 when nothing fits.
	 */
	alignedAlloc(align: number, size: number): number {
		checkAlign('alignedAlloc', align, MAX_ALIGN);
		if (this._m.length === 0) this._resync('alignedAlloc');
		if (typeof size !== 'number' || size >>> 0 !== size || size > MAX_PAYLOAD) {
			checkSize('alignedAlloc', size);
			return 0;
		}
		let ptr: number;
		if (this._sync !== null) ptr = align <= ALIGN ? this._sync.alloc(blockSizeFor(size)) : this._sync.allocAligned(align, size);
		else if (align <= ALIGN) ptr = this._alloc(blockSizeFor(size));
		else {
			ptr = this._allocAligned(align, size);
			if (ptr === 0 && this._flushLocal() !== 0) ptr = this._allocAligned(align, size);
		}
		if (this.debug !== 0) this._debugAfter('alignedAlloc');
		return ptr;
	}

	/**
	 * Frees the block at `ptr`. `free(0)` does nothing. Throws HeapError
	 * (DOUBLE_FREE or INVALID_POINTER) for anything that is not a live block
	 * of this heap, and then the heap is unchanged.
	 */
	free(ptr: number): void {
		if (ptr === 0) return;
		if (this._sync !== null) this._sync.free(ptr);
		else this._free(this._liveBlock('free', ptr));
		if (this.debug !== 0) this._debugAfter('free');
	}

	/**
	 * Resizes the block at `ptr` to `size` bytes, keeping its contents up to
	 * the smaller of the two sizes. In place when it can be: a shrink splits
	 * off the tail, a grow absorbs a free next neighbour. Otherwise it
	 * allocates, copies and frees; a block from `alignedAlloc` keeps the
	 * alignment it was allocated with (its align trailer). Returns the new address, or 0
	 * when it cannot grow; then the old block is untouched and still live.
	 * `realloc(0, n)` is `malloc(n)`. `realloc(ptr, 0)` shrinks the block to
	 * the minimum block and returns `ptr` (it does not free it).
	 */
	realloc(ptr: number, size: number): number {
		if (ptr === 0) return this.malloc(size);
		checkSize('realloc', size);
		return this._resizeLive('realloc', ptr, size, 0, size);
	}

	/**
	 * @internal Resizes live block `ptr` for API function `op` (realloc,
	 * grow, shrink) to `size` bytes aligned to `align` (0: the alignment the
	 * block has); `keep` payload bytes survive a move. Returns the payload
	 * address, or 0 when it cannot (then the block is untouched).
	 */
	_resizeLive(op: string, ptr: number, size: number, align: number, keep: number): number {
		const out = this._sync === null ? this._resize(this._liveBlock(op, ptr), size, align, keep) : this._sync.resize(op, ptr, size, align, keep);
		if (this.debug !== 0) this._debugAfter(op);
		return out;
	}

	/** Bytes the caller may use at `ptr` (≥ the size asked for). */
	usableSize(ptr: number): number {
		return this._usableSize('usableSize', ptr);
	}

	/** @internal `usableSize` on behalf of API function `op` (named in errors). */
	_usableSize(op: string, ptr: number): number {
		if (this._sync !== null) return this._sync.usableSize(op, ptr);
		return usableOf(header(this._m, this._liveBlock(op, ptr)));
	}

	// ─── Allocator API (Rust style: throws AllocError when full) ─────────

	/** Allocates memory for `layout`; throws AllocError when full. */
	allocate(layout: Layout): number {
		return allocate(this, layout);
	}
	/** Like `allocate`, and the memory reads as zero. */
	allocateZeroed(layout: Layout): number {
		return allocateZeroed(this, layout);
	}
	/** Frees `ptr`, which `layout` must describe (size ≤ usable, align divides ptr). */
	deallocate(ptr: number, layout: Layout): void {
		deallocate(this, ptr, layout);
	}
	/** Grows the block to `newLayout` (size ≥ old), keeping contents and alignment. */
	grow(ptr: number, oldLayout: Layout, newLayout: Layout): number {
		return grow(this, ptr, oldLayout, newLayout, false);
	}
	/** Like `grow`, and the new bytes read as zero. */
	growZeroed(ptr: number, oldLayout: Layout, newLayout: Layout): number {
		return growZeroed(this, ptr, oldLayout, newLayout);
	}
	/** Shrinks the block to `newLayout` (size ≤ old). */
	shrink(ptr: number, oldLayout: Layout, newLayout: Layout): number {
		return shrink(this, ptr, oldLayout, newLayout);
	}

	// ─── Typed views ─────────────────────────────────────────────────────

	/** A typed array of `length` zeroed elements in fresh memory, or null when full. */
	allocArray<T extends ArrayType>(type: T, length: number): ArrayTypeMap[T] | null {
		return allocArray(this, type, length);
	}
	/** A typed array over `length` elements at `ptr` (inside the region). */
	view<T extends ArrayType>(ptr: number, type: T, length: number): ArrayTypeMap[T] {
		return view(this, ptr, type, length);
	}
	/**
	 * A view that survives growth: its `array` is re-made whenever the
	 * buffer changed. Plain typed arrays made before a WebAssembly.Memory
	 * grew are detached (they read as empty); keep pointers or LiveViews.
	 */
	liveView<T extends ArrayType>(ptr: number, type: T, length: number): LiveView<T> {
		return new LiveView(this, ptr, type, length);
	}
	/** How many times the region has grown (from the root; see `grow`). */
	get growths(): number {
		if (this._m.length === 0) this._resync('growths');
		return rootGet(this._m, this._root, R_GROWTHS);
	}
	/** Frees the block a typed array from `allocArray` views. */
	freeArray(array: ArrayTypeMap[ArrayType]): void {
		freeArray(this, array);
	}

	// ─── WebAssembly ─────────────────────────────────────────────────────

	/**
	 * The C allocator imports for a wasm module whose memory this heap
	 * manages: `{ malloc, free, calloc, realloc, aligned_alloc,
	 * posix_memalign }`, to pass as its `env` imports (see wasm.ts).
	 */
	wasmImports(): WasmImports {
		return wasmImports(this);
	}

	// ─── Introspection ───────────────────────────────────────────────────

	/** Usage counters, read in O(1) from the root. */
	stats(): HeapStats {
		if (this._m.length === 0) this._resync('stats');
		return this._sync === null ? readStats(this) : this._sync.stats();
	}
	/**
	 * Every block in address order (the one block walker). On a shared heap
	 * it is a snapshot taken with every lock held.
	 */
	blocks(): IterableIterator<BlockInfo> {
		if (this._m.length === 0) this._resync('blocks');
		return this._sync === null ? walk(this, cachedSet(this, [])) : this._sync.blocks();
	}
	/** The block walker under its other name (the same iterator as `blocks()`). */
	walk(): IterableIterator<BlockInfo> {
		return this.blocks();
	}
	/** Every broken invariant (empty when the heap is sound). O(blocks). */
	check(): Violation[] {
		if (this._m.length === 0) this._resync('check');
		return this._sync === null ? checkHeap(this) : this._sync.check();
	}

	// ─── Shared memory (shared.ts) ───────────────────────────────────────

	/** Whether the heap is on shared memory (every call takes its locks). */
	get shared(): boolean {
		return this._sync !== null;
	}
	/** This Heap object's slot in a shared heap's thread table (−1: none). */
	get threadSlot(): number {
		return this._sync === null ? -1 : this._sync.slot;
	}
	/**
	 * Returns the blocks this Heap object's thread cache holds to the heap
	 * and gives its thread slot back. Call it before a worker exits; the
	 * next small allocation takes a slot again. Returns how many blocks went
	 * back. On an unshared heap it is `flushCaches()`.
	 */
	releaseThreadCache(): number {
		return this._sync === null ? this._flushLocal() : this._sync.releaseThreadCache();
	}
	/**
	 * Returns the small-block cache to the free lists, where its blocks
	 * merge with their free neighbours: an unshared heap's own cache, or
	 * every thread cache of a shared heap that is not in use at this moment
	 * (its owners keep their slots). Returns how many blocks went back.
	 * malloc, realloc and alignedAlloc do this by themselves before they
	 * give up.
	 */
	flushCaches(): number {
		return this._sync === null ? this._flushLocal() : this._sync.flushCaches();
	}
	/**
	 * Repairs a shared heap after the worker that attached with `owner` was
	 * terminated: takes over any lock it held, rebuilds the free lists,
	 * bitmap and counters from the block headers, returns its cache, and
	 * frees its slot. Call it only once that worker is gone.
	 */
	recover(owner: number): RecoverReport {
		if (this._sync === null) throw invalidOptions('recover', 'recover() is for heaps on shared memory');
		return this._sync.recover(owner);
	}

	// ─── Internals ───────────────────────────────────────────────────────

	/**
	 * @internal The block of `ptr` if it is a live block of this heap; throws
	 * otherwise (see the file comment for how each case is told apart).
	 */
	_liveBlock(op: string, ptr: number): number {
		if (this._m.length === 0) this._resync(op);
		const g = this._granule(ptr);
		if (g >= 0 && isMarked(this._m, this._bitmapWord, g)) {
			if (this.debug !== 0) this._debugBlock(op, blockOf(ptr));
			return blockOf(ptr);
		}
		throw this._pointerError(op, ptr);
	}

	/**
	 * @internal The payload-start bitmap granule of `ptr` if it can be a
	 * payload address of this heap (an integer in the blocks, 8-aligned);
	 * −1 otherwise.
	 */
	_granule(ptr: number): number {
		const off = typeof ptr === 'number' ? ptr - this._payloadBase : -1;
		return off >= 0 && ptr >>> 0 === ptr && ptr < this._sentinel && (off & 7) === 0 ? off >>> 3 : -1;
	}

	/** @internal Builds the error for a pointer `_liveBlock` rejected. */
	_pointerError(op: string, ptr: number): Error {
		const bad = (reason: 'not-integer' | 'negative' | 'out-of-range' | 'misaligned' | 'not-block-start') =>
			heapError('INVALID_POINTER', op, `${String(ptr)} is not a live block of this heap (${reason})`, reason, ptr);
		if (typeof ptr !== 'number' || !Number.isInteger(ptr)) return bad('not-integer');
		if (ptr < 0) return bad('negative');
		if (ptr < this._payloadBase || ptr >= this._sentinel) return bad('out-of-range');
		if ((ptr - this._payloadBase) % ALIGN !== 0) return bad('misaligned');
		const h = header(this._m, blockOf(ptr));
		const size = sizeOf(h);
		if (((h & FREE) !== 0 && size >= MIN_BLOCK && blockOf(ptr) + size <= this._sentinel) || isCached(this, blockOf(ptr))) {
			return heapError('DOUBLE_FREE', op, `${ptr} was already freed`, 'freed', ptr);
		}
		return bad('not-block-start');
	}

	// ─── Unshared heaps: the cache in front of the free lists (cache.ts) ──

	/**
	 * @internal malloc on an unshared heap: a block of `need` bytes from the
	 * cache when it holds one of that class, else from the free lists; the
	 * cache is flushed before it gives up (returns 0).
	 */
	_alloc(need: number): number {
		const w = this._cacheW;
		if (w !== 0 && need <= CACHE_MAX_BLOCK) {
			const m = this._m;
			const block = cachePop(m, w, cacheClassUp(need));
			if (block !== 0) {
				// Unshared (a shared heap has no _cacheW): the plain bitmap update.
				mark(m, this._bitmapWord, granuleOf(this._payloadBase, ptrOf(block)));
				this._raisePeak();
				return ptrOf(block);
			}
		}
		const ptr = this._allocBlock(need);
		return ptr !== 0 || this._flushLocal() === 0 ? ptr : this._allocBlock(need);
	}

	/** @internal free on an unshared heap of live block `block`: to the cache when it is small, else to the free lists. */
	_free(block: number): void {
		const m = this._m;
		const w = this._cacheW;
		const h = header(m, block);
		const size = sizeOf(h);
		if (w !== 0 && size <= CACHE_MAX_BLOCK && (h & ALIGNED) === 0) {
			const c = cacheClassDown(size);
			if (cacheCount(m, w, c) < localCacheLimit(c)) {
				unmark(m, this._bitmapWord, granuleOf(this._payloadBase, ptrOf(block)));
				cachePush(m, w, c, block, size);
				return;
			}
		}
		this._freeBlock(block, h);
	}

	/** @internal realloc on an unshared heap (see `_resizeLive`); the cache is flushed before it gives up. */
	_resize(block: number, size: number, align: number, keep: number): number {
		const out = resizeBlock(this, block, size, align, keep);
		return out !== 0 || this._flushLocal() === 0 ? out : resizeBlock(this, block, size, align, keep);
	}

	/**
	 * @internal Returns an unshared heap's cache to the free lists; how many
	 * blocks went back. Every slot of the table is emptied: a copy of a
	 * shared heap opened as an unshared one keeps its threads' caches in the
	 * other slots, and nobody else can reach them now.
	 */
	_flushLocal(): number {
		let n = 0;
		for (const w of this._slotWs) n += drainSlot(this, w);
		return n;
	}

	/**
	 * @internal Allocates a block of `need` bytes (a valid block size); 0 when
	 * full. A growing region grows for it unless `mayGrow` is false.
	 */
	_allocBlock(need: number, mayGrow = true): number {
		const m = this._m;
		const root = this._root;
		const block = findFree(m, root, need);
		if (block === 0) return mayGrow && this._maxEnd !== 0 && this._grow(need) ? this._allocBlock(need) : 0;
		return this._useBlock(block, sizeOf(header(m, block)), need, 0, true);
	}

	/** Grows the region so a block of `need` bytes fits; false when it cannot. */
	private _grow(need: number): boolean {
		return this._sync === null ? growRegion(this, need) : this._sync.grow(need);
	}

	/** @internal Sets the payload-start bit of `ptr` (atomically on shared memory). */
	_mark(ptr: number): void {
		if (this._sync === null) mark(this._m, this._bitmapWord, granuleOf(this._payloadBase, ptr));
		else this._sync.mark(ptr);
	}
	/** @internal Clears the payload-start bit of `ptr` (atomically on shared memory). */
	_unmark(ptr: number): void {
		if (this._sync === null) unmark(this._m, this._bitmapWord, granuleOf(this._payloadBase, ptr));
		else this._sync.unmark(ptr);
	}

	/**
	 * @internal Sets the PREV_FREE bit of `block`: the block before it became
	 * free. On shared memory atomically, since `block` may be an allocated
	 * block its owner is shrinking without the heap lock (shared.ts).
	 */
	private _setPrevFree(block: number): void {
		if (this._sync === null) setHeader(this._m, block, header(this._m, block) | PREV_FREE);
		else orHeaderAtomic(this._sync.i32, block, PREV_FREE);
	}
	/** @internal Clears the PREV_FREE bit of `block` (see `_setPrevFree`). */
	_clearPrevFree(block: number): void {
		if (this._sync === null) setHeader(this._m, block, header(this._m, block) & ~PREV_FREE);
		else andNotHeaderAtomic(this._sync.i32, block, PREV_FREE);
	}

	/** Marks new allocated block `block` of `size` bytes and counts it; returns its payload. */
	private _countAllocated(block: number, size: number): number {
		const m = this._m;
		const root = this._root;
		const ptr = ptrOf(block);
		this._mark(ptr);
		rootAdd(m, root, R_LIVE_BLOCKS, 1);
		rootAdd(m, root, R_USED_BYTES, size - HEADER_BYTES);
		this._raisePeak();
		return ptr;
	}

	/**
	 * Turns free block `block` of `size` bytes (still in its list when
	 * `linked`) into an allocated block of `need` bytes with `flags`
	 * (ALIGNED and/or PREV_FREE) added, freeing the tail when it is a block
	 * of its own (it takes the block's list position when it maps to the
	 * same list), then marks and counts it. Returns its payload address.
	 */
	private _useBlock(block: number, size: number, need: number, flags: number, linked: boolean): number {
		const m = this._m;
		const root = this._root;
		const rest = size - need;
		if (rest >= MIN_BLOCK) {
			const tail = block + need;
			setHeader(m, tail, rest | FREE);
			setFooter(m, tail, rest);
			if (linked) relinkFree(m, root, block, size, tail, rest);
			else insertFree(m, root, tail, rest);
			setHeader(m, block, need | flags);
			rootAdd(m, root, R_FREE_BYTES, -need);
			return this._countAllocated(block, need);
		}
		if (linked) removeFree(m, root, block, size);
		setHeader(m, block, size | flags);
		this._clearPrevFree(block + size);
		rootAdd(m, root, R_FREE_BYTES, -size);
		rootAdd(m, root, R_FREE_BLOCKS, -1);
		return this._countAllocated(block, size);
	}

	/** @internal Raises PEAK_USED to USED_BYTES (call once a block has its final size). */
	_raisePeak(): void {
		const m = this._m;
		const w = this._cacheW;
		const used = rootGet(m, this._root, R_USED_BYTES) - (w === 0 ? 0 : cachedPayload(m, w));
		if (used > rootGet(m, this._root, R_PEAK_USED)) rootSet(m, this._root, R_PEAK_USED, used);
	}

	/** @internal Allocates `size` bytes aligned to `align` > 8; 0 when full. */
	_allocAligned(align: number, size: number): number {
		if (size > MAX_PAYLOAD - ALIGN_TRAILER_BYTES) return 0;
		const m = this._m;
		const need = blockSizeFor(size + ALIGN_TRAILER_BYTES);
		// First the block a plain malloc would take, if its aligned part fits.
		let block = findFree(m, this._root, need);
		let bsize = block === 0 ? 0 : sizeOf(header(m, block));
		let gap = alignGap(block, align);
		if (block === 0 || gap + need > bsize) {
			// Worst case the first aligned payload is align − 8 bytes in, and a
			// gap that is not a block of its own pushes it one alignment further.
			const ask = need + align + MIN_BLOCK;
			if (ask > MAX_BLOCK) return 0;
			block = findFree(m, this._root, ask);
			if (block === 0) return this._maxEnd !== 0 && this._grow(ask) ? this._allocAligned(align, size) : 0;
			bsize = sizeOf(header(m, block));
			gap = alignGap(block, align);
		}
		removeFree(m, this._root, block, bsize);
		let flags = ALIGNED;
		if (gap !== 0) {
			// The aligned block's header before the gap's, so the block walk
			// stays whole at every step (see Heap.recover).
			setHeader(m, block + gap, (bsize - gap) | FREE);
			setHeader(m, block, gap | FREE);
			setFooter(m, block, gap);
			insertFree(m, this._root, block, gap);
			rootAdd(m, this._root, R_FREE_BLOCKS, 1);
			block += gap;
			bsize -= gap;
			flags |= PREV_FREE;
		}
		const ptr = this._useBlock(block, bsize, need, flags, false);
		setAlignTrailer(m, block, sizeOf(header(m, block)), align);
		return ptr;
	}

	/** @internal Frees live block `block` (header `h`): clears its payload-start bit, then `_freeClaimed`. */
	_freeBlock(block: number, h = header(this._m, block)): void {
		this._unmark(ptrOf(block));
		this._freeClaimed(block, h);
	}

	/**
	 * @internal Frees allocated block `block` (header `h`) whose payload-start
	 * bit is already clear (claimed by a shared call, cached, or never set),
	 * coalescing with free neighbours.
	 */
	_freeClaimed(block: number, h = header(this._m, block)): void {
		const m = this._m;
		const root = this._root;
		const size = sizeOf(h);
		// Keep F in the old header even if it is merged away (DOUBLE_FREE naming).
		setHeader(m, block, h | FREE);
		rootAdd(m, root, R_USED_BYTES, -(size - HEADER_BYTES));
		rootAdd(m, root, R_LIVE_BLOCKS, -1);
		rootAdd(m, root, R_FREE_BYTES, size);
		this._releaseRange(block, size, (h & PREV_FREE) !== 0);
	}

	/**
	 * @internal Makes `[block, block + size)` a free block, merged with the free
	 * neighbours on both sides, and files it. Counts one new free block less
	 * one per merge; byte counters are the caller's job.
	 */
	_releaseRange(block: number, size: number, prevFree: boolean): void {
		const m = this._m;
		const root = this._root;
		let merged = 1;
		// A merged neighbour hands the result its list position (relinkFree);
		// any other merged neighbour is unlinked.
		let linked = 0;
		let linkedSize = 0;
		const next = block + size;
		const nh = header(m, next);
		if ((nh & FREE) !== 0) {
			linked = next;
			linkedSize = sizeOf(nh);
			size += linkedSize;
			merged--;
		}
		if (prevFree) {
			const ps = prevFreeSize(m, block);
			block -= ps;
			if (linked !== 0) removeFree(m, root, linked, linkedSize);
			linked = block;
			linkedSize = ps;
			size += ps;
			merged--;
		}
		setHeader(m, block, size | FREE);
		setFooter(m, block, size);
		this._setPrevFree(block + size);
		if (linked !== 0) relinkFree(m, root, linked, linkedSize, block, size);
		else insertFree(m, root, block, size);
		rootAdd(m, root, R_FREE_BLOCKS, merged);
	}


	/**
	 * Debug levels 1 and 2 on a block about to be freed or resized: its header
	 * (level 1) and its physical neighbours (level 2) must agree with it.
	 * @internal
	 */
	_debugBlock(op: string, block: number): void {
		const m = this._m;
		const h = header(m, block);
		const size = sizeOf(h);
		const fail = (what: string) => {
			throw heapError('CORRUPT_HEAP', op, `block ${block}: ${what}`);
		};
		if ((h & FREE) !== 0 || size < MIN_BLOCK || block + size > this._sentinel) fail('bad header');
		if (this.debug < 2) return;
		const nh = header(m, block + size);
		const ns = sizeOf(nh);
		if ((nh & PREV_FREE) !== 0) fail('next block says this one is free');
		if (block + size !== this._sentinel && (ns < MIN_BLOCK || block + size + ns > this._sentinel)) fail('next block has an impossible size');
		if ((h & PREV_FREE) !== 0) {
			const ps = prevFreeSize(m, block);
			const prev = block - ps;
			if (prev < this._blocksStart || sizeOf(header(m, prev)) !== ps || footer(m, prev, ps) !== ps) {
				fail('previous free block disagrees with its footer');
			}
		}
	}

	/** @internal Debug level 3: a full check after a mutating call. */
	private _debugAfter(op: string): void {
		if (this.debug >= 3) assertValid(this, op);
	}
}
