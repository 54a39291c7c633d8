/**
 * shared.test.ts: heaps on a SharedArrayBuffer (src/shared.ts, sync.ts,
 * threads.ts, repair.ts). No workers: several Heap objects attached to one
 * region in this thread stand in for several threads, which makes every
 * interleaving deterministic.
 *
 * ```
 *  SAB ─┬─ A = new Heap({ buffer: sab, threads })   slot 0
 *       ├─ B = Heap.attach(sab, 0, { owner })        slot 1   each slot: a cache
 *       └─ C = Heap.attach(sab, 0)                   slot 2   of small freed blocks
 *
 *  after every step:  regionBytes = used + free + overhead + cached
 *                     blocks() agrees with stats() and the shadow
 *                     every live block keeps its stamp, check() = []
 * ```
 * A worker that "dies holding a lock" is simulated by storing its holder
 * value (slot + 1) << 1 into the lock word, as sync.ts would have.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AllocError, Heap, HeapError, Layout, layout } from '../src/index.js';
import type { BlockInfo, HeapErrorCode, HeapStats } from '../src/index.js';
import { caught, throwsCode } from './support/errors.js';
import { POINTER_OPS } from './support/pointer-ops.js';
import { mulberry32 } from './support/rng.js';
import { growableShared } from './support/buffers.js';
import { heapLockWord, holdLock, slotLockWord, slotWord } from './support/locks.js';
import { assertBytesUnchanged, snapshot } from './support/bytes.js';
import { alignedNeed, hasLive, nextStamp, patternStamps, pick, STAMP_SPAN } from './support/model.js';

const {
	ALIGNED,
	ALIGN_TRAILER_BYTES,
	blockSizeFor,
	cacheBatch,
	cacheClassDown,
	cacheClassSize,
	cacheClassUp,
	cacheLimit,
	CACHE_CLASSES,
	CACHE_MAX_BLOCK,
	DEFAULT_THREAD_SLOTS,
	HEADER_BYTES,
	R_FREE_BLOCKS,
	R_FREE_BYTES,
	R_LIVE_BLOCKS,
	R_THREAD_SLOTS,
	R_USED_BYTES,
	S_HEADS,
	S_LOCK,
	SIZE_MASK,
	SLOT_WORDS,
	TABLE_END_WORDS,
	T_FL_BITMAP,
} = layout;

const KiB = 1024;

// ─── Helpers ────────────────────────────────────────────────────────────

/** A block with stamp s holds the pattern's bytes [s, s + size). */
const { stamp, assertStamp } = patternStamps(256 * KiB, 0x5eed_cafe);
function assertZero(heap: Heap, ptr: number, from: number, to: number, what: string): void {
	for (let i = from; i < to; i++) if (heap._u8[ptr + i] !== 0) assert.fail(`${what}: byte ${i} of block ${ptr} is not zero`);
}


/**
 * stats() against the block walk: the identity
 * `regionBytes = used + free + overhead + cached` and every counter
 * recounted from blocks(). Returns both.
 */
function audit(heap: Heap): { s: HeapStats; blocks: BlockInfo[] } {
	const s = heap.stats();
	const blocks = [...heap.blocks()];
	assert.equal(s.usedBytes + s.freeBytes + s.overheadBytes + s.cachedBytes, s.regionBytes, 'the stats identity');
	assert.equal(s.regionBytes, heap.regionEnd - heap.regionStart);
	const live = blocks.filter((b) => !b.free && !b.internal && !b.cached);
	const cached = blocks.filter((b) => b.cached);
	const free = blocks.filter((b) => b.free);
	assert.equal(s.liveBlocks, live.length, 'liveBlocks');
	assert.equal(s.usedBytes, live.reduce((n, b) => n + b.size - HEADER_BYTES, 0), 'usedBytes');
	assert.equal(s.cachedBlocks, cached.length, 'cachedBlocks');
	assert.equal(s.cachedBytes, cached.reduce((n, b) => n + b.size, 0), 'cachedBytes');
	assert.equal(s.freeBlocks, free.length, 'freeBlocks');
	assert.equal(s.freeBytes, free.reduce((n, b) => n + b.size, 0), 'freeBytes');
	assert.equal(s.largestFreeBlock, free.reduce((n, b) => Math.max(n, b.size), 0), 'largestFreeBlock');
	assert.equal(s.overheadBytes, s.metaBytes + s.liveBlocks * HEADER_BYTES, 'overheadBytes');
	for (const b of cached) {
		assert.ok(!b.free && !b.internal && !b.aligned && b.size <= CACHE_MAX_BLOCK, `cached block ${b.block} is a small allocated block`);
	}
	for (const b of blocks.filter((x) => x.internal)) assert.ok(!b.free && !b.cached, `internal block ${b.block}`);
	return { s, blocks };
}

/** `f` throws LOCK_TIMEOUT naming holder slot `holder`, after at least `ms` ms. */
function timesOut(f: () => unknown, holder: number, ms: number): void {
	const t0 = Date.now();
	const err = throwsCode(f, 'LOCK_TIMEOUT');
	assert.ok(Date.now() - t0 >= ms, `it waited ${Date.now() - t0} ms, less than lockTimeout ${ms}`);
	assert.equal(err.received, holder, 'the error names the holder');
	assert.match(err.message, /recover/);
}

/** A SAB heap `A` plus `extra` attached objects. */
function sharedHeaps(bytes: number, extra: number, opts: { threads?: number; lockTimeout?: number } = {}) {
	const sab = new SharedArrayBuffer(bytes);
	const A = new Heap({ buffer: sab, threads: opts.threads, lockTimeout: opts.lockTimeout, owner: 1 });
	const others = Array.from({ length: extra }, (_, i) => Heap.attach(sab, 0, { owner: i + 2, lockTimeout: opts.lockTimeout }));
	return { sab, A, others };
}

/** Thread slots a new shared heap on `bytes` bytes gets by default: 16, fewer so the table stays within 1/64 of the region. */
const defaultSlots = (bytes: number) => Math.min(DEFAULT_THREAD_SLOTS, Math.floor(bytes / 64 / (SLOT_WORDS * 4)));
/** The cache class a malloc of `size` bytes takes its block from (its block size rounded up). */
const classOf = (size: number) => cacheClassUp(blockSizeFor(size));
/** Usable bytes of a block of the cache class of `size`: what a cached malloc(size) returns. */
const classUsable = (size: number) => cacheClassSize(classOf(size)) - HEADER_BYTES;
/** Blocks the first malloc of `size` leaves cached: one batch minus the caller's block. */
const refillOf = (size: number) => cacheBatch(classOf(size)) - 1;
/** Blocks in cache list `c` of `heap`'s own slot (its COUNT[c] word). */
const listCount = (heap: Heap, c: number) => heap._m[slotWord(heap, heap.threadSlot) + S_HEADS + 2 * c + 1];
/** The header word of the block at payload `ptr`. */
const headerOf = (heap: Heap, ptr: number) => heap._m[(ptr - HEADER_BYTES) >>> 2];
/**
 * Most usable bytes a block for `size` (alignment `align`) may have: the size
 * rounded to a block plus one unsplittable 8-byte remainder, or for a cached
 * class anything its list can hold (up to the next class, layout.ts).
 */
function maxUsable(size: number, align: number): number {
	const need = blockSizeFor(size);
	let most = need + 8;
	if (align <= 8 && need <= CACHE_MAX_BLOCK) {
		const c = cacheClassUp(need);
		most = Math.max(most, cacheClassSize(c) + 8, c + 1 < CACHE_CLASSES ? cacheClassSize(c + 1) - 8 : 0);
	}
	return most - HEADER_BYTES;
}
/**
 * A slotted object rounds a cached malloc up to its class, and falls back
 * to the exact size only when no block of the class was to be had even with
 * every cache drained; an object without a slot allocates the exact size.
 * Call right after malloc/calloc/realloc(0, n) of `size` (a malloc claims a
 * free slot, so `threadSlot` after the call is the one that counts).
 */
function assertRounded(heap: Heap, ptr: number, size: number, what: string): void {
	const u = heap.usableSize(ptr);
	assert.ok(u >= size && u <= maxUsable(size, 8), `${what}: usableSize ${u} for ${size}`);
	const need = blockSizeFor(size);
	if (heap.threadSlot < 0) {
		assert.ok(u <= need + 8 - HEADER_BYTES, `${what}: an object without a slot got ${u} usable bytes for ${size}`);
		return;
	}
	if (need > CACHE_MAX_BLOCK || u >= classUsable(size)) return;
	const s = heap.stats();
	const cs = cacheClassSize(cacheClassUp(need));
	assert.ok(s.cachedBlocks === 0 && s.largestFreeBlock < cs, `${what}: exact ${u + HEADER_BYTES}-byte block although a ${cs}-byte one was to be had`);
}

// ─── 1. Basics ──────────────────────────────────────────────────────────

