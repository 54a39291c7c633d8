/**
 * shared.ts: what a Heap on shared memory (a SharedArrayBuffer, or a shared
 * WebAssembly.Memory) does on top of the plain heap: locks, per-thread
 * caches of small blocks, and recovery after a worker dies.
 *
 * ```
 *  root LOCK ─── the heap lock: the TLSF lists, headers, root counters
 *  slot LOCK ─── one per thread slot: that slot's cache lists and counters
 *  bitmap    ─── changed only with Atomics (testAndUnmark / markAtomic)
 *
 *  malloc(≤ 4092 B) slot lock ─► pop cache ─► set bit              (no heap lock)
 *                   miss: heap lock ─► one block cut into cacheBatch pieces
 *  free(≤ 4 KiB)    slot lock ─► test-and-clear bit ─► push cache  (no heap lock)
 *                   list over cacheLimit: heap lock ─► half of it back
 *  realloc shrink   slot lock ─► split in place, the tail to the cache
 *   (≤ 4 KiB)
 *  realloc grow     malloc from the cache ─► copy ─► slot lock ─► claim the
 *   (≤ 4 KiB)       old block ─► cache it
 *  everything else  heap lock
 *
 * A claimed block (bit cleared, not yet cached or freed) is never carried
 * across a moment when this thread holds no lock: check() and recover()
 * would see it as lost.
 * ```
 * Lock order: the heap lock before any slot lock, slot locks by index. The
 * fast paths take only their own slot lock and never wait for the heap lock
 * while holding it, so no cycle can form. Growth, stats, check and walks
 * hold the heap lock and every slot lock, so no fast path runs meanwhile
 * (growth may move the bitmap; see grow.ts).
 *
 * Why the bitmap is enough to make cross-thread misuse safe: a block changes
 * hands only through an atomic test-and-clear of its payload-start bit
 * (free, realloc, grow, shrink), so of two threads freeing or resizing the
 * same pointer at once exactly one proceeds and the other gets DOUBLE_FREE
 * or INVALID_POINTER (a cached block reads as allocated, so freeing it
 * again is named INVALID_POINTER), as a single thread would.
 *
 * A worker that is terminated inside a heap call leaves its locks held and
 * the structure half-updated. The block walk itself stays whole at every
 * step (every header that shrinks a block is written after the header that
 * takes over the rest), so `recover(owner)` can take its locks over and
 * rebuild the lists, the bitmap and the counters from the headers. See the
 * README's "One heap shared by many workers" for what is guaranteed.
 */
import type { BlockInfo, HeapStats, RecoverReport, Violation } from './api.js';
import { granuleOf, markAtomic, testAndUnmark, unmarkAtomic } from './bitmap.js';
import { blockOf, header, ptrOf, resizeHeaderAtomic, rootAdd, setHeader, sizeOf } from './block.js';
import { HeapError, invalidOptions } from './errors.js';
import type { Heap } from './heap.js';
import * as layout from './layout.js';
import { recoverOwner, sharedBlocks, sharedCheck, sharedStats } from './shared-admin.js';
import { resizeBlock, usableOf } from './resize.js';
import { addSplit, cacheCount, cachePop, cachePush, claimSlot, releaseSlot } from './threads.js';
import { defaultSlots, drainSlot, foldSplits, makeThreadTable, trimList } from './cache.js';
import { growRegion } from './grow.js';
import { NO_SLOT_ID, lock, tryLock, unlock } from './sync.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { ALIGNED, CACHE_MAX_BLOCK, HEADER_BYTES, MAX_THREAD_SLOTS, R_GROWTHS, R_LIVE_BLOCKS, R_LOCK, R_USED_BYTES, S_LOCK, SLOT_BYTES, ALIGN, MAX_PAYLOAD, MIN_BLOCK, PREV_FREE, blockSizeFor, cacheBatch, cacheClassDown, cacheClassSize, cacheClassUp, cacheLimit } = layout;

/** Default `lockTimeout`, in milliseconds. */
const DEFAULT_LOCK_TIMEOUT = 10_000;


/**
 * Checks the shared-heap options of `new Heap` / `Heap.attach` (op) before
 * anything is written; `regionBytes` is the new region's size (0 for attach).
 */
