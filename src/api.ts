/**
 * api.ts: the glossary and the public types.
 *
 * ## Glossary
 * - **region**: the bytes `[regionStart, regionEnd)` of a buffer that one
 *   heap manages. All of its state lives there.
 * - **block**: a header word followed by a payload. `block` (a number) is the
 *   address of the header.
 * - **ptr**: the address of a payload, `block + 4`; what `malloc` returns.
 *   Addresses are byte offsets from the start of the buffer, not the region.
 * - **blockSize**: bytes of a block, header included (a multiple of 8, ≥ 16).
 * - **payloadSize** / usable size: `blockSize − 4`, what the caller may use.
 * - **fl / sl**: TLSF first level (power-of-two class) and second level
 *   (linear subdivision of it). `mappingInsert` maps a size to the list it is
 *   filed in; `mappingSearch` to the first list whose blocks all fit it.
 * - **split**: cut a free block in two, allocate the front, free the rest.
 * - **coalesce**: merge a freed block with its free physical neighbours.
 * - **internal fragmentation**: bytes inside allocated blocks the caller did
 *   not ask for (rounding, minimum block size).
 * - **external fragmentation**: free memory scattered in pieces too small
 *   for a request, measured as `1 − largestFree / freeBytes`.
 */

/** Options for `new Heap(options)`. */
export interface HeapOptions {
	/**
	 * Create a new ArrayBuffer of this many bytes and manage all of it.
	 * Ignored when `buffer` or `memory` is given.
	 */
	size?: number;
	/** An existing ArrayBuffer or SharedArrayBuffer to manage part of. */
	buffer?: ArrayBuffer | SharedArrayBuffer;
	/** A WebAssembly.Memory whose current buffer to manage part of. */
	memory?: WebAssembly.Memory;
	/**
	 * Start of the region in the buffer, in bytes; rounded up to 8.
	 * @defaultValue 0
	 */
	offset?: number;
	/**
	 * Length of the region in bytes.
	 * @defaultValue the rest of the buffer after `offset`
	 */
	length?: number;
	/**
	 * Grow the region on demand: when no free block fits a request, the
	 * buffer is grown (`memory.grow`, `ArrayBuffer.prototype.resize` or
	 * `SharedArrayBuffer.prototype.grow`) by at least the shortfall and at
	 * least doubling, up to `maxSize`, and the new space joins the last free
	 * block. Needs a WebAssembly.Memory, a resizable ArrayBuffer or a
	 * growable SharedArrayBuffer, and `length` left out (the region runs to
	 * the end of the buffer). After growth the old ArrayBuffer of a memory is
	 * detached: use `heap.buffer` (always current) and `heap.liveView`.
	 * @defaultValue false
	 */
	grow?: boolean;
	/**
	 * Largest region length growth may reach, in bytes.
	 * @defaultValue the buffer's own limit (4 GiB for a WebAssembly.Memory)
	 */
	maxSize?: number;
	/**
	 * Keep a cache of freed small blocks (block sizes up to 4 KiB) in front
	 * of the free lists. A free files such a block in a list of its size
	 * class without merging it with its neighbours, and the next malloc of
	 * that class takes it back in O(1). Each list holds up to 8 blocks
	 * and 1 KiB (at least one block); a free that finds its list full goes
	 * to the free lists. malloc, realloc and alignedAlloc empty the cache
	 * before they return 0. Cached blocks are neither used nor free (`stats().cachedBytes`);
	 * `flushCaches()` returns them to the free lists. On a shared heap
	 * `false` is the same as `threads: 0`. Ignored by attach (the region
	 * keeps what it was made with).
	 * @defaultValue true when the region is at least 51,200 bytes (the
	 * cache's 800-byte slot then takes at most 1/64 of it)
	 */
	cache?: boolean;
	/**
	 * Shared heaps (on a SharedArrayBuffer or a shared WebAssembly.Memory):
	 * thread slots in the thread table, i.e. how many Heap objects (one per
	 * worker) can have a cache of small blocks at once. Others still work,
	 * taking the heap lock for every call. 0 = no caches. Ignored by attach.
	 * @defaultValue 16, or fewer so that the table (800 B a slot) stays
	 * within 1/64 of the region
	 */
	threads?: number;
	/**
	 * Shared heaps: longest wait for a lock, in ms, before a call throws
	 * HeapError LOCK_TIMEOUT (a worker died holding it: see `recover`).
	 * @defaultValue 10000
	 */
	lockTimeout?: number;
	/**
	 * Shared heaps: a tag (a positive integer, e.g. a worker's threadId)
	 * recorded in this Heap object's thread slot, so `recover(owner)` can find
	 * it if the worker is terminated. 0 = untagged.
	 * @defaultValue 0
	 */
	owner?: number;
	/**
	 * Debug checking level: 0 none beyond the always-on misuse checks;
	 * 1 cheap header asserts on every free/realloc; 2 also the physical
	 * neighbours of every block touched; 3 a full `check()` after every
	 * mutating call (slow: O(blocks) per call).
	 * @defaultValue 0
	 */
	debug?: 0 | 1 | 2 | 3;
}