describe('shared or not', () => {
	test('a SharedArrayBuffer heap is shared, has a slot and a thread table; an ArrayBuffer heap is not', () => {
		const { A, others } = sharedHeaps(256 * KiB, 2);
		assert.equal(A.shared, true);
		assert.deepEqual([A, ...others].map((h) => h.threadSlot), [0, 1, 2]);
		assert.ok(others.every((h) => h.shared), 'attached objects are shared too');
		const { s, blocks } = audit(A);
		assert.deepEqual(A.check(), []);
		// The thread table is the first block: internal, allocated, in metaBytes.
		assert.equal(blocks.length, 2);
		assert.equal(blocks[0].internal, true);
		assert.equal(blocks[0].free, false);
		// Default: 16 slots, or fewer so the table stays within 1/64 of the region (⌊256 Ki / 64 / 800⌋ = 5).
		const slots = defaultSlots(256 * KiB);
		assert.equal(slots, 5);
		assert.equal(A._m[(A.regionStart >>> 2) + R_THREAD_SLOTS], slots);
		assert.equal(blocks[0].size, blockSizeFor(slots * SLOT_WORDS * 4));
		assert.equal(s.metaBytes - blocks[0].size, new Heap({ size: 256 * KiB, cache: false }).stats().metaBytes, 'the table is the only extra metadata');
		assert.equal(blocks[1].free, true);
		assert.equal(s.freeBlocks, 1);
		assert.equal(s.liveBlocks, 0);
		assert.equal(s.cachedBlocks, 0);
		assert.equal(s.overheadBytes, s.metaBytes);
		assert.equal(A.buffer instanceof SharedArrayBuffer, true);
		// The other slots go to the next attaches, then there are none left.
		const more = Array.from({ length: slots - 3 }, () => Heap.attach(A.buffer));
		assert.deepEqual(more.map((h) => h.threadSlot), [3, 4]);
		assert.equal(Heap.attach(A.buffer).threadSlot, -1);

		// An ArrayBuffer heap without its cache (test/cache.test.ts covers the cache).
		const plain = new Heap({ size: 64 * KiB, cache: false });
		assert.equal(plain.shared, false);
		assert.equal(plain.threadSlot, -1);
		const p = plain.malloc(40);
		plain.free(p);
		assert.equal(plain.releaseThreadCache(), 0);
		assert.equal(plain.flushCaches(), 0);
		throwsCode(() => plain.recover(1), 'INVALID_OPTIONS');
		const ps = plain.stats();
		assert.equal(ps.cachedBytes, 0);
		assert.equal(ps.cachedBlocks, 0);
		assert.ok([...plain.blocks()].every((b) => !b.internal && !b.cached), 'a plain heap has no internal or cached blocks');
		assert.equal(plain.malloc(40), p, 'no cache: the block went straight back');
	});

	test('slots run out gracefully: threads 2, four objects, two without a slot still work', () => {
		const { sab, A, others } = sharedHeaps(128 * KiB, 3, { threads: 2 });
		const all = [A, ...others];
		assert.deepEqual(all.map((h) => h.threadSlot), [0, 1, -1, -1]);
		const initial = audit(A).s;
		// Slotless objects take the heap lock for everything and cache nothing.
		const [, , C, D] = all;
		const c = C.malloc(40);
		const d = D.calloc(10, 10);
		assert.ok(c !== 0 && d !== 0, 'slotless objects allocate');
		stamp(C, c, 40, 1);
		assertZero(D, d, 0, 100, 'calloc');
		assert.equal(audit(A).s.cachedBlocks, 0, 'a slotless malloc does not refill a cache');
		const c2 = D.realloc(c, 300);
		assertStamp(D, c2, 40, 1, 'realloc by another slotless object');
		C.free(c2);
		D.free(d);
		assert.equal(audit(A).s.cachedBlocks, 0, 'a slotless free does not cache');
		assert.deepEqual(A.check(), []);
		assert.deepEqual(audit(C).s, { ...initial, peakUsedBytes: audit(C).s.peakUsedBytes });

		// Once a slot is released, the next small call of a slotless object claims it.
		const b = all[1];
		b.free(b.malloc(16));
		const n = b.releaseThreadCache();
		assert.equal(n, cacheBatch(classOf(16)), 'the block it freed and the rest of the batch came back');
		assert.equal(b.threadSlot, -1);
		assert.equal(b.releaseThreadCache(), 0, 'releasing twice is a no-op');
		C.free(C.malloc(16));
		assert.equal(C.threadSlot, 1, 'C took the free slot');
		assert.equal(D.threadSlot, -1);
		assert.equal(audit(A).s.cachedBlocks, cacheBatch(classOf(16)));
		assert.equal(A.flushCaches(), cacheBatch(classOf(16)));
		assert.equal(Heap.attach(sab).threadSlot, -1, 'still full');
		assert.deepEqual(A.check(), []);
	});

	test('threads: 0 makes no table and no caches; a small region gets fewer slots by default', () => {
		const sab = new SharedArrayBuffer(64 * KiB);
		const Z = new Heap({ buffer: sab, threads: 0 });
		assert.equal(Z.shared, true);
		assert.equal(Z.threadSlot, -1);
		assert.ok([...Z.blocks()].every((b) => !b.internal), 'threads: 0 makes no thread table');
		const p = Z.malloc(40);
		Z.free(p);
		assert.equal(Z.stats().cachedBlocks, 0);
		assert.equal(Z.malloc(40), p);
		assert.equal(Heap.attach(sab, 0, { owner: 9 }).threadSlot, -1);
		assert.deepEqual(Z.recover(9), { slots: 0, locksTaken: 0, cachedReturned: 0, leakedBlocks: 0, rebuilt: false });
		assert.deepEqual(Z.check(), []);

		// 16 KiB: an 800-byte slot would be over 1/64 of the region, so no slots.
		assert.equal(defaultSlots(16 * KiB), 0);
		const tiny = new Heap({ buffer: new SharedArrayBuffer(16 * KiB) });
		assert.equal(tiny.threadSlot, -1);
		assert.ok([...tiny.blocks()].every((b) => !b.internal), 'no slots, no table');
		// 64 KiB: ⌊65536 / 64 / 800⌋ = 1 slot.
		assert.equal(defaultSlots(64 * KiB), 1);
		const { others, A } = sharedHeaps(64 * KiB, 3);
		assert.deepEqual([A, ...others].map((h) => h.threadSlot), [0, -1, -1, -1]);
		// The 1/64 rule at its edge (a slot per 64 × 800 bytes), and the cap of 16.
		for (const [bytes, slots] of [
			[2 * 64 * SLOT_WORDS * 4 - 8, 1],
			[2 * 64 * SLOT_WORDS * 4, 2],
			[1024 * KiB, DEFAULT_THREAD_SLOTS],
		]) {
			const h = new Heap({ buffer: new SharedArrayBuffer(bytes) });
			assert.equal(h._m[(h.regionStart >>> 2) + R_THREAD_SLOTS], slots, `${bytes} bytes`);
			assert.equal(slots, defaultSlots(bytes));
		}
	});

	test('bad threads, lockTimeout or owner → INVALID_OPTIONS', () => {
		const sab = new SharedArrayBuffer(64 * KiB);
		for (const threads of [-1, 1.5, 1025, Number.NaN, '2' as unknown as number]) {
			const err = throwsCode(() => new Heap({ buffer: sab, threads }), 'INVALID_OPTIONS');
			assert.equal(err.op, 'Heap');
		}
		throwsCode(() => new Heap({ buffer: sab, threads: 1024 }), 'INVALID_OPTIONS'); // no room for the table
		// The table may take up to half of the region: 40 slots of 800 bytes fit 64 KiB, 41 do not.
		const most = Math.floor((64 * KiB) / 2 / (SLOT_WORDS * 4));
		assert.equal(most, 40);
		throwsCode(() => new Heap({ buffer: new SharedArrayBuffer(64 * KiB), threads: most + 1 }), 'INVALID_OPTIONS');
		const half = new Heap({ buffer: new SharedArrayBuffer(64 * KiB), threads: most });
		assert.equal(half.stats().metaBytes - new Heap({ size: 64 * KiB, cache: false }).stats().metaBytes, blockSizeFor(most * SLOT_WORDS * 4));
		assert.deepEqual(half.check(), []);
		for (const lockTimeout of [-1, Number.NaN, '10' as unknown as number, null as unknown as number]) {
			throwsCode(() => new Heap({ buffer: sab, lockTimeout }), 'INVALID_OPTIONS');
		}
		for (const owner of [-1, 1.5, 2 ** 32, Number.NaN, 'w' as unknown as number]) {
			throwsCode(() => new Heap({ buffer: sab, owner }), 'INVALID_OPTIONS');
		}
		for (const cache of [1, 'yes', null] as unknown as boolean[]) {
			throwsCode(() => new Heap({ buffer: sab, cache }), 'INVALID_OPTIONS');
		}
		throwsCode(() => new Heap({ buffer: sab, cache: false, threads: 2 }), 'INVALID_OPTIONS');
		// cache: false on a shared heap is threads: 0.
		const noCache = new Heap({ buffer: new SharedArrayBuffer(64 * KiB), cache: false });
		assert.equal(noCache.threadSlot, -1);
		assert.equal(noCache.stats().metaBytes, new Heap({ size: 64 * KiB, cache: false }).stats().metaBytes);

		const heap = new Heap({ buffer: sab, threads: 4, lockTimeout: Number.POSITIVE_INFINITY, owner: 2 ** 32 - 1 });
		assert.equal(heap.threadSlot, 0);
		const p = heap.malloc(100);
		stamp(heap, p, 100, 7);
		const before = snapshot(heap);
		for (const opts of [{ owner: -1 }, { owner: 0.5 }, { owner: 2 ** 32 }, { lockTimeout: -5 }, { lockTimeout: Number.NaN }]) {
			const err = throwsCode(() => Heap.attach(sab, 0, opts), 'INVALID_OPTIONS');
			assert.equal(err.op, 'attach');
		}
		assertBytesUnchanged(heap, before, 'a rejected attach claimed a slot or wrote to the region');
		for (const owner of [0, -1, 1.5, 2 ** 32, Number.NaN]) throwsCode(() => heap.recover(owner), 'INVALID_OPTIONS');
		throwsCode(() => heap.recover(2 ** 32 - 1), 'INVALID_OPTIONS'); // its own tag
		assert.deepEqual(heap.recover(12345), { slots: 0, locksTaken: 0, cachedReturned: 0, leakedBlocks: 0, rebuilt: false });
		assertBytesUnchanged(heap, before, 'recover of an unknown owner');
		// lockTimeout 0 is allowed: a free lock is taken at once.
		const zero = Heap.attach(sab, 0, { lockTimeout: 0 });
		assert.equal(zero.threadSlot, 1);
		assertStamp(zero, p, 100, 7, 'attach');
		assert.equal(zero.usableSize(p), 100);
		zero.free(p);
		assert.deepEqual(zero.check(), []);
	});

	test(
		'a rejected shared option leaves the buffer untouched',

		() => {
			const sab = new SharedArrayBuffer(64 * KiB);
			const heap = new Heap({ buffer: sab });
			const p = heap.malloc(1000);
			stamp(heap, p, 1000, 3);
			const before = snapshot(heap);
			throwsCode(() => new Heap({ buffer: sab, threads: -1 }), 'INVALID_OPTIONS');
			assertBytesUnchanged(heap, before, 'new Heap({ threads: -1 }) threw INVALID_OPTIONS but wrote the region');
		},
	);
});

// ─── 2. Thread caches ─────────────────────────────────────────────────────