export function checkSharedOptions(op: string, threads: unknown, timeout: unknown, owner: unknown, regionBytes: number): void {
	if (threads !== undefined) {
		if (!Number.isInteger(threads) || (threads as number) < 0 || (threads as number) > MAX_THREAD_SLOTS) {
			throw invalidOptions(op, `threads must be an integer in [0, ${MAX_THREAD_SLOTS}]`, threads);
		}
		if (regionBytes !== 0 && (threads as number) * SLOT_BYTES > regionBytes / 2) {
			throw invalidOptions(op, `a thread table of ${String(threads)} slots does not fit a region of ${regionBytes} bytes`, threads);
		}
	}
	if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0)) {
		throw invalidOptions(op, 'lockTimeout must be a non-negative number of milliseconds (Infinity allowed)', timeout);
	}
	if (owner !== undefined && !(Number.isInteger(owner) && (owner as number) >= 0 && (owner as number) <= 0xffff_ffff)) {
		throw invalidOptions(op, 'owner must be an integer in [0, 2^32)', owner);
	}
}



/** Per-Heap-object state of a heap on shared memory (see the file comment). */
export class SharedState {
	readonly heap: Heap;
	/** Int32 view of the whole buffer, for Atomics. */
	i32: Int32Array;
	/** Word index of the root's GROWTHS. */
	private readonly growthsW: number;
	/** This object's thread slot, −1 when it has none. */
	slot = -1;
	/** @internal Word index of the slot. */
	slotW = 0;
	/** @internal Lock holder id: slot + 1, or NO_SLOT_ID. */
	id = NO_SLOT_ID;
	/** @internal Slots in the thread table. */
	readonly slots: number;
	/** @internal Word index of each slot (slotWord of 0 .. slots − 1). */
	readonly slotWs: readonly number[];
	/** @internal Word index of the root LOCK. */
	readonly lockW: number;
	/** @internal GROWTHS as of this object's views. */
	growthsSeen = 0;
	readonly timeout: number;
	/** @internal The owner tag this object's slot carries. */
	readonly owner: number;

	/** The options were checked by `checkSharedOptions` before the region was touched. */
	constructor(heap: Heap, fresh: boolean, threads: number | undefined, timeout: number | undefined, owner: number | undefined) {
		this.heap = heap;
		this.growthsW = heap._root + R_GROWTHS;
		this.lockW = heap._root + R_LOCK;
		this.timeout = timeout ?? DEFAULT_LOCK_TIMEOUT;
		this.owner = owner ?? 0;
		if (fresh) {
			const slots = threads ?? defaultSlots(heap.regionEnd - heap.regionStart);
			if (slots !== 0 && !makeThreadTable(heap, slots)) {
				throw invalidOptions('Heap', `the region is too small for a thread table of ${slots} slots`, slots);
			}
		}
		// After the table: making it (with _sync still null) may have grown the region and re-bound the views.
		this.i32 = new Int32Array(heap._buffer, 0, heap._buffer.byteLength >>> 2);
		this.slotWs = heap._slotWs;
		this.slots = this.slotWs.length;
		this.seeGrowths();
		this.claim();
	}

	/** Takes a free thread slot, if there is one. */
	private claim(): void {
		const s = claimSlot(this.i32, this.slotWs, this.owner);
		if (s < 0) return;
		this.slot = s;
		this.slotW = this.slotWs[s];
		this.id = s + 1;
	}

	/** Re-makes the Int32 view after the heap's views were re-bound. */
	rebind(buffer: ArrayBuffer | SharedArrayBuffer): void {
		this.i32 = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
	}

	/**
	 * Catches up with growth another thread made (call with a lock held,
	 * whose acquisition makes the grower's writes visible).
	 */
	follow(): void {
		if (this.heap._m[this.growthsW] !== this.growthsSeen) {
			this.heap._refreshViews();
			this.seeGrowths();
		}
	}

	/** @internal Records the root's GROWTHS as seen (the views are current). */
	seeGrowths(): void {
		this.growthsSeen = this.heap._m[this.growthsW];
	}

	// ─── Locks ───────────────────────────────────────────────────────────