/** Usage figures, all in bytes unless named otherwise. O(1) to read. */
export interface HeapStats {
	/** Bytes in the region: `usedBytes + freeBytes + overheadBytes`. */
	regionBytes: number;
	/**
	 * Σ payload bytes (blockSize − 4) of allocated blocks. For a block from
	 * `alignedAlloc` this includes its 4-byte align trailer, which
	 * `usableSize` leaves out.
	 */
	usedBytes: number;
	/** Σ sizes of free blocks (each can serve up to `size − 4` bytes). */
	freeBytes: number;
	/** Root, tables, bitmap, sentinel and one 4-byte header per live block. */
	overheadBytes: number;
	/** Of `overheadBytes`, the fixed part: root, tables, bitmap, sentinel. */
	metaBytes: number;
	/** Allocated blocks. */
	liveBlocks: number;
	/** Free blocks. */
	freeBlocks: number;
	/** Size of the largest free block (0 when none). */
	largestFreeBlock: number;
	/**
	 * Largest payload a single `malloc` can return from the free lists as
	 * they are. A malloc that finds nothing empties the cache first, so it
	 * may return more when `cachedBytes` is not 0.
	 */
	largestAllocatable: number;
	/**
	 * Highest `usedBytes` ever seen. On a shared heap it also counts the
	 * blocks that were waiting in thread caches at the time (an unshared
	 * heap's own cache is left out).
	 */
	peakUsedBytes: number;
	/** `1 − largestFreeBlock / freeBytes` (0 when nothing is free). */
	externalFragmentation: number;
	/**
	 * Σ sizes of the freed blocks waiting in the small-block cache (a
	 * heap's own, or the thread caches of a shared heap): neither used nor
	 * free, so `regionBytes = usedBytes + freeBytes + overheadBytes +
	 * cachedBytes`. 0 on a heap without a cache.
	 */
	cachedBytes: number;
	/** Freed blocks waiting in the small-block cache (not in `liveBlocks` or `freeBlocks`). */
	cachedBlocks: number;
}

/** What `Heap.recover(owner)` did. */
export interface RecoverReport {
	/** Thread slots the dead owner held (0: nothing to recover). */
	slots: number;
	/** Locks it held that were taken over (the heap lock, its slot lock). */
	locksTaken: number;
	/** Blocks from its cache that went back to the free lists. */
	cachedReturned: number;
	/**
	 * Blocks found allocated but owned by nobody (the one a dead call was
	 * handing out or resizing); kept allocated, since another worker may
	 * hold their pointer.
	 */
	leakedBlocks: number;
	/** Whether the lists, bitmap and counters were rebuilt from the headers. */
	rebuilt: boolean;
}

/** One block as the walker sees it. */
export interface BlockInfo {
	/** Address of the header (the block's offset in the buffer). */
	block: number;
	/** Same as `block`: where the block starts. */
	offset: number;
	/** Address of the payload (`block + 4`). */
	ptr: number;
	/** Block size in bytes, header included. */
	size: number;
	/** Whether the block is free. */
	free: boolean;
	/** Whether it was allocated with an alignment above 8. */
	aligned: boolean;
	/**
	 * Whether it is heapfit's own: the moved payload-start bitmap of a grown
	 * heap, or the thread table that holds the small-block cache
	 * (allocated, never freed).
	 */
	internal: boolean;
	/**
	 * Whether it is a freed block waiting in the small-block cache (the
	 * heap's own, or a shared heap's thread cache): not merged, and reused
	 * only by a malloc of its size class (through that thread slot).
	 */
	cached: boolean;
}

/** Typed-array element types for `allocArray` and `view`. */
export type ArrayType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64' | 'u64' | 'i64';

/** The typed array class each `ArrayType` gives. */
export interface ArrayTypeMap {
	u8: Uint8Array;
	i8: Int8Array;
	u16: Uint16Array;
	i16: Int16Array;
	u32: Uint32Array;
	i32: Int32Array;
	f32: Float32Array;
	f64: Float64Array;
	u64: BigUint64Array;
	i64: BigInt64Array;
}

/** One broken invariant found by `check()`. */
export interface Violation {
	/** Which rule, e.g. `'adjacent-free'`, `'bitmap'`. */
	rule: string;
	/** The block (header address) involved, or the root address. */
	at: number;
	/** What is wrong, in words. */
	message: string;
}