describe('thread caches', () => {
	test('free then malloc of the same class returns the same block; a miss takes one batch and caches the rest', () => {
		const { A } = sharedHeaps(256 * KiB, 0);
		const s0 = audit(A).s;
		const c = classOf(40);
		assert.equal(cacheClassSize(c), 48);
		const batch = cacheBatch(c);
		assert.equal(batch, 16, 'cacheLimit 64 / 4');
		const p = A.malloc(40);
		let { s, blocks } = audit(A);
		assert.equal(s.liveBlocks, 1);
		assert.equal(s.usedBytes, 44);
		assert.equal(s.cachedBlocks, batch - 1);
		assert.equal(s.cachedBytes, (batch - 1) * 48);
		assert.equal(listCount(A, c), batch - 1, 'all in list c');
		// One block of batch × 48 bytes, cut in place: the caller's first, the rest right behind it.
		const cached = blocks.filter((b) => b.cached).map((b) => b.ptr);
		assert.deepEqual(cached, Array.from({ length: batch - 1 }, (_, i) => p + 48 * (i + 1)));
		A.free(p);
		s = audit(A).s;
		assert.equal(s.liveBlocks, 0);
		assert.equal(s.cachedBlocks, batch);
		assert.equal(A.malloc(40), p, 'LIFO: the block just freed');
		A.free(p);
		assert.equal(A.malloc(41), p, 'same class (48-byte blocks)');
		// calloc from the cache zeroes what the block held.
		stamp(A, p, 44, 9);
		A.free(p);
		assert.equal(A.calloc(4, 11), p);
		assertZero(A, p, 0, 44, 'calloc from the cache');
		A.free(p);
		// The next misses of the class take a batch each; a hit takes none.
		const more = Array.from({ length: batch + 1 }, () => A.malloc(40));
		assert.equal(more[0], p);
		assert.equal(audit(A).s.cachedBlocks, batch - 1, 'the list ran dry once and took a second batch');
		more.forEach((q) => A.free(q));
		assert.equal(A.flushCaches(), 2 * batch);
		({ s, blocks } = audit(A));
		assert.deepEqual(s, { ...s0, peakUsedBytes: s.peakUsedBytes });
		assert.equal(blocks.length, 2);
	});

	test('a cached malloc rounds its block up to its class: 8-byte steps to 256 B, then 16 classes per power of two', () => {
		// [size, usable bytes of a block of its class]
		const cases: [number, number][] = [
			[0, 12], // 16-byte block
			[13, 20], // 17 → 24: exact classes up to 256
			[252, 252], // 256
			[253, 268], // 264 → 272 (16-byte steps)
			[300, 300], // 304 is a class
			[509, 540], // 520 → 544 (32-byte steps)
			[1000, 1020], // 1008 → 1024
			[1021, 1084], // 1032 → 1088 (64-byte steps)
			[3000, 3068], // 3008 → 3072 (128-byte steps)
			[4000, 4092], // 4008 → 4096
		];
		for (const [size, usable] of cases) {
			const { A, others } = sharedHeaps(256 * KiB, 2, { threads: 2 });
			const Y = others[1];
			assert.equal(Y.threadSlot, -1, 'two slots, three objects');
			assert.equal(classUsable(size), usable, `the class of ${size}`);
			const need = blockSizeFor(size);
			assert.ok(usable + HEADER_BYTES - need <= need / 16, `${size}: at most 6.25 % more`);
			const p = A.malloc(size);
			assert.equal(A.usableSize(p), usable, `malloc(${size})`);
			assert.equal(A.stats().cachedBlocks, refillOf(size), `malloc(${size}) cached the rest of its batch`);
			// Every allocation of the class rounds the same way.
			const q = A.calloc(1, size);
			assertZero(A, q, 0, size, 'calloc');
			const r = A.realloc(0, size);
			const t = A.alignedAlloc(8, size);
			const u = A.allocate(new Layout(size, 4));
			for (const [name, x] of [['calloc', q], ['realloc(0)', r], ['alignedAlloc(8)', t], ['allocate', u]] as const) {
				assert.equal(A.usableSize(x), usable, `${name}(${size})`);
			}
			// The whole usable size is the caller's.
			for (const x of [p, q, r, t, u]) stamp(A, x, usable, x % STAMP_SPAN);
			for (const x of [p, q, r, t, u]) assertStamp(A, x, usable, x % STAMP_SPAN, `usable bytes of ${x}`);
			audit(A);
			assert.deepEqual(A.check(), []);
			// An object without a slot takes the exact size.
			assert.equal(Y.usableSize(Y.malloc(size)), need - HEADER_BYTES, `malloc(${size}) without a slot`);
			assert.equal(Y.threadSlot, -1);
		}
	});

	test('the cache takes blocks up to 4096 bytes that are not aligned above 8', () => {
		const { A } = sharedHeaps(256 * KiB, 0);
		const cached = () => A.stats().cachedBlocks;
		const p4092 = A.malloc(4092); // 4096-byte block: the largest cacheable class
		assert.equal(A.usableSize(p4092), 4092);
		const n = cached();
		assert.equal(n, refillOf(4092));
		assert.equal(n, 1, 'class 4096: cacheLimit 8, batch 2');
		A.free(p4092);
		assert.equal(cached(), n + 1);
		assert.equal(A.malloc(4092), p4092);
		A.free(p4092);
		const p4093 = A.malloc(4093); // 4104-byte block: not cacheable, not rounded
		assert.equal(A.usableSize(p4093), 4100);
		assert.equal(cached(), n + 1, 'no refill for a large block');
		A.free(p4093);
		assert.equal(cached(), n + 1, 'a large block goes back to the heap');
		for (const align of [16, 64]) {
			const q = A.alignedAlloc(align, 40); // ALIGNED: never cached
			assert.equal(q % align, 0);
			assert.ok(headerOf(A, q) & ALIGNED);
			A.free(q);
			assert.equal(cached(), n + 1, `alignedAlloc(${align}) is not cached`);
		}
		const r = A.alignedAlloc(8, 40); // align ≤ 8 is a plain malloc
		assert.equal(cached(), n + 1 + refillOf(40));
		A.free(r);
		assert.equal(cached(), n + 1 + refillOf(40) + 1);
		audit(A);
		assert.deepEqual(A.check(), []);
		A.flushCaches();
		assert.equal(audit(A).s.freeBlocks, 1);
	});

	/**
	 * A heap whose only free block is `hole` bytes, right after the thread
	 * table: A has the one slot, Z (no slot) allocated the rest exactly.
	 */
	function holeHeap(hole: number, growable = false) {
		const sab = growable ? growableShared(64 * KiB, 1024 * KiB) : new SharedArrayBuffer(64 * KiB);
		const A = new Heap({ buffer: sab, threads: 1, grow: growable, owner: 1 });
		const Z = Heap.attach(sab, 0, { owner: 2 });
		assert.equal(Z.threadSlot, -1);
		const h = Z.malloc(hole - HEADER_BYTES);
		assert.notEqual(Z.malloc(Z.stats().largestFreeBlock - HEADER_BYTES), 0, 'the rest of the region');
		Z.free(h);
		const { s, blocks } = audit(A);
		assert.deepEqual(
			blocks.filter((b) => b.free).map((b) => [b.ptr, b.size]),
			[[h, hole]],
			'one free block, the hole',
		);
		assert.equal(s.cachedBlocks, 0);
		return { A, h };
	}

	test('a miss takes one batch when it fits, else one block of the class, else the exact size', () => {
		const c = classOf(3000);
		const size = cacheClassSize(c);
		assert.equal(size, 3072);
		assert.equal(cacheBatch(c), 2);
		// [hole, usable of the block malloc(3000) gets, blocks cached, free block left]
		const cases: [number, number, number[], number[]][] = [
			[2 * size, size - 4, [size], []], // the batch: the caller's block and one cached
			[2 * size + 8, size - 4, [size + 8], []], // the last piece takes the unsplittable remainder
			[2 * size - 8, size - 4, [], [size - 8]], // no batch: one block of the class, the rest stays free
			[size, size - 4, [], []],
			[size - 8, 3004, [], [size - 8 - 3008]], // no block of the class: the exact size (3008)
			[3016, 3012, [], []], // … with its unsplittable remainder
			[3008, 3004, [], []],
		];
		for (const [hole, usable, cached, free] of cases) {
			const { A, h } = holeHeap(hole);
			const p = A.malloc(3000);
			assert.equal(p, h, `hole ${hole}`);
			assert.equal(A.usableSize(p), usable, `hole ${hole}: usable`);
			const { blocks } = audit(A);
			assert.deepEqual(blocks.filter((b) => b.cached).map((b) => [b.ptr, b.size]), cached.length ? [[p + size, cached[0]]] : [], `hole ${hole}: cached`);
			assert.deepEqual(blocks.filter((b) => b.free).map((b) => b.size), free, `hole ${hole}: free`);
			assert.deepEqual(A.check(), []);
		}
		// Nothing fits the exact size either: 0, and nothing changed.
		const { A } = holeHeap(3000);
		const before = snapshot(A);
		assert.equal(A.malloc(3000), 0);
		assertBytesUnchanged(A, before, 'a malloc that found nothing');
		const h = [...A.blocks()].find((b) => b.free)?.ptr;
		const q = A.malloc(2996); // a 3000-byte block: exactly the hole
		assert.equal(q, h);
		assert.equal(A.usableSize(q), 2996);
		assert.equal(audit(A).s.freeBlocks, 0);
	});

	test('a batch never grows the region; its last piece takes the remainder (filed by its size, or freed above 4096)', () => {
		// Growable: the batch (2 × 3072) does not fit the hole, one block of the class does: no growth.
		const g = holeHeap(3072, true);
		assert.equal(g.A.malloc(3000), g.h);
		assert.equal(g.A.growths, 0);
		assert.equal(g.A.stats().cachedBlocks, 0);
		// Nothing fits: the region grows for one block of the class, not for a batch.
		const p = g.A.malloc(3000);
		assert.notEqual(p, 0);
		assert.equal(g.A.growths, 1);
		assert.equal(g.A.usableSize(p), 3068);
		assert.equal(audit(g.A).s.cachedBlocks, 0);
		assert.deepEqual(g.A.check(), []);

		// 16 pieces of 16 bytes in a 264-byte hole: the last is 24 bytes, filed in the 24-byte class.
		const e = holeHeap(16 * 16 + 8);
		const q = e.A.malloc(0);
		assert.equal(q, e.h);
		assert.equal(cacheBatch(0), 16);
		assert.equal(listCount(e.A, 0), 14);
		assert.equal(listCount(e.A, 1), 1);
		const cached = audit(e.A).blocks.filter((b) => b.cached);
		assert.deepEqual(
			cached.map((b) => [b.ptr - q, b.size]),
			[...Array.from({ length: 14 }, (_, i) => [16 * (i + 1), 16]), [16 * 15, 24]],
		);
		assert.equal(e.A.malloc(12), e.h + 16 * 14, 'the 16-byte list pops its head');
		assert.equal(e.A.malloc(20), e.h + 16 * 15, 'the 24-byte list holds the last piece');
		assert.deepEqual(e.A.check(), []);

		// 2 pieces of 4096 in an 8200-byte hole: the last would be 4104, over CACHE_MAX_BLOCK, so it is freed.
		const f = holeHeap(2 * 4096 + 8);
		const r = f.A.malloc(4092);
		assert.equal(r, f.h);
		const { s, blocks } = audit(f.A);
		assert.equal(s.cachedBlocks, 0);
		assert.deepEqual(blocks.filter((b) => b.free).map((b) => [b.ptr - r, b.size]), [[4096, 4104]]);
		assert.equal(s.liveBlocks, 2, 'the caller’s block and Z’s');
		assert.deepEqual(f.A.check(), []);
	});

	test('a block malloc’ed by A and freed by B lands in B’s cache; A cannot free it again', () => {
		const { A, others } = sharedHeaps(256 * KiB, 1);
		const [B] = others;
		const ps = Array.from({ length: 5 }, (_, i) => A.malloc(60 + i));
		const big = A.malloc(1000);
		ps.forEach((p, i) => stamp(A, p, 60 + i, 100 + i));
		stamp(A, big, 1000, 200);
		const cachedBefore = audit(A).s.cachedBlocks;
		const victim = ps[2];
		B.free(victim);
		const { s, blocks } = audit(B);
		assert.equal(s.cachedBlocks, cachedBefore + 1, 'B cached it');
		const vb = blocks.find((b) => b.ptr === victim) as BlockInfo;
		assert.ok(vb.cached && !vb.free, 'blocks() flags it cached, not free');
		assert.equal(s.liveBlocks, 5);

		// A's view of it: not a live block, whatever A calls.
		const before = snapshot(A);
		const stats = A.stats();
		for (const [name, f] of [
			['free', () => A.free(victim)],
			['realloc', () => A.realloc(victim, 10)],
			['usableSize', () => A.usableSize(victim)],
			['B.free', () => B.free(victim)],
			['deallocate', () => A.deallocate(victim, new Layout(8))],
		] as const) {
			const err = caught(f);
			// A cached block's bit is clear: not a live block. It is found in B's cache list, so the error names a double free.
			assert.ok(err instanceof HeapError && err.code === 'DOUBLE_FREE', `${name}: ${String(err)}`);
			assertBytesUnchanged(A, before, name);
		}
		assert.deepEqual(A.check(), []);
		assert.deepEqual(A.stats(), stats);
		ps.forEach((p, i) => p !== victim && assertStamp(A, p, 60 + i, 100 + i, 'neighbour'));
		assertStamp(A, big, 1000, 200, 'big block');

		// B reuses it; A's own cache never hands it out.
		const fromA = A.malloc(62);
		assert.notEqual(fromA, victim);
		assert.equal(B.malloc(62), victim, 'B pops its own cache');
		B.free(victim);
		A.free(fromA);

		// releaseThreadCache returns exactly B's cache, flushCaches the rest.
		const bCount = 1; // only the victim: B's malloc(62) was a cache hit, no refill
		const total = audit(A).s.cachedBlocks;
		assert.equal(B.releaseThreadCache(), bCount);
		assert.equal(B.threadSlot, -1);
		assert.equal(audit(A).s.cachedBlocks, total - bCount);
		assert.equal(A.flushCaches(), total - bCount);
		assert.equal(A.flushCaches(), 0);
		for (const p of ps) if (p !== victim) A.free(p);
		A.free(big);
		A.flushCaches();
		const end = audit(A);
		assert.equal(end.s.freeBlocks, 1);
		assert.equal(end.s.liveBlocks, 0);
		assert.equal(end.s.cachedBytes, 0);
		assert.equal(end.blocks.length, 2, 'the thread table and one free block');
	});

	test('a list over cacheLimit sends half of it back to the heap (limits 64 down to 8 blocks)', () => {
		// [size, its class's limit]: 32 KiB of blocks per list, clamped to [8, 64]
		for (const [size, limit] of [
			[16, 64],
			[252, 64],
			[600, 53],
			[1000, 32],
			[2000, 16],
			[4092, 8],
		]) {
			const { A } = sharedHeaps(256 * KiB, 0);
			const c = classOf(size);
			assert.equal(cacheLimit(c), limit, `limit of the class of ${size}`);
			assert.equal(cacheBatch(c), limit >>> 2);
			const ptrs = Array.from({ length: limit + 3 }, () => A.malloc(size));
			A.flushCaches(); // the rest of the last batch
			const free0 = A.stats().freeBytes;
			const counts: number[] = [];
			for (const p of ptrs) {
				A.free(p);
				counts.push(listCount(A, c));
			}
			// Up to the limit the list grows; one more and it keeps half (the newest half: the list is LIFO).
			const want = Array.from({ length: limit }, (_, i) => i + 1);
			want.push(limit >>> 1, (limit >>> 1) + 1, (limit >>> 1) + 2);
			assert.deepEqual(counts, want, `size ${size}`);
			const { s, blocks } = audit(A);
			assert.equal(s.cachedBlocks, (limit >>> 1) + 2);
			const cachedPtrs = blocks.filter((b) => b.cached).map((b) => b.ptr);
			assert.deepEqual(new Set(cachedPtrs), new Set([...ptrs.slice(0, limit >>> 1), ...ptrs.slice(limit + 1)]), 'the oldest half stays');
			const trimmed = limit + 1 - (limit >>> 1);
			assert.equal(s.freeBytes, free0 + trimmed * cacheClassSize(c), 'the trimmed blocks went back to the free lists');
			assert.deepEqual(A.check(), []);
			A.flushCaches();
			assert.equal(audit(A).s.freeBlocks, 1);
		}
	});

	test('malloc drains idle caches before it gives up (malloc, alignedAlloc, realloc)', () => {
		const { A, others } = sharedHeaps(256 * KiB, 2);
		const all = [A, ...others];
		const s0 = audit(A).s;
		// Every object ends up with blocks of many classes cached all over the heap.
		const live: [Heap, number][] = [];
		for (let i = 0; i < 240; i++) live.push([all[i % 3], all[i % 3].malloc((i * 37) % 250)]);
		const keep = A.malloc(3000);
		for (const [h, p] of live) all[(all.indexOf(h) + 1) % 3].free(p);
		let s = audit(A).s;
		assert.ok(s.cachedBlocks > 200, `only ${s.cachedBlocks} blocks cached`);
		assert.ok(s.largestAllocatable < s.freeBytes + s.cachedBytes - 3000, 'the caches fragment the free space');
		A.free(keep);
		s = audit(A).s;
		const want = s0.largestAllocatable;
		assert.ok(s.largestAllocatable < want, 'the caches still split the free space');
		const big = others[0].malloc(want);
		assert.notEqual(big, 0, 'malloc of the whole free space drained the caches');
		s = audit(A).s;
		assert.equal(s.cachedBlocks, 0);
		assert.equal(s.freeBlocks, 0);
		others[1].free(big);
		assert.equal(audit(A).s.freeBlocks, 1);

		// Again with alignedAlloc and realloc.
		const refill = () => {
			const ps = Array.from({ length: 60 }, (_, i) => all[i % 3].malloc(8 + (i % 30) * 8));
			ps.forEach((p, i) => all[(i + 2) % 3].free(p));
			assert.ok(A.stats().cachedBlocks > 0, 'the caches hold blocks again');
		};
		refill();
		const a = A.alignedAlloc(4096, want - 8192);
		assert.notEqual(a, 0);
		assert.equal(a % 4096, 0);
		assert.equal(audit(A).s.cachedBlocks, 0);
		A.free(a);
		const small = A.malloc(300);
		stamp(A, small, 300, 11);
		refill();
		const grown = others[0].realloc(small, want - 1024);
		assert.notEqual(grown, 0, 'realloc drained the caches');
		assertStamp(A, grown, 300, 11, 'realloc');
		assert.equal(audit(A).s.cachedBlocks, 0);
		A.free(grown);
		A.flushCaches();
		assert.deepEqual(A.check(), []);
		assert.equal(audit(A).s.freeBytes, s0.freeBytes);
	});

	test('blocks() flags the thread table internal and cached blocks cached', () => {
		const { A, others } = sharedHeaps(256 * KiB, 1);
		const p = A.malloc(100);
		const q = A.malloc(2000);
		others[0].free(p);
		const { blocks, s } = audit(A);
		assert.equal(blocks.filter((b) => b.internal).length, 1);
		assert.equal(blocks[0].internal, true);
		assert.equal(blocks.find((b) => b.ptr === p)?.cached, true);
		const qb = blocks.find((b) => b.ptr === q) as BlockInfo;
		assert.ok(!qb.cached && !qb.free && !qb.internal, 'a live block has no flag');
		// A's two batches (15 blocks of 104 bytes, 3 of 2048) and the one B freed.
		const want = refillOf(100) + refillOf(2000) + 1;
		assert.equal(want, 15 + 3 + 1);
		assert.equal(s.cachedBlocks, want);
		assert.equal(blocks.filter((b) => b.cached).length, want);
		assert.equal(qb.size, 2048, 'q was rounded up to its class');
		assert.deepEqual([...A.walk()], blocks, 'walk() is blocks()');
	});

	test('small realloc: same class in place, a shrink split in place without the heap lock, a grow through the cache', () => {
		const { A, others } = sharedHeaps(256 * KiB, 2, { threads: 2, lockTimeout: 20 });
		const [B, C] = others;
		assert.equal(C.threadSlot, -1, 'C has no slot');
		const lockW = heapLockWord(A);
		// With the heap lock free: a 3072-byte block, and A's cache holding 208- and 104-byte blocks.
		const p = A.malloc(3000);
		stamp(A, p, 3000, 1);
		A.free(A.malloc(200));
		let q = A.malloc(100);
		stamp(A, q, 100, 2);
		const aligned = A.alignedAlloc(64, 100);
		const big = A.malloc(5000);
		const slotless = C.malloc(40);
		assert.equal(A.usableSize(p), 3068);
		const usable0 = [aligned, big, slotless].map((x) => A.usableSize(x));

		// From here B holds the heap lock: what needs it times out and changes nothing.
		holdLock(A, lockW, B.threadSlot);
		const held = (f: () => unknown, what: string) => {
			const before = snapshot(A);
			timesOut(f, B.threadSlot, 20);
			Atomics.and(new Int32Array(A.buffer), lockW, ~1); // the waiters bit the timed-out wait left
			assertBytesUnchanged(A, before, what);
		};
		// Same class (block sizes 2952 .. 3072 all take 3072): the same pointer, nothing changes.
		const before = snapshot(A);
		for (const n of [2941, 3000, 3068, 2941]) assert.equal(A.realloc(p, n), p, `realloc(p, ${n})`);
		assert.equal(A.grow(p, new Layout(2941), new Layout(3068)), p);
		assert.equal(A.shrink(p, new Layout(3068), new Layout(2941)), p);
		assertBytesUnchanged(A, before, 'a same-class realloc');
		// 2940 bytes is a 2944-byte block, another class: a shrink, split in place
		// without the heap lock; the 128-byte tail goes into A's cache.
		assert.notEqual(classOf(2940), classOf(2941));
		const c128 = classOf(124);
		const n128 = listCount(A, c128);
		assert.equal(A.realloc(p, 2940), p);
		assert.equal(A.usableSize(p), 2940);
		assertStamp(A, p, 2940, 1, 'a shrink in place');
		assert.equal(listCount(A, c128), n128 + 1, 'the tail is in A’s cache');
		// q (a 104-byte block) to 96 bytes: the same, with a 16-byte tail.
		const c16 = classOf(12);
		const n16 = listCount(A, c16);
		assert.equal(A.shrink(q, new Layout(100), new Layout(96)), q);
		assert.equal(A.usableSize(q), 100);
		assert.equal(listCount(A, c16), n16, 'a 104-byte block shrunk to 100 bytes has no tail');
		assertStamp(A, q, 96, 2, 'a shrink with no tail');

		// A grow to another class: a block from A's own cache, the copy, and the old block into A's cache.
		const c104 = classOf(100);
		const n104 = listCount(A, c104);
		const old = q;
		q = A.realloc(q, 200);
		assert.notEqual(q, old);
		assert.equal(A.usableSize(q), 204);
		assertStamp(A, q, 100, 2, 'a grow through the cache');
		assert.equal(listCount(A, c104), n104 + 1, 'the old block is in A’s cache');
		throwsCode(() => A.usableSize(old), 'DOUBLE_FREE');
		assert.equal(A.malloc(100), old, 'A hands it out next');
		A.free(old);
		// A grow whose class list is empty must refill under the heap lock.
		assert.equal(listCount(A, classOf(1000)), 0);
		held(() => A.realloc(q, 1000), 'a grow that needed a refill');
		assert.equal(A.usableSize(q), 204, 'the block is still live');
		// The heap lock as before: an ALIGNED old block, an old block or a new size over 4096 bytes,
		// an alignment over 8, an object without a slot.
		held(() => A.realloc(aligned, 100), 'realloc of an ALIGNED block');
		held(() => A.realloc(big, 100), 'realloc of a large block');
		held(() => A.realloc(q, 5000), 'realloc to a large size');
		held(() => A.grow(q, new Layout(200), new Layout(200, 16)), 'grow to align 16');
		held(() => C.realloc(slotless, 40), 'realloc by an object without a slot');
		assert.deepEqual([aligned, big, slotless].map((x) => A.usableSize(x)), usable0, 'the blocks are still live');
		assert.equal(A.usableSize(q), 204);

		// With the lock free again: a 200-byte block shrunk to 96 bytes leaves a 104-byte tail.
		Atomics.store(new Int32Array(A.buffer), lockW, 0);
		assert.equal(A.shrink(q, new Layout(200), new Layout(96)), q);
		assert.equal(A.usableSize(q), 100);
		assertStamp(A, q, 96, 2, 'shrink in place');
		let { s, blocks } = audit(A);
		assert.deepEqual(
			blocks.filter((b) => b.block === p - 4 + 2944 || b.block === q - 4 + 104).map((b) => [b.size, b.cached]),
			[
				[128, true],
				[104, true],
			],
			'the tails are cached blocks',
		);
		// B grows A's block: the old block goes into B's cache.
		const r = B.realloc(q, 150);
		assert.notEqual(r, q);
		assertStamp(B, r, 96, 2, 'B’s grow');
		assert.equal(listCount(B, classOf(100)), 1);
		assert.equal(B.malloc(100), q);
		for (const ptr of [p, q, r, aligned, big, slotless]) B.free(ptr);
		A.flushCaches();
		({ s, blocks } = audit(A));
		assert.equal(s.freeBlocks, 1);
		assert.equal(s.liveBlocks, 0);
		assert.deepEqual(A.check(), []);
	});

	test('Allocator API on a shared heap: grow, growZeroed, shrink, deallocate across objects', () => {
		const { A, others } = sharedHeaps(256 * KiB, 1);
		const [B] = others;
		const l16 = new Layout(16);
		let p = A.allocate(l16);
		stamp(A, p, 16, 1);
		p = B.grow(p, l16, new Layout(200));
		assertStamp(B, p, 16, 1, 'grow');
		stamp(B, p, 200, 2);
		p = A.growZeroed(p, new Layout(200), new Layout(5000));
		assertStamp(A, p, 200, 2, 'growZeroed');
		assertZero(A, p, 200, 5000, 'growZeroed');
		p = B.shrink(p, new Layout(5000), new Layout(100, 64));
		assert.equal(p % 64, 0);
		assertStamp(B, p, 100, 2, 'shrink');
		const z = B.allocateZeroed(new Layout(120, 32));
		assert.equal(z % 32, 0);
		assertZero(B, z, 0, 120, 'allocateZeroed');
		throwsCode(() => A.deallocate(p, new Layout(1000)), 'LAYOUT_MISMATCH');
		throwsCode(() => A.grow(p, new Layout(100), new Layout(50)), 'INVALID_SIZE');
		assert.throws(() => A.allocate(new Layout(1 << 20)), AllocError);
		assert.throws(() => A.grow(p, new Layout(100), new Layout(1 << 20)), AllocError);
		assertStamp(A, p, 100, 2, 'after a failed grow');
		audit(A);
		A.deallocate(p, new Layout(100, 64));
		B.deallocate(z, new Layout(120, 32));
		A.flushCaches();
		assert.deepEqual(A.check(), []);
		assert.equal(audit(A).s.freeBlocks, 1);
	});
});