	/** Takes the heap lock and catches up with growth; nothing is held if it throws. */
	private lockHeap(op: string): void {
		lock(this.i32, this.lockW, this.id, this.timeout, op);
		this.followOrUnlock(this.lockW);
	}
	/** @internal */
	unlockHeap(): void {
		unlock(this.i32, this.lockW);
	}
	/** Takes this slot's lock and catches up with growth; nothing is held if it throws. */
	private lockSlot(op: string): void {
		const w = this.slotW + S_LOCK;
		lock(this.i32, w, this.id, this.timeout, op);
		if (this.heap._m[this.growthsW] !== this.growthsSeen) this.followOrUnlock(w);
	}
	/** `follow()` with lock word `w` just taken: releases it if following throws. */
	private followOrUnlock(w: number): void {
		try {
			this.follow();
		} catch (e) {
			unlock(this.i32, w);
			throw e;
		}
	}
	private unlockSlot(): void {
		unlock(this.i32, this.slotW + S_LOCK);
	}
	/** With the heap lock held: takes every slot lock (all of them, claimed or not). */
	private lockSlots(op: string): void {
		for (let s = 0; s < this.slots; s++) {
			try {
				lock(this.i32, this.slotWs[s] + S_LOCK, this.id, this.timeout, op);
			} catch (e) {
				this.unlockSlots(s);
				throw e;
			}
		}
	}
	/** @internal */
	unlockSlots(count = this.slots): void {
		for (let s = 0; s < count; s++) unlock(this.i32, this.slotWs[s] + S_LOCK);
	}
	/** Runs `f` with the heap lock held (taken and released here). */
	private withHeap<T>(op: string, f: () => T): T {
		this.lockHeap(op);
		try {
			return f();
		} finally {
			this.unlockHeap();
		}
	}

	/** Runs `f` with this slot's lock held (taken and released here). */
	private withSlot<T>(op: string, f: () => T): T {
		this.lockSlot(op);
		try {
			return f();
		} finally {
			this.unlockSlot();
		}
	}

	/**
	 * @internal Runs `f` with the heap lock and every slot lock held. It
	 * never waits for a slot lock while it holds the heap lock: when one is
	 * taken it lets everything go, waits for that lock with nothing held,
	 * and starts again. (A slot lock may belong to a worker that was
	 * terminated; `recover` then needs the heap lock to take it over, and
	 * must not find it held by a call waiting for that very slot.)
	 */
	exclusive<T>(op: string, f: () => T): T {
		const deadline = Date.now() + this.timeout;
		for (;;) {
			this.lockHeap(op);
			let held = 0;
			while (held < this.slots && tryLock(this.i32, this.slotWs[held] + S_LOCK, this.id)) held++;
			if (held === this.slots) {
				try {
					for (const w of this.slotWs) foldSplits(this.heap, w);
					return f();
				} finally {
					this.unlockSlots();
					this.unlockHeap();
				}
			}
			this.unlockSlots(held);
			this.unlockHeap();
			// Wait until slot `held` is free, holding nothing (LOCK_TIMEOUT once the deadline passes).
			const w = this.slotWs[held] + S_LOCK;
			lock(this.i32, w, this.id, Math.max(0, deadline - Date.now()), op);
			unlock(this.i32, w);
		}
	}

	/** `usableSize` for API function `op`, with a lock held (the bitmap may move while none is). */
	usableSize(op: string, ptr: number): number {
		const heap = this.heap;
		const f = () => usableOf(header(heap._m, heap._liveBlock(op, ptr)));
		return this.slot >= 0 ? this.withSlot(op, f) : this.withHeap(op, f);
	}

	// ─── Bits ────────────────────────────────────────────────────────────

	mark(ptr: number): void {
		const heap = this.heap;
		markAtomic(this.i32, heap._bitmapWord, granuleOf(heap._payloadBase, ptr));
	}
	unmark(ptr: number): void {
		const heap = this.heap;
		unmarkAtomic(this.i32, heap._bitmapWord, granuleOf(heap._payloadBase, ptr));
	}

	/**
	 * Takes live block `ptr` out of circulation: checks it like `_liveBlock`
	 * (debug checks included) and clears its payload-start bit in one atomic
	 * step. Throws for anything that is not a live block, changing nothing.
	 */
	private claimLive(op: string, ptr: number): number {
		const heap = this.heap;
		const g = heap._granule(ptr);
		if (g < 0 || !testAndUnmark(this.i32, heap._bitmapWord, g)) throw heap._pointerError(op, ptr);
		if (heap.debug !== 0) {
			try {
				heap._debugBlock(op, blockOf(ptr));
			} catch (e) {
				this.mark(ptr);
				throw e;
			}
		}
		return blockOf(ptr);
	}