describe('growth seen by every object', () => {
	test('a growable SharedArrayBuffer: one object grows the region, the others follow, caches survive', () => {
		const sab = growableShared(64 * KiB, 4 * 1024 * KiB);
		const A = new Heap({ buffer: sab, grow: true, threads: 3 });
		const B = Heap.attach(sab, 0, { owner: 9 });
		const small = Array.from({ length: 20 }, (_, i) => B.malloc(40 + (i % 3)));
		small.forEach((p, i) => stamp(B, p, 40, i));
		const kept = small.slice(0, 5);
		small.slice(5).forEach((p) => B.free(p));
		const cached = audit(B).s.cachedBlocks;
		const big = Array.from({ length: 8 }, () => A.malloc(100_000));
		assert.ok(big.every((p) => p !== 0), 'A grew the region');
		assert.ok(A.growths > 0);
		const { s } = audit(B); // B catches up under the lock
		assert.equal(B.regionEnd, A.regionEnd);
		assert.equal(s.cachedBlocks, cached, 'B’s cache survived the growth');
		const hit = B.malloc(40); // a cache hit after the bitmap may have moved
		assert.ok(small.slice(5).includes(hit), 'B reuses its cached block');
		assert.equal(A.usableSize(hit), 44, 'A sees it live');
		kept.forEach((p, i) => assertStamp(A, p, 40, i, 'a small block across growth'));
		const huge = B.malloc(300_000); // B grows it, A follows
		assert.notEqual(huge, 0);
		assert.equal(audit(A).s.regionBytes, B.regionEnd - B.regionStart);
		assert.deepEqual(A.check(), []);
		for (const p of [hit, huge, ...kept, ...big]) (p % 16 === 0 ? A : B).free(p);
		A.flushCaches();
		assert.equal(audit(B).s.freeBlocks, 1);
		assert.deepEqual(B.check(), []);
	});
});

// ─── 3. Model: three objects on one region ────────────────────────────────

interface Entry {
	size: number;
	/** Alignment the caller relies on (the Layout align). */
	align: number;
	stamp: number;
}
interface Model {
	live: Map<number, Entry>;
	/** Pointers freed (or cached) and not handed out again since. */
	stale: Set<number>;
	stamps: number;
}
interface Real {
	heaps: Heap[];
}
type Cmd = fc.Command<Model, Real>;

function adopt(m: Model, heap: Heap, ptr: number, size: number, align: number, zeroed: boolean, what: string): void {
	assert.ok(Number.isInteger(ptr) && ptr > 0, `${what} returned ${ptr}`);
	assert.ok(!m.live.has(ptr), `${what} returned ${ptr}, which is live`);
	assert.equal(ptr % Math.max(align, 8), 0, `${what}: ${ptr} is not aligned`);
	if (zeroed) assertZero(heap, ptr, 0, size, what);
	const s = nextStamp(m);
	stamp(heap, ptr, size, s);
	m.live.set(ptr, { size, align, stamp: s });
	m.stale.delete(ptr);
}
function drop(m: Model, ptr: number): void {
	m.live.delete(ptr);
	m.stale.add(ptr);
}
function moved(m: Model, heap: Heap, p: number, e: Entry, q: number, size: number, align: number, keep: number, what: string): void {
	assert.ok(q === p || !m.live.has(q), `${what} returned ${q}, another live block`);
	assertStamp(heap, q, Math.min(keep, size), e.stamp, `${what} (kept prefix)`);
	drop(m, p);
	adopt(m, heap, q, size, align, false, what);
}
/** After a call returned 0 / threw AllocError: legal only if nothing fits even with every cache drained. */
function assertOom(heap: Heap, need: number, what: string): void {
	const s = heap.stats();
	assert.equal(s.cachedBlocks, 0, `${what} gave up without draining the caches`);
	assert.ok(s.largestFreeBlock < need, `${what} failed with a free block of ${s.largestFreeBlock} ≥ ${need}`);
}
function orAllocError(f: () => number): number {
	try {
		return f();
	} catch (e) {
		if (e instanceof AllocError) return 0;
		throw e;
	}
}

/** What a heap call needs to know about a block before it is resized. */
interface OldBlock {
	ptr: number;
	header: number;
	/** Whether the object had a thread slot (a resize never claims one). */
	slot: boolean;
}
const oldBlock = (heap: Heap, ptr: number): OldBlock => ({ ptr, header: headerOf(heap, ptr), slot: heap.threadSlot >= 0 });
/**
 * A successful realloc / grow / shrink of `old` to `size` bytes (`align`: 0
 * for realloc, else the new Layout's) that returned `q` (shared.ts
 * `resize`): with a slot, small to small and not ALIGNED, the same class
 * keeps the block as it is and a grow moves through the cache; any shrink
 * stays in place and splits the tail off.
 */
function assertResized(heap: Heap, old: OldBlock, size: number, align: number, q: number, what: string): void {
	const cur = old.header & SIZE_MASK;
	const aligned = (old.header & ALIGNED) !== 0;
	const need = blockSizeFor(aligned ? size + ALIGN_TRAILER_BYTES : size);
	const fast = old.slot && align <= 8 && !aligned && cur <= CACHE_MAX_BLOCK && need <= CACHE_MAX_BLOCK;
	if (fast && need <= cur && cacheClassUp(need) === cacheClassDown(cur)) {
		assert.equal(q, old.ptr, `${what}: same class, same block`);
		assert.equal(headerOf(heap, q), old.header, `${what}: same class, the block is unchanged`);
	} else if (need <= cur) {
		assert.equal(q, old.ptr, `${what}: a shrink stays in place`);
		assert.ok((headerOf(heap, q) & SIZE_MASK) <= need + 8, `${what}: the tail was split off`);
	} else if (fast) {
		// It moves, unless no block of its class was left even with the caches drained (then it grew in place).
		assert.ok(q !== old.ptr || heap.stats().cachedBlocks === 0, `${what}: a small grow moves through the cache`);
		assertRounded(heap, q, size, what);
	}
	const u = heap.usableSize(q);
	assert.ok(u >= size && u <= (aligned ? blockSizeFor(size) + 8 : maxUsable(size, 8)), `${what}: usableSize ${u} for ${size}`);
}

function verify(m: Model, r: Real): void {
	const heap = r.heaps[0];
	const { s, blocks } = audit(heap);
	assert.deepEqual(heap.check(), []);
	const live = blocks.filter((b) => !b.free && !b.internal && !b.cached).map((b) => b.ptr);
	assert.deepEqual(live, [...m.live.keys()].sort((a, b) => a - b), 'blocks() disagrees with the shadow');
	assert.equal(s.liveBlocks, m.live.size);
	for (const [ptr, e] of m.live) {
		assertStamp(heap, ptr, e.size, e.stamp, 'live block');
		assert.equal(ptr % e.align, 0);
	}
	assert.ok(s.peakUsedBytes >= s.usedBytes, 'peakUsedBytes is below usedBytes');
}

class Malloc implements Cmd {
	constructor(readonly h: number, readonly size: number) {}
	check = () => true;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const p = heap.malloc(this.size);
		if (p === 0) assertOom(heap, blockSizeFor(this.size), this.toString());
		else {
			assertRounded(heap, p, this.size, this.toString());
			adopt(m, heap, p, this.size, 8, false, this.toString());
		}
		verify(m, r);
	}
	toString = () => `h${this.h}.malloc(${this.size})`;
}

class Calloc implements Cmd {
	constructor(readonly h: number, readonly count: number, readonly size: number) {}
	check = () => true;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const total = this.count * this.size;
		const p = heap.calloc(this.count, this.size);
		if (p === 0) assertOom(heap, blockSizeFor(total), this.toString());
		else {
			assertRounded(heap, p, total, this.toString());
			adopt(m, heap, p, total, 8, true, this.toString());
		}
		verify(m, r);
	}
	toString = () => `h${this.h}.calloc(${this.count}, ${this.size})`;
}

class AlignedAlloc implements Cmd {
	constructor(readonly h: number, readonly alignLog: number, readonly size: number) {}
	check = () => true;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const align = 2 ** this.alignLog;
		const p = heap.alignedAlloc(align, this.size);
		if (p === 0) assertOom(heap, alignedNeed(this.size, align), this.toString());
		else {
			if (align <= 8) assertRounded(heap, p, this.size, this.toString());
			else assert.ok(headerOf(heap, p) & ALIGNED, 'an alignment over 8 makes an ALIGNED block');
			adopt(m, heap, p, this.size, align, false, this.toString());
		}
		verify(m, r);
	}
	toString = () => `h${this.h}.alignedAlloc(${2 ** this.alignLog}, ${this.size})`;
}

class Free implements Cmd {
	constructor(readonly h: number, readonly idx: number) {}
	check = hasLive;
	run(m: Model, r: Real): void {
		const [p] = pick(m, this.idx);
		r.heaps[this.h].free(p);
		drop(m, p);
		verify(m, r);
	}
	toString = () => `h${this.h}.free(live[${this.idx}])`;
}

/** Freeing a pointer that is freed or cached: a typed error, nothing changes. */
class FreeStale implements Cmd {
	constructor(readonly h: number, readonly idx: number) {}
	check = (m: Readonly<Model>) => m.stale.size > 0;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const stale = [...m.stale].sort((a, b) => a - b);
		const p = stale[this.idx % stale.length];
		const before = snapshot(heap);
		const hadSlot = heap.threadSlot >= 0;
		const err = caught(() => heap.free(p));
		assert.ok(err instanceof HeapError && (err.code === 'DOUBLE_FREE' || err.code === 'INVALID_POINTER'), `free of stale ${p}: ${String(err)}`);
		assert.equal(heap.threadSlot >= 0, hadSlot, 'a failing free claims no slot');
		assertBytesUnchanged(heap, before, `free of stale ${p}`);
		verify(m, r);
	}
	toString = () => `h${this.h}.free(stale[${this.idx}])`;
}

class UsableSize implements Cmd {
	constructor(readonly h: number, readonly idx: number) {}
	check = hasLive;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const [p, e] = pick(m, this.idx);
		const u = heap.usableSize(p);
		const most = e.align <= 8 ? maxUsable(e.size, e.align) : blockSizeFor(e.size) + 8;
		assert.ok(u >= e.size && u <= most, `usableSize(${p}) = ${u} for ${e.size}`);
		new Uint8Array(heap.buffer, p + e.size, u - e.size).fill(0xee); // all of it is the caller's
		verify(m, r);
	}
	toString = () => `h${this.h}.usableSize(live[${this.idx}]) + scribble`;
}

class Realloc implements Cmd {
	constructor(readonly h: number, readonly idx: number, readonly size: number) {}
	check = hasLive;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const [p, e] = pick(m, this.idx);
		const usable = heap.usableSize(p);
		const old = oldBlock(heap, p);
		const q = heap.realloc(p, this.size);
		if (q === 0) {
			assert.ok(this.size > usable, `${this.toString()} failed although it does not grow`);
			if (e.align <= 8) assertOom(heap, blockSizeFor(this.size), this.toString());
			assert.equal(heap.usableSize(p), usable, 'the old block is untouched');
		} else {
			if (this.size <= usable) assert.equal(q, p, 'a shrink stays in place');
			assertResized(heap, old, this.size, 0, q, this.toString());
			moved(m, heap, p, e, q, this.size, e.align, e.size, this.toString());
		}
		verify(m, r);
	}
	toString = () => `h${this.h}.realloc(live[${this.idx}], ${this.size})`;
}