	// ─── Allocation ──────────────────────────────────────────────────────

	/** malloc of a block of `need` bytes. */
	alloc(need: number): number {
		if (need <= CACHE_MAX_BLOCK) {
			if (this.slot < 0) this.claim();
			if (this.slot >= 0) {
				const c = cacheClassUp(need);
				this.lockSlot('malloc');
				const block = cachePop(this.heap._m, this.slotW, c);
				if (block !== 0) this.mark(ptrOf(block));
				this.unlockSlot();
				if (block !== 0) return ptrOf(block);
				return this.refill(c, need);
			}
		}
		return this.withHeap('malloc', () => this.allocOrFlush(need));
	}

	/** With the heap lock held: a block of `need` bytes, flushing idle caches before giving up. */
	private allocOrFlush(need: number): number {
		const heap = this.heap;
		const ptr = heap._allocBlock(need);
		if (ptr !== 0 || this.flushIdle() === 0) return ptr;
		return heap._allocBlock(need);
	}

	/**
	 * A cache miss on class `c` (for a block of `need` bytes): one block of cacheBatch(c) × the class size
	 * from the heap, cut into blocks of the class; the first is the caller's
	 * and the others go to the cache. The batch is contiguous, so a worker's
	 * blocks (and their payload-start bits) stay together in memory.
	 */
	private refill(c: number, need: number): number {
		const heap = this.heap;
		const size = cacheClassSize(c);
		// Called on a miss, so list c is empty: a whole batch (2 to 16 blocks).
		const pieces = cacheBatch(c);
		return this.withHeap('malloc', () => {
			// A batch never grows the region; the block the caller needs may.
			const ptr = heap._allocBlock(size * pieces, false);
			if (ptr === 0) {
				// One block of the class; failing that, of the exact size (a
				// malloc returns 0 only when no free block fits the request).
				const one = this.allocOrFlush(size);
				return one !== 0 || need === size ? one : heap._allocBlock(need);
			}
			this.withSlot('malloc', () => {
				foldSplits(heap, this.slotW);
				this.cut(blockOf(ptr), size, pieces);
			});
			return ptr;
		});
	}

	/**
	 * With the heap lock and this slot's lock held: cuts new allocated block
	 * `block` (its bit set) into `pieces` blocks of `size` bytes (the last
	 * takes any remainder) and caches all but the first. The pieces' headers
	 * are written before the first block shrinks, so the block walk stays
	 * whole at every step (see recover).
	 */
	private cut(block: number, size: number, pieces: number): void {
		const heap = this.heap;
		const m = heap._m;
		const h = header(m, block);
		const total = sizeOf(h);
		for (let i = pieces - 1; i >= 1; i--) setHeader(m, block + i * size, i === pieces - 1 ? total - i * size : size);
		setHeader(m, block, size | (h & PREV_FREE));
		rootAdd(m, heap._root, R_LIVE_BLOCKS, pieces - 1);
		rootAdd(m, heap._root, R_USED_BYTES, -(pieces - 1) * HEADER_BYTES);
		for (let i = 1; i < pieces; i++) {
			const b = block + i * size;
			const bs = sizeOf(header(m, b));
			if (bs <= CACHE_MAX_BLOCK) cachePush(m, this.slotW, cacheClassDown(bs), b, bs);
			else heap._freeClaimed(b);
		}
	}

	/** alignedAlloc with an alignment above 8. */
	allocAligned(align: number, size: number): number {
		const heap = this.heap;
		return this.withHeap('alignedAlloc', () => {
			const ptr = heap._allocAligned(align, size);
			return ptr === 0 && this.flushIdle() !== 0 ? heap._allocAligned(align, size) : ptr;
		});
	}

	/**
	 * With this slot's lock held: files claimed block `block` (header `h`) in
	 * the cache when it belongs there. Returns the class whose list is now
	 * over its limit, −1 when cached and within it, −2 when not cacheable.
	 */
	private cache(block: number, h: number): number {
		const size = sizeOf(h);
		if (size > CACHE_MAX_BLOCK || (h & ALIGNED) !== 0) return -2;
		const c = cacheClassDown(size);
		return cachePush(this.heap._m, this.slotW, c, block, size) > cacheLimit(c) ? c : -1;
	}