class ReallocNull implements Cmd {
	constructor(readonly h: number, readonly size: number) {}
	check = () => true;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const p = heap.realloc(0, this.size);
		if (p === 0) assertOom(heap, blockSizeFor(this.size), this.toString());
		else {
			assertRounded(heap, p, this.size, this.toString());
			adopt(m, heap, p, this.size, 8, false, this.toString());
		}
		verify(m, r);
	}
	toString = () => `h${this.h}.realloc(0, ${this.size})`;
}

class Release implements Cmd {
	constructor(readonly h: number) {}
	check = () => true;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const before = heap.stats().cachedBlocks;
		const n = heap.releaseThreadCache();
		assert.equal(heap.threadSlot, -1);
		assert.equal(heap.stats().cachedBlocks, before - n);
		verify(m, r);
	}
	toString = () => `h${this.h}.releaseThreadCache()`;
}

class Flush implements Cmd {
	constructor(readonly h: number) {}
	check = () => true;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const before = heap.stats().cachedBlocks;
		assert.equal(heap.flushCaches(), before, 'every cache is idle');
		assert.equal(heap.stats().cachedBlocks, 0);
		verify(m, r);
	}
	toString = () => `h${this.h}.flushCaches()`;
}

class Allocate implements Cmd {
	constructor(readonly h: number, readonly alignLog: number, readonly size: number, readonly zeroed: boolean) {}
	check = () => true;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const l = new Layout(this.size, 2 ** this.alignLog);
		const p = orAllocError(() => (this.zeroed ? heap.allocateZeroed(l) : heap.allocate(l)));
		if (p === 0) assertOom(heap, alignedNeed(l.size, l.align), this.toString());
		else {
			if (l.align <= 8) assertRounded(heap, p, l.size, this.toString());
			adopt(m, heap, p, l.size, l.align, this.zeroed, this.toString());
		}
		verify(m, r);
	}
	toString = () => `h${this.h}.${this.zeroed ? 'allocateZeroed' : 'allocate'}(Layout(${this.size}, ${2 ** this.alignLog}))`;
}

class Deallocate implements Cmd {
	constructor(readonly h: number, readonly idx: number) {}
	check = hasLive;
	run(m: Model, r: Real): void {
		const [p, e] = pick(m, this.idx);
		r.heaps[this.h].deallocate(p, new Layout(e.size, e.align));
		drop(m, p);
		verify(m, r);
	}
	toString = () => `h${this.h}.deallocate(live[${this.idx}])`;
}

class Resize implements Cmd {
	constructor(readonly h: number, readonly kind: 'grow' | 'growZeroed' | 'shrink', readonly idx: number, readonly amount: number) {}
	check = hasLive;
	run(m: Model, r: Real): void {
		const heap = r.heaps[this.h];
		const [p, e] = pick(m, this.idx);
		const size = this.kind === 'shrink' ? this.amount % (e.size + 1) : e.size + this.amount;
		const oldL = new Layout(e.size, e.align);
		const newL = new Layout(size, e.align);
		const old = oldBlock(heap, p);
		const q = orAllocError(() => heap[this.kind](p, oldL, newL));
		if (q === 0) {
			assert.notEqual(this.kind, 'shrink', 'a shrink to the same alignment cannot fail');
			if (e.align <= 8) assertOom(heap, blockSizeFor(size), this.toString());
			assertStamp(heap, p, e.size, e.stamp, 'after a failed grow');
		} else {
			if (this.kind === 'shrink') assert.equal(q, p, 'shrink stays in place');
			if (this.kind === 'growZeroed') assertZero(heap, q, e.size, size, this.toString());
			assertResized(heap, old, size, e.align, q, this.toString());
			moved(m, heap, p, e, q, size, e.align, this.kind === 'shrink' ? size : e.size, this.toString());
		}
		verify(m, r);
	}
	toString = () => `h${this.h}.${this.kind}(live[${this.idx}], ${this.amount})`;
}

const who = fc.nat({ max: 2 });
const idxArb = fc.nat({ max: 1000 });
const sizeArb = fc.oneof(
	{ arbitrary: fc.integer({ min: 0, max: 252 }), weight: 6 },
	{ arbitrary: fc.integer({ min: 253, max: 2048 }), weight: 3 },
	{ arbitrary: fc.integer({ min: 2049, max: 40_000 }), weight: 1 },
	{ arbitrary: fc.integer({ min: 40_000, max: 160_000 }), weight: 1 },
);
const alignLogArb = fc.integer({ min: 0, max: 9 });
const commandArbs: fc.Arbitrary<Cmd>[] = [
	fc.tuple(who, sizeArb).map(([h, s]): Cmd => new Malloc(h, s)),
	fc.tuple(who, sizeArb).map(([h, s]): Cmd => new Malloc(h, s)),
	fc.tuple(who, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 })).map(([h, c, s]): Cmd => new Calloc(h, c, s)),
	fc.tuple(who, alignLogArb, sizeArb).map(([h, a, s]): Cmd => new AlignedAlloc(h, a, s)),
	fc.tuple(who, idxArb).map(([h, i]): Cmd => new Free(h, i)),
	fc.tuple(who, idxArb).map(([h, i]): Cmd => new Free(h, i)),
	fc.tuple(who, idxArb).map(([h, i]): Cmd => new Free(h, i)),
	fc.tuple(who, idxArb).map(([h, i]): Cmd => new FreeStale(h, i)),
	fc.tuple(who, idxArb).map(([h, i]): Cmd => new UsableSize(h, i)),
	fc.tuple(who, idxArb, sizeArb).map(([h, i, s]): Cmd => new Realloc(h, i, s)),
	fc.tuple(who, sizeArb).map(([h, s]): Cmd => new ReallocNull(h, s)),
	who.map((h): Cmd => new Release(h)),
	who.map((h): Cmd => new Flush(h)),
	fc.tuple(who, alignLogArb, sizeArb, fc.boolean()).map(([h, a, s, z]): Cmd => new Allocate(h, a, s, z)),
	fc.tuple(who, idxArb).map(([h, i]): Cmd => new Deallocate(h, i)),
	fc.tuple(who, fc.constantFrom<'grow' | 'growZeroed' | 'shrink'>('grow', 'growZeroed', 'shrink'), idxArb, sizeArb).map(
		([h, k, i, n]): Cmd => new Resize(h, k, i, n),
	),
];

describe('model: three Heap objects on one SharedArrayBuffer', () => {
	test('random programs keep every live block intact and the heap sound', () => {
		fc.assert(
			fc.property(fc.commands(commandArbs, { maxCommands: 80, size: 'max' }), fc.integer({ min: 1, max: 4 }), (cmds, threads) => {
				const sab = new SharedArrayBuffer(256 * KiB);
				const heaps = [new Heap({ buffer: sab, threads }), Heap.attach(sab, 0, { owner: 2 }), Heap.attach(sab, 0, { owner: 3 })];
				const s0 = heaps[0].stats();
				const model: Model = { live: new Map(), stamps: 0, stale: new Set() };
				const real: Real = { heaps };
				fc.modelRun(() => ({ model, real }), cmds);
				// Free everything through all three objects, then drain: one free block again.
				[...model.live.keys()].forEach((p, i) => {
					heaps[i % 3].free(p);
					drop(model, p);
				});
				verify(model, real);
				heaps[1].flushCaches();
				const { s, blocks } = audit(heaps[2]);
				assert.deepEqual(s, { ...s0, peakUsedBytes: s.peakUsedBytes });
				assert.equal(blocks.length, threads > 0 ? 2 : 1);
				assert.equal(blocks[blocks.length - 1].size, s0.largestFreeBlock);
			}),
			{ numRuns: 40 },
		);
	});
});

describe('churn: many small blocks passed between objects', () => {
	test('4000 steps of malloc/free/realloc on random objects: caches trim and refill, nothing is lost', () => {
		const rnd = mulberry32(0xc0ffee);
		const sab = new SharedArrayBuffer(256 * KiB);
		const heaps = [new Heap({ buffer: sab, threads: 3 }), Heap.attach(sab), Heap.attach(sab), Heap.attach(sab)];
		assert.deepEqual(heaps.map((h) => h.threadSlot), [0, 1, 2, -1]);
		const s0 = heaps[0].stats();
		const m: Model = { live: new Map(), stamps: 0, stale: new Set() };
		const any = () => heaps[Math.floor(rnd() * heaps.length)];
		// Few classes, so single lists pass their cacheLimit; now and then a larger block (up to 3300 bytes:
		// cached too, rounded to its class, in lists of 8 to 60 blocks).
		const size = () => (rnd() < 0.05 ? 300 + Math.floor(rnd() * 3000) : [12, 20, 44, 60, 250][Math.floor(rnd() * 5)]);
		// Every list count is followed: a hit pops one, a free pushes one, a push over the limit trims to half.
		const seen = { hits: 0, refills: 0, pushes: 0, trims: 0 };
		let ooms = 0;
		for (let step = 0; step < 4000; step++) {
			const x = rnd();
			const want = m.live.size < 150 ? 0.55 : 0.4;
			// heaps[0] frees more than it allocates, so its lists fill up to their limits.
			const h = x >= want && rnd() < 0.7 ? heaps[0] : any();
			if (x < want || m.live.size === 0) {
				const n = size();
				const c = h.threadSlot >= 0 ? classOf(n) : -1;
				const before = c >= 0 ? listCount(h, c) : 0;
				const p = h.malloc(n);
				if (p === 0) {
					ooms++;
					assertOom(h, blockSizeFor(n), `malloc(${n})`);
				} else {
					assertRounded(h, p, n, `malloc(${n})`);
					adopt(m, h, p, n, 8, false, `malloc(${n})`);
					const after = c >= 0 ? listCount(h, c) : 0;
					if (c >= 0 && before > 0) {
						assert.equal(after, before - 1, `malloc(${n}): a hit pops one block`);
						seen.hits++;
					} else if (c >= 0) {
						// A batch: the rest of it cached (less a remainder piece filed elsewhere).
						assert.ok(after <= cacheBatch(c) - 1, `malloc(${n}): ${after} blocks cached by a refill`);
						if (after === cacheBatch(c) - 1) seen.refills++;
					}
				}
			} else {
				const [p, e] = pick(m, Math.floor(rnd() * 1e6));
				if (x < 0.95) {
					const bs = h.usableSize(p) + HEADER_BYTES;
					const c = h.threadSlot >= 0 && bs <= CACHE_MAX_BLOCK ? cacheClassDown(bs) : -1;
					const before = c >= 0 ? listCount(h, c) : 0;
					h.free(p);
					drop(m, p);
					if (c >= 0) {
						const trim = before === cacheLimit(c);
						assert.equal(listCount(h, c), trim ? cacheLimit(c) >>> 1 : before + 1, `free of a ${bs}-byte block, list at ${before}`);
						seen[trim ? 'trims' : 'pushes']++;
					}
				} else {
					const n = size();
					const old = oldBlock(h, p);
					const q = h.realloc(p, n);
					if (q === 0) ooms++;
					else {
						assertResized(h, old, n, 0, q, `realloc(${p}, ${n})`);
						moved(m, h, p, e, q, n, 8, e.size, `realloc(${p}, ${n})`);
					}
				}
			}
			if (step % 200 === 199) verify(m, { heaps });
		}
		assert.ok(seen.hits > 500 && seen.refills > 20 && seen.pushes > 500 && seen.trims > 5, `the caches worked: ${JSON.stringify(seen)}`);
		assert.equal(ooms, 0, 'the heap is big enough for this churn');
		verify(m, { heaps });
		for (const p of [...m.live.keys()]) {
			any().free(p);
			drop(m, p);
		}
		const n = heaps[2].flushCaches();
		assert.ok(n > 0, 'there was something to flush');
		const { s } = audit(heaps[3]);
		assert.deepEqual(s, { ...s0, peakUsedBytes: s.peakUsedBytes });
		assert.deepEqual(heaps[1].check(), []);
	});
});