	/** free. */
	free(ptr: number): void {
		if (this.slot < 0) {
			this.freeLocked(ptr);
			return;
		}
		let over = -2;
		this.lockSlot('free');
		try {
			const block = this.claimLive('free', ptr);
			over = this.cache(block, header(this.heap._m, block));
			// Not cacheable: live again until the heap lock is held (a claimed
			// block is never carried across a moment with no lock held).
			if (over === -2) this.mark(ptr);
		} finally {
			this.unlockSlot();
		}
		if (over === -1) return;
		if (over >= 0) this.trimSoon(over);
		else this.freeLocked(ptr);
	}

	/** free under the heap lock, to the free lists. */
	private freeLocked(ptr: number): void {
		this.withHeap('free', () => this.heap._freeClaimed(this.claimLive('free', ptr)));
	}

	/**
	 * List `c` went over its limit: trims it if the heap lock is free now.
	 * Only a list at twice its limit waits for the lock, and even then a
	 * timeout is not an error: the call that filled the list has done its
	 * work, and the next free tries again.
	 */
	private trimSoon(c: number): void {
		const now = tryLock(this.i32, this.lockW, this.id);
		if (!now && cacheCount(this.heap._m, this.slotW, c) <= 2 * cacheLimit(c)) return;
		try {
			if (now) this.followOrUnlock(this.lockW);
			else this.lockHeap('free');
		} catch {
			return;
		}
		try {
			this.trim(c);
		} catch (e) {
			// The slot lock held by a dead thread: the next call reports it.
			if (!(e instanceof HeapError && e.code === 'LOCK_TIMEOUT')) throw e;
		} finally {
			this.unlockHeap();
		}
	}

	/** With the heap lock held: returns half of this slot's list `c` to the heap. */
	private trim(c: number): void {
		this.withSlot('free', () => trimList(this.heap, this.slotW, c));
	}

	/** realloc / grow / shrink of live block `ptr`. */
	resize(op: string, ptr: number, size: number, align: number, keep: number): number {
		const heap = this.heap;
		const need = size <= MAX_PAYLOAD ? blockSizeFor(size) : 0;
		if (this.slot >= 0 && align <= ALIGN && need !== 0 && need <= CACHE_MAX_BLOCK) {
			// Small to small, through the caches, without the heap lock. First,
			// with this slot's lock held: a shrink (in place) is done at once.
			let h = 0;
			let over = -2;
			this.lockSlot(op);
			try {
				const block = this.claimLive(op, ptr);
				try {
					h = header(heap._m, block);
					if ((h & ALIGNED) === 0 && sizeOf(h) <= CACHE_MAX_BLOCK && need <= sizeOf(h)) {
						// In the same class as it is, nothing to do; else the tail is split off.
						over = cacheClassUp(need) === cacheClassDown(sizeOf(h)) ? -1 : this.split(block, sizeOf(h), need);
					}
				} finally {
					// Live again: a claimed block is never carried across a moment with no lock held.
					this.mark(ptr);
				}
			} finally {
				this.unlockSlot();
			}
			if (over !== -2) {
				if (over >= 0) this.trimSoon(over);
				return ptr;
			}
			if ((h & ALIGNED) === 0 && sizeOf(h) <= CACHE_MAX_BLOCK) {
				const out = this.growThroughCache(op, ptr, h, need, keep);
				if (out !== 0) return out;
			}
		}
		return this.withHeap(op, () => this.resizeLocked(this.claimLive(op, ptr), ptr, size, align, keep));
	}