// ─── 4. Misuse on a shared heap ───────────────────────────────────────────

describe('misuse on a shared heap: typed error, buffer unchanged', () => {
	/**
	 * A and B on one SAB, six stamped 60-byte blocks, a large one, a cached
	 * one and a freed one (large blocks: over CACHE_MAX_BLOCK, never cached).
	 */
	function fixture() {
		const { A, others } = sharedHeaps(128 * KiB, 1);
		const [B] = others;
		assert.equal(B.threadSlot, 1, 'both have slots');
		const p = Array.from({ length: 6 }, () => A.malloc(60));
		const big = A.malloc(5000);
		const cachedPtr = A.malloc(60);
		const freedBig = B.malloc(6000);
		const bigNeighbour = A.malloc(4500); // keeps freedBig from merging into the tail
		B.free(cachedPtr); // in B's cache
		A.free(freedBig); // back in the free lists
		const live = new Map<number, [number, number]>(); // ptr → [size, stamp]
		p.forEach((ptr, i) => live.set(ptr, [60, 40 * i]));
		live.set(big, [5000, 400]);
		live.set(bigNeighbour, [4500, 600]);
		for (const [ptr, [n, s]] of live) stamp(A, ptr, n, s);
		const blocks = [...A.blocks()];
		const table = (blocks.find((b) => b.internal) as BlockInfo).ptr;
		assert.equal(blocks.find((b) => b.ptr === cachedPtr)?.cached, true);
		assert.equal(blocks.find((b) => b.ptr === freedBig)?.free, true);
		return { A, B, p, big, cachedPtr, freedBig, live, table };
	}
	type Fx = ReturnType<typeof fixture>;

	function rejects(fx: Fx, heap: Heap, bad: () => unknown, codes: HeapErrorCode[], what: string): void {
		const before = snapshot(heap);
		const stats = heap.stats();
		const err = caught(bad);
		assert.ok(err instanceof HeapError, `${what}: expected HeapError ${codes.join('/')}, got ${String(err)}`);
		assert.ok(codes.includes(err.code), `${what}: ${err.code} (${err.message})`);
		assertBytesUnchanged(heap, before, what);
		assert.deepEqual(heap.stats(), stats, what);
		assert.deepEqual(heap.check(), [], what);
		for (const [ptr, [n, s]] of fx.live) assertStamp(heap, ptr, n, s, what);
	}

	const OPS = POINTER_OPS;
	const PTRS: [string, (fx: Fx) => number, HeapErrorCode[]][] = [
		['misaligned by 4', (fx) => fx.p[1] + 4, ['INVALID_POINTER']],
		['misaligned by 1', (fx) => fx.p[1] + 1, ['INVALID_POINTER']],
		['interior', (fx) => fx.big + 64, ['INVALID_POINTER']],
		['below the first payload', (fx) => fx.A.regionStart + 8, ['INVALID_POINTER']],
		['past the region', (fx) => fx.A.regionEnd + 8, ['INVALID_POINTER']],
		['2^32', () => 2 ** 32, ['INVALID_POINTER']],
		['negative', () => -8, ['INVALID_POINTER']],
		['fractional', (fx) => fx.p[1] + 0.5, ['INVALID_POINTER']],
		['NaN', () => Number.NaN, ['INVALID_POINTER']],
		['the thread table', (fx) => fx.table, ['INVALID_POINTER']],
		['a freed large block', (fx) => fx.freedBig, ['DOUBLE_FREE']],
		// A cached block's bit is clear; it is found in a cache list, so the error names a double free.
		['a cached block', (fx) => fx.cachedPtr, ['DOUBLE_FREE']],
	];
	for (const [opName, op] of OPS) {
		test(`${opName} of a bad pointer, through either object`, () => {
			const fx = fixture();
			for (const [name, ptrOf, codes] of PTRS) {
				for (const [hn, heap] of [['A', fx.A], ['B', fx.B]] as const) {
					rejects(fx, heap, () => op(heap, ptrOf(fx)), codes, `${hn}.${opName}(${name})`);
				}
			}
		});
	}

	test('bad sizes, alignments and layouts', () => {
		const fx = fixture();
		const { A, B, p } = fx;
		const cases: [string, (h: Heap) => unknown, HeapErrorCode][] = [
			['malloc(-1)', (h) => h.malloc(-1), 'INVALID_SIZE'],
			['malloc(1.5)', (h) => h.malloc(1.5), 'INVALID_SIZE'],
			['malloc(NaN)', (h) => h.malloc(Number.NaN), 'INVALID_SIZE'],
			['malloc("8")', (h) => h.malloc('8' as unknown as number), 'INVALID_SIZE'],
			['calloc(-1, 8)', (h) => h.calloc(-1, 8), 'INVALID_SIZE'],
			['calloc(8, 0.5)', (h) => h.calloc(8, 0.5), 'INVALID_SIZE'],
			['realloc(p, -1)', (h) => h.realloc(p[0], -1), 'INVALID_SIZE'],
			['realloc(p, 2^53)', (h) => h.realloc(p[0], 2 ** 53), 'INVALID_SIZE'],
			['alignedAlloc(3, 8)', (h) => h.alignedAlloc(3, 8), 'INVALID_ALIGN'],
			['alignedAlloc(0, 8)', (h) => h.alignedAlloc(0, 8), 'INVALID_ALIGN'],
			['alignedAlloc(2^32, 8)', (h) => h.alignedAlloc(2 ** 32, 8), 'INVALID_ALIGN'],
			['alignedAlloc(16, -1)', (h) => h.alignedAlloc(16, -1), 'INVALID_SIZE'],
			['alignedAlloc(8, -1)', (h) => h.alignedAlloc(8, -1), 'INVALID_SIZE'],
			['deallocate with a too-large Layout', (h) => h.deallocate(p[0], new Layout(61)), 'LAYOUT_MISMATCH'],
			['deallocate with a wrong alignment', (h) => h.deallocate(p[1], new Layout(8, 4096)), 'LAYOUT_MISMATCH'],
			['shrink to a larger size', (h) => h.shrink(p[0], new Layout(60), new Layout(61)), 'INVALID_SIZE'],
			['grow to a smaller size', (h) => h.grow(p[0], new Layout(60), new Layout(59)), 'INVALID_SIZE'],
			['deallocate without a Layout', (h) => h.deallocate(p[0], { size: 8, align: 8 } as Layout), 'INVALID_SIZE'],
		];
		for (const [name, bad, code] of cases) {
			for (const [hn, heap] of [['A', A], ['B', B]] as const) rejects(fx, heap, () => bad(heap), [code], `${hn}.${name}`);
		}
		// Sizes too big for any block: 0 (not an error), nothing changes.
		for (const heap of [A, B]) {
			const before = snapshot(heap);
			assert.equal(heap.malloc(2 ** 32), 0);
			assert.equal(heap.calloc(2 ** 20, 2 ** 20), 0);
			assert.equal(heap.alignedAlloc(64, 2 ** 32), 0);
			assertBytesUnchanged(heap, before, 'too big');
		}
	});

	test(
		'a failing free by an object without a slot does not claim one',

		() => {
			const fx = fixture();
			const { A, B } = fx;
			assert.ok(B.releaseThreadCache() > 0, 'B had a cache');
			assert.equal(B.threadSlot, -1);
			rejects(fx, B, () => B.free(fx.p[0] + 4), ['INVALID_POINTER'], 'B.free(misaligned) without a slot');
			assert.equal(B.threadSlot, -1, 'B claimed a slot in a call that threw');
			assert.deepEqual(A.check(), []);
		},
	);

	test('the same pointer freed through two objects: exactly one succeeds', () => {
		const fx = fixture();
		const { A, B, p, live } = fx;
		A.free(p[3]);
		live.delete(p[3]);
		rejects(fx, B, () => B.free(p[3]), ['DOUBLE_FREE'], 'B frees what A freed (and cached)');
		B.free(fx.big);
		live.delete(fx.big);
		rejects(fx, A, () => A.free(fx.big), ['DOUBLE_FREE'], 'A frees what B freed');
		rejects(fx, A, () => A.realloc(fx.big, 10), ['DOUBLE_FREE'], 'A reallocs what B freed');
	});
});

// ─── 5. recover and LOCK_TIMEOUT ───────────────────────────────────────────

describe('recover after a worker died, LOCK_TIMEOUT', () => {
	/**
	 * A (owner 1, lockTimeout 50) and B (owner 77), stamped live blocks from
	 * both, B with a cache of freed small blocks.
	 */
	function scene() {
		const sab = new SharedArrayBuffer(256 * KiB);
		const A = new Heap({ buffer: sab, threads: 4, owner: 1, lockTimeout: 50 });
		const B = Heap.attach(sab, 0, { owner: 77, lockTimeout: 50 });
		const live = new Map<number, [number, number]>();
		const put = (h: Heap, size: number) => {
			const ptr = h.malloc(size);
			assert.notEqual(ptr, 0);
			live.set(ptr, [size, (live.size * 97) % STAMP_SPAN]);
			stamp(h, ptr, size, (live.size - 1) * 97 % STAMP_SPAN);
			return ptr;
		};
		for (let i = 0; i < 12; i++) put(i % 2 === 0 ? A : B, [24, 100, 700, 3000][i % 4]);
		const bSmall = Array.from({ length: 10 }, (_, i) => B.malloc(16 + i * 20));
		for (const q of bSmall) B.free(q);
		A.free(A.malloc(40)); // A keeps a cache of its own
		const s = audit(A).s;
		const aCached = s.cachedBlocks - cachedOf(B);
		return { sab, A, B, live, put, bCached: cachedOf(B), bCachedBytes: cachedOf(B, layout.S_CACHED_BYTES), aCached, before: s };
	}
	/** Blocks (or bytes) in `h`'s own slot cache: its slot's CACHED_BLOCKS (CACHED_BYTES) word. */
	function cachedOf(h: Heap, word = layout.S_CACHED_BLOCKS): number {
		const w = slotLockWord(h, h.threadSlot) - S_LOCK;
		return h._m[w + word];
	}
	function intact(A: Heap, live: Map<number, [number, number]>, what: string): void {
		for (const [ptr, [n, s]] of live) {
			assertStamp(A, ptr, n, s, what);
			assert.ok(A.usableSize(ptr) >= n, `${what}: ${ptr} is live`);
		}
	}
	/** After recover: the heap works, and freeing everything leaves one free block. */
	function stillWorks(A: Heap, live: Map<number, [number, number]>): void {
		const q = A.malloc(5000);
		const r = A.malloc(32);
		assert.ok(q !== 0 && r !== 0, 'the recovered heap allocates');
		A.free(q);
		A.free(r);
		for (const ptr of live.keys()) A.free(ptr);
		A.flushCaches();
		const { s } = audit(A);
		assert.equal(s.freeBlocks, 1);
		assert.equal(s.liveBlocks, 0);
		assert.deepEqual(A.check(), []);
	}

	test('B dies holding the heap lock: A times out, recover(77) takes the lock and returns B’s cache', () => {
		const { A, B, live, bCached, bCachedBytes, aCached, before } = scene();
		assert.ok(bCached > 10, 'B has a cache to return');
		const bSlot = B.threadSlot;
		holdLock(A, heapLockWord(A), bSlot);
		timesOut(() => A.malloc(1000), bSlot, 50);
		timesOut(() => A.stats(), bSlot, 50);
		timesOut(() => A.flushCaches(), bSlot, 50);
		// A's own cache needs no heap lock.
		const hit = A.malloc(40);
		assert.notEqual(hit, 0);
		A.free(hit);

		const report = A.recover(77);
		assert.deepEqual(report, { slots: 1, locksTaken: 1, cachedReturned: bCached, leakedBlocks: 0, rebuilt: true });
		assert.equal(Atomics.load(new Int32Array(A.buffer), heapLockWord(A)), 0, 'the heap lock is free again');
		assert.deepEqual(A.check(), []);
		const { s } = audit(A);
		assert.equal(s.cachedBlocks, aCached, 'A keeps its own cache');
		assert.equal(s.liveBlocks, before.liveBlocks);
		assert.equal(s.usedBytes, before.usedBytes);
		assert.equal(s.freeBytes, before.freeBytes + bCachedBytes, 'B’s cached bytes are free again');
		intact(A, live, 'after recover');
		// B's slot is free: the next object gets it.
		assert.equal(Heap.attach(A.buffer, 0).threadSlot, bSlot);
		assert.deepEqual(A.recover(77), { slots: 0, locksTaken: 0, cachedReturned: 0, leakedBlocks: 0, rebuilt: false });
		stillWorks(A, live);
	});

	test('B dies holding the heap lock and its slot lock: both taken over', () => {
		const { A, B, live, bCached } = scene();
		holdLock(A, heapLockWord(A), B.threadSlot);
		holdLock(A, slotLockWord(A, B.threadSlot), B.threadSlot);
		const report = A.recover(77);
		assert.equal(report.locksTaken, 2);
		assert.equal(report.cachedReturned, bCached);
		assert.deepEqual(A.check(), []);
		intact(A, live, 'after recover');
		stillWorks(A, live);
	});

	test('B dies holding only its slot lock (a fast path): stats time out, flushCaches skips it, recover fixes it', () => {
		const { A, B, live, bCached, aCached } = scene();
		const bSlot = B.threadSlot;
		holdLock(A, slotLockWord(A, bSlot), bSlot);
		timesOut(() => A.check(), bSlot, 50);
		assert.equal(A.flushCaches(), aCached, 'only the idle caches are drained');
		assert.equal(listCount(A, classOf(1000)), 0);
		assert.ok(A.malloc(1000) !== 0, 'the heap lock is free: A refilled its list');
		const report = A.recover(77);
		assert.deepEqual(report, { slots: 1, locksTaken: 1, cachedReturned: bCached, leakedBlocks: 0, rebuilt: true });
		assert.deepEqual(A.check(), []);
		assert.equal(audit(A).s.cachedBlocks, refillOf(1000), 'A’s cache is only the rest of that batch');
		intact(A, live, 'after recover');
	});

	test('an owner with two slots, recovered by an object without a slot', () => {
		const { A, live } = scene();
		const Y1 = Heap.attach(A.buffer, 0, { owner: 50 });
		const Y2 = Heap.attach(A.buffer, 0, { owner: 50 });
		assert.ok(Y1.threadSlot >= 0 && Y2.threadSlot >= 0, 'both got slots');
		Y1.free(Y1.malloc(10));
		Y2.free(Y2.malloc(100));
		const noSlot = Heap.attach(A.buffer, 0, { lockTimeout: 50 });
		assert.equal(noSlot.threadSlot, -1, 'four slots, all taken');
		holdLock(A, slotLockWord(A, Y2.threadSlot), Y2.threadSlot);
		const report = noSlot.recover(50);
		// Each cached the block it freed and the rest of its batch.
		const returned = cacheBatch(classOf(10)) + cacheBatch(classOf(100));
		assert.equal(returned, 32);
		assert.deepEqual(report, { slots: 2, locksTaken: 1, cachedReturned: returned, leakedBlocks: 0, rebuilt: true });
		assert.deepEqual(noSlot.check(), []);
		intact(noSlot, live, 'after recover');
		assert.equal(Heap.attach(A.buffer).threadSlot, Math.min(Y1.threadSlot, Y2.threadSlot), 'their slots are free');
	});

	test('recover waits for a lock held by a live thread, then throws LOCK_TIMEOUT and changes nothing', () => {
		const { A, live } = scene();
		const C = Heap.attach(A.buffer, 0, { owner: 5 });
		holdLock(A, heapLockWord(A), C.threadSlot);
		const before = snapshot(A);
		timesOut(() => A.recover(77), C.threadSlot, 50);
		// The one trace a waiter leaves: the waiters bit (bit 0) of the lock word it slept on.
		const i32 = new Int32Array(A.buffer);
		assert.equal(Atomics.load(i32, heapLockWord(A)) & ~1, (C.threadSlot + 1) << 1, 'C still holds the lock');
		Atomics.and(i32, heapLockWord(A), ~1);
		assertBytesUnchanged(A, before, 'a recover that timed out');
		Atomics.store(new Int32Array(A.buffer), heapLockWord(A), 0);
		assert.deepEqual(A.check(), []);
		intact(A, live, 'after the timeout');
		assert.equal(A.recover(77).rebuilt, true);
		assert.deepEqual(A.check(), []);
	});

	test('a half-done call: TLSF tables and counters wiped → rebuilt from the headers', () => {
		const { A, B, live, bCached, before } = scene();
		holdLock(A, heapLockWord(A), B.threadSlot);
		const m = A._m;
		const root = A.regionStart >>> 2;
		m.fill(0, root + T_FL_BITMAP, root + TABLE_END_WORDS);
		for (const w of [R_USED_BYTES, R_FREE_BYTES, R_LIVE_BLOCKS, R_FREE_BLOCKS]) m[root + w] = 12345;
		const report = A.recover(77);
		assert.equal(report.rebuilt, true);
		assert.equal(report.cachedReturned, bCached);
		assert.equal(report.leakedBlocks, 0);
		assert.deepEqual(A.check(), []);
		const { s } = audit(A);
		assert.equal(s.liveBlocks, before.liveBlocks);
		assert.equal(s.usedBytes, before.usedBytes);
		intact(A, live, 'after the rebuild');
		stillWorks(A, live);
	});

	test('a half-done free: a block marked free but not merged with its free neighbour → merged', () => {
		const { A, B, live, put, bCachedBytes } = scene();
		// x | y | z adjacent, large (over CACHE_MAX_BLOCK: never cached); x already free.
		const x = put(A, 5000);
		const y = put(A, 5000);
		const z = put(A, 5000);
		assert.equal(y - x, 5008);
		assert.equal(z - y, 5008);
		A.free(x);
		live.delete(x);
		const freeBefore = audit(A).s.freeBytes;
		// B died inside free(y): bit cleared and F set, nothing else.
		holdLock(A, heapLockWord(A), B.threadSlot);
		A._unmark(y);
		A._m[(y - 4) >>> 2] |= layout.FREE;
		live.delete(y);
		const report = A.recover(77);
		assert.equal(report.leakedBlocks, 0);
		assert.deepEqual(A.check(), []);
		const { s, blocks } = audit(A);
		const merged = blocks.find((b) => b.ptr === x) as BlockInfo;
		assert.ok(merged.free && merged.size === 2 * 5008, 'x and y are one free block');
		assert.equal(s.freeBytes, freeBefore + 5008 + bCachedBytes, 'y and B’s cache are free bytes now');
		throwsCode(() => A.usableSize(y), 'DOUBLE_FREE'); // the stale F header names it
		intact(A, live, 'after the rebuild');
		assert.equal(live.has(z), true);
		stillWorks(A, live);
	});

	test('a half-done resize: an allocated block with its bit clear is kept live and reported leaked', () => {
		const { A, B, live } = scene();
		const [victim] = [...live.entries()].find(([, [n]]) => n === 3000) as [number, [number, number]];
		holdLock(A, heapLockWord(A), B.threadSlot);
		A._unmark(victim); // claimLive() cleared it, then B died
		const report = A.recover(77);
		assert.equal(report.leakedBlocks, 1);
		assert.deepEqual(A.check(), []);
		assert.equal(A.usableSize(victim), classUsable(3000), 'the block is live again, the size of its class');
		assert.equal(classUsable(3000), 3068);
		intact(A, live, 'after the rebuild');
		stillWorks(A, live);
	});

	/** Points the head of B's first (or last) non-empty cache list at garbage; returns that list's count. */
	function corruptList(A: Heap, B: Heap, which: 'first' | 'last'): number {
		const w = slotLockWord(A, B.threadSlot) - S_LOCK;
		const head = (c: number) => w + layout.S_HEADS + 2 * c;
		let c = which === 'first' ? 0 : layout.CACHE_CLASSES - 1;
		while (A._m[head(c)] === 0) c += which === 'first' ? 1 : -1;
		A._m[head(c)] = 13; // not ≡ 4 (mod 8): cannot be a block
		return A._m[head(c) + 1];
	}

	test('a corrupt cache list of the dead worker: its blocks are kept, counted leaked; the other lists go back', () => {
		const { A, B, live, bCached } = scene();
		holdLock(A, heapLockWord(A), B.threadSlot);
		const lost = corruptList(A, B, 'last');
		assert.ok(lost > 0 && lost < bCached, 'B has more than one list');
		const report = A.recover(77);
		assert.equal(report.cachedReturned, bCached - lost);
		assert.equal(report.leakedBlocks, lost);
		assert.deepEqual(A.check(), []);
		assert.equal(audit(A).s.liveBlocks, live.size + lost, 'the unreachable blocks stay allocated');
		intact(A, live, 'after the rebuild');
	});

	test(
		'a corrupt first cache list of the dead worker does not leak its other lists',

		() => {
			const { A, B, bCached } = scene();
			holdLock(A, heapLockWord(A), B.threadSlot);
			const lost = corruptList(A, B, 'first');
			const report = A.recover(77);
			assert.deepEqual(A.check(), []);
			assert.equal(report.cachedReturned + report.leakedBlocks, bCached);
			assert.equal(report.leakedBlocks, lost, `only the broken list (${lost} blocks) is lost`);
		},
	);

	test(
		'a free that times out on the heap lock leaves the pointer live',

		() => {
			const { A, B } = scene();
			const big = A.malloc(5000); // over CACHE_MAX_BLOCK: its free needs the heap lock
			holdLock(A, heapLockWord(A), B.threadSlot);
			timesOut(() => A.free(big), B.threadSlot, 50);
			Atomics.store(new Int32Array(A.buffer), heapLockWord(A), 0); // the holder was only slow
			assert.deepEqual(A.check(), []);
			assert.equal(A.usableSize(big), 5004);
			A.free(big);
			assert.equal(audit(A).blocks.find((b) => b.ptr === big)?.free, true);
		},
	);

	test(
		'a free or small grow that pushes a list over its limit while the heap lock is held: it either goes through or changes nothing',
		() => {
			for (const op of ['free', 'realloc'] as const) {
				const { A, B } = scene();
				const c = classOf(16);
				const limit = cacheLimit(c);
				const ps = Array.from({ length: limit + 1 }, () => A.malloc(16));
				A.flushCaches();
				A.free(A.malloc(100)); // a grow to 100 bytes is a cache hit
				ps.slice(0, limit).forEach((p) => A.free(p)); // the 24-byte list is at its limit
				const p = ps[limit];
				stamp(A, p, 16, 5);
				const live = A.stats().liveBlocks;
				holdLock(A, heapLockWord(A), B.threadSlot);
				let out = 0;
				let threw = false;
				try {
					if (op === 'free') A.free(p);
					else out = A.realloc(p, 100);
				} catch (e) {
					assert.ok(e instanceof HeapError && e.code === 'LOCK_TIMEOUT', String(e));
					threw = true;
				}
				Atomics.store(new Int32Array(A.buffer), heapLockWord(A), 0);
				assert.deepEqual(A.check(), []);
				if (threw) {
					let usable = -1;
					try {
						usable = A.usableSize(p);
					} catch {
						// not live: reported below
					}
					assert.equal(usable, 20, `${op} threw: the pointer must still be live`);
					assertStamp(A, p, 16, 5, `${op} threw`);
					assert.equal(A.stats().liveBlocks, live, `${op} threw: no block may have been allocated`);
				} else if (op === 'realloc') {
					assertStamp(A, out, 16, 5, 'realloc went through');
					assert.equal(A.stats().liveBlocks, live);
				} else assert.equal(A.stats().liveBlocks, live - 1);
			}
		},
	);
});