	/**
	 * A small grow: a block of `need` bytes from the cache, the copy, then
	 * `ptr` (header `h` when it was looked at) is claimed and cached. If
	 * `ptr` was freed meanwhile by another thread, the new block goes back
	 * and the claim's error is thrown. Returns 0 when no block is free.
	 */
	private growThroughCache(op: string, ptr: number, h: number, need: number, keep: number): number {
		const heap = this.heap;
		const out = this.alloc(need);
		if (out === 0) return 0;
		heap._u8.copyWithin(out, ptr, ptr + Math.min(keep, sizeOf(h) - HEADER_BYTES));
		let over = -1;
		let freed: unknown = null;
		this.lockSlot(op);
		try {
			const block = this.claimLive(op, ptr);
			if ((header(heap._m, block) | PREV_FREE) !== (h | PREV_FREE)) {
				// Freed and handed out again by another thread meanwhile.
				this.mark(ptr);
				throw heap._pointerError(op, ptr);
			}
			over = this.cache(block, h);
		} catch (e) {
			freed = e;
		} finally {
			this.unlockSlot();
		}
		if (freed !== null) {
			this.free(out);
			throw freed;
		}
		if (over >= 0) this.trimSoon(over);
		return out;
	}

	/**
	 * With this slot's lock held: shrinks claimed block `block` of `cur` ≤
	 * CACHE_MAX_BLOCK bytes (not ALIGNED) to `need` bytes in place without the
	 * heap lock, when the tail makes a block: the tail becomes an allocated
	 * block of its own in this slot's cache. The tail's header is written
	 * before the block's shrinks (the walk stays whole), and the block's
	 * header changes atomically because the heap lock's holder may be
	 * flipping its PREV_FREE bit at that moment. The root counters learn of
	 * the new block through the slot's SPLITS count. Returns what `cache`
	 * returns for the tail, or −1 when there is no tail.
	 */
	private split(block: number, cur: number, need: number): number {
		const rest = cur - need;
		if (rest < MIN_BLOCK) return -1;
		const m = this.heap._m;
		const tail = block + need;
		setHeader(m, tail, rest);
		resizeHeaderAtomic(this.i32, block, need);
		addSplit(m, this.slotW);
		return this.cache(tail, rest);
	}

	/**
	 * With the heap lock held: resizes claimed block `block` (payload `ptr`).
	 * A block that moved was marked where it went; one that stayed, or
	 * could not grow, is live again at `ptr`.
	 */
	private resizeLocked(block: number, ptr: number, size: number, align: number, keep: number): number {
		const heap = this.heap;
		let out = 0;
		try {
			out = resizeBlock(heap, block, size, align, keep);
			if (out === 0 && this.flushIdle() !== 0) out = resizeBlock(heap, block, size, align, keep);
		} finally {
			if (out === 0 || out === ptr) this.mark(ptr);
		}
		return out;
	}

	/**
	 * With the heap lock held (from `_allocBlock`): grows the region, with
	 * every slot lock held so that no fast path touches the bitmap while
	 * growth may move it.
	 */
	grow(need: number): boolean {
		this.lockSlots('grow');
		try {
			return growRegion(this.heap, need);
		} finally {
			this.seeGrowths();
			this.unlockSlots();
		}
	}

	// ─── Caches ──────────────────────────────────────────────────────────

	/** With the heap lock held: drains every slot whose lock is free right now. */
	private flushIdle(): number {
		let n = 0;
		for (const w of this.slotWs) {
			if (!tryLock(this.i32, w + S_LOCK, this.id)) continue;
			try {
				n += drainSlot(this.heap, w);
			} finally {
				unlock(this.i32, w + S_LOCK);
			}
		}
		return n;
	}

	flushCaches(): number {
		return this.withHeap('flushCaches', () => this.flushIdle());
	}

	releaseThreadCache(): number {
		if (this.slot < 0) return 0;
		const op = 'releaseThreadCache';
		const n = this.withHeap(op, () => this.withSlot(op, () => drainSlot(this.heap, this.slotW)));
		// Given back with no lock held, so no lock is ever held in a free slot's name.
		releaseSlot(this.i32, this.slotW);
		this.slot = -1;
		this.id = NO_SLOT_ID;
		return n;
	}

	// ─── Introspection ───────────────────────────────────────────────────

	stats(): HeapStats {
		return sharedStats(this);
	}
	blocks(): IterableIterator<BlockInfo> {
		return sharedBlocks(this);
	}
	check(): Violation[] {
		return sharedCheck(this);
	}
	recover(owner: number): RecoverReport {
		return recoverOwner(this, owner);
	}

	/** `Heap.refresh`: re-reads the buffer and bounds under the heap lock. */
	refresh(): void {
		this.withHeap('refresh', () => {
			this.heap._refreshViews();
			this.seeGrowths();
		});
	}
}
