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
import { Buffer } from 'node:buffer';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { AllocError, Heap, HeapError, Layout, layout } from '../src/index.js';
import type { BlockInfo, HeapErrorCode, HeapStats } from '../src/index.js';
import { throwsCode } from './support/errors.js';
import { mulberry32, patternBytes } from './support/rng.js';

const {
	blockSizeFor,
	CACHE_BATCH,
	CACHE_LIMIT,
	CACHE_MAX_BLOCK,
	HEADER_BYTES,
	MIN_BLOCK,
	R_FREE_BLOCKS,
	R_FREE_BYTES,
	R_LIVE_BLOCKS,
	R_LOCK,
	R_THREADS,
	R_THREAD_SLOTS,
	R_USED_BYTES,
	S_LOCK,
	SLOT_WORDS,
	TABLE_END_WORDS,
	T_FL_BITMAP,
} = layout;

const KiB = 1024;

// ─── Helpers ────────────────────────────────────────────────────────────

/** Pseudo-random bytes; a block with stamp s holds PATTERN[s, s + size). */
const STAMP_SPAN = 4096;
const PATTERN = patternBytes(256 * KiB + STAMP_SPAN, 0x5eed_cafe);

function stamp(heap: Heap, ptr: number, n: number, s: number): void {
	new Uint8Array(heap.buffer, ptr, n).set(PATTERN.subarray(s, s + n));
}
function assertStamp(heap: Heap, ptr: number, n: number, s: number, what: string): void {
	if (n === 0) return;
	const got = Buffer.from(heap.buffer as ArrayBuffer, ptr, n);
	if (got.equals(Buffer.from(PATTERN.buffer, s, n))) return;
	const i = got.findIndex((x, k) => x !== PATTERN[s + k]);
	assert.fail(`${what}: block ${ptr} byte ${i} of ${n} lost its contents`);
}
function assertZero(heap: Heap, ptr: number, from: number, to: number, what: string): void {
	for (let i = from; i < to; i++) if (heap._u8[ptr + i] !== 0) assert.fail(`${what}: byte ${i} of block ${ptr} is not zero`);
}

/** A copy of the whole buffer. */
const snapshot = (heap: Heap) => new Uint8Array(heap.buffer).slice();
function assertBytesUnchanged(heap: Heap, before: Uint8Array, what: string): void {
	const after = new Uint8Array(heap.buffer);
	if (Buffer.compare(before, after) === 0) return;
	const i = before.findIndex((x, k) => x !== after[k]);
	assert.fail(`${what}: byte ${i} was ${before[i]}, is ${after[i]}`);
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

/** Word index of the root LOCK of `heap`. */
const heapLockWord = (heap: Heap) => (heap.regionStart >>> 2) + R_LOCK;
/** Word index of the LOCK of thread slot `slot`. */
function slotLockWord(heap: Heap, slot: number): number {
	const table = heap._m[(heap.regionStart >>> 2) + R_THREADS] >>> 2;
	assert.ok(table !== 0 && slot >= 0 && slot < heap._m[(heap.regionStart >>> 2) + R_THREAD_SLOTS], `slot ${slot} of a thread table`);
	return table + slot * SLOT_WORDS + S_LOCK;
}
/** Makes lock word `w` read as held by thread slot `slot` (a worker that died holding it). */
function holdLock(heap: Heap, w: number, slot: number): void {
	assert.ok(slot >= 0, 'the holder must have a slot');
	Atomics.store(new Int32Array(heap.buffer), w, (slot + 1) << 1);
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
		// Default: 16 slots, or fewer so the table stays within 1/64 of the region (⌊256 Ki / 64 / 288⌋ = 14).
		assert.equal(blocks[0].size, blockSizeFor(14 * SLOT_WORDS * 4));
		assert.equal(blocks[1].free, true);
		assert.equal(s.freeBlocks, 1);
		assert.equal(s.liveBlocks, 0);
		assert.equal(s.cachedBlocks, 0);
		assert.equal(s.overheadBytes, s.metaBytes);
		assert.equal(A.buffer instanceof SharedArrayBuffer, true);

		const plain = new Heap({ size: 64 * KiB });
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
		assert.equal(n, CACHE_BATCH, 'the block it freed and the refill came back');
		assert.equal(b.threadSlot, -1);
		assert.equal(b.releaseThreadCache(), 0, 'releasing twice is a no-op');
		C.free(C.malloc(16));
		assert.equal(C.threadSlot, 1, 'C took the free slot');
		assert.equal(D.threadSlot, -1);
		assert.equal(audit(A).s.cachedBlocks, CACHE_BATCH);
		assert.equal(A.flushCaches(), CACHE_BATCH);
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

		// 16 KiB: a 288-byte slot would be over 1/64 of the region, so no slots.
		const tiny = new Heap({ buffer: new SharedArrayBuffer(16 * KiB) });
		assert.equal(tiny.threadSlot, -1);
		// 64 KiB: ⌊65536 / 64 / 288⌋ = 3 slots.
		const { others, A } = sharedHeaps(64 * KiB, 3);
		assert.deepEqual([A, ...others].map((h) => h.threadSlot), [0, 1, 2, -1]);
	});

	test('bad threads, lockTimeout or owner → INVALID_OPTIONS', () => {
		const sab = new SharedArrayBuffer(64 * KiB);
		for (const threads of [-1, 1.5, 1025, Number.NaN, '2' as unknown as number]) {
			const err = throwsCode(() => new Heap({ buffer: sab, threads }), 'INVALID_OPTIONS');
			assert.equal(err.op, 'Heap');
		}
		throwsCode(() => new Heap({ buffer: sab, threads: 1024 }), 'INVALID_OPTIONS'); // no room for the table
		for (const lockTimeout of [-1, Number.NaN, '10' as unknown as number, null as unknown as number]) {
			throwsCode(() => new Heap({ buffer: sab, lockTimeout }), 'INVALID_OPTIONS');
		}
		for (const owner of [-1, 1.5, 2 ** 32, Number.NaN, 'w' as unknown as number]) {
			throwsCode(() => new Heap({ buffer: sab, owner }), 'INVALID_OPTIONS');
		}

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
	test('free then malloc of the same class returns the same block; a miss refills CACHE_BATCH − 1', () => {
		const { A } = sharedHeaps(256 * KiB, 0);
		const s0 = audit(A).s;
		const p = A.malloc(40);
		let s = audit(A).s;
		assert.equal(s.liveBlocks, 1);
		assert.equal(s.usedBytes, 44);
		assert.equal(s.cachedBlocks, CACHE_BATCH - 1);
		assert.equal(s.cachedBytes, (CACHE_BATCH - 1) * 48);
		A.free(p);
		s = audit(A).s;
		assert.equal(s.liveBlocks, 0);
		assert.equal(s.cachedBlocks, CACHE_BATCH);
		assert.equal(A.malloc(40), p, 'LIFO: the block just freed');
		A.free(p);
		assert.equal(A.malloc(41), p, 'same class (48-byte blocks)');
		// calloc from the cache zeroes what the block held.
		stamp(A, p, 44, 9);
		A.free(p);
		assert.equal(A.calloc(4, 11), p);
		assertZero(A, p, 0, 44, 'calloc from the cache');
		A.free(p);
		assert.equal(A.flushCaches(), CACHE_BATCH);
		assert.deepEqual(audit(A).s, { ...s0, peakUsedBytes: A.stats().peakUsedBytes });
	});

	test('the cache takes blocks up to 256 bytes that are not aligned above 8', () => {
		const { A } = sharedHeaps(256 * KiB, 0);
		const cached = () => A.stats().cachedBlocks;
		const p252 = A.malloc(252); // 256-byte block: cacheable
		const n = cached();
		assert.equal(n, CACHE_BATCH - 1);
		A.free(p252);
		assert.equal(cached(), n + 1);
		const p253 = A.malloc(253); // 264-byte block: not
		assert.equal(cached(), n + 1, 'no refill for a large block');
		A.free(p253);
		assert.equal(cached(), n + 1);
		const q = A.alignedAlloc(64, 40); // ALIGNED: never cached
		assert.equal(q % 64, 0);
		A.free(q);
		assert.equal(cached(), n + 1);
		const r = A.alignedAlloc(8, 40); // align ≤ 8 is a plain malloc
		assert.equal(cached(), n + 1 + CACHE_BATCH - 1);
		A.free(r);
		assert.equal(cached(), n + 1 + CACHE_BATCH);
		audit(A);
		assert.deepEqual(A.check(), []);
		A.flushCaches();
		assert.equal(audit(A).s.freeBlocks, 1);
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
			let err: unknown;
			try {
				f();
			} catch (e) {
				err = e;
			}
			assert.ok(err instanceof HeapError && (err.code === 'DOUBLE_FREE' || err.code === 'INVALID_POINTER'), `${name}: ${String(err)}`);
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

	test('a list over CACHE_LIMIT sends half of it back to the heap', () => {
		const { A } = sharedHeaps(256 * KiB, 0);
		const ptrs = Array.from({ length: 100 }, () => A.malloc(16));
		const counts: number[] = [];
		for (const p of ptrs) {
			A.free(p);
			const n = A.stats().cachedBlocks;
			assert.ok(n <= CACHE_LIMIT, `${n} blocks cached in one list`);
			counts.push(n);
		}
		assert.ok(counts.includes(CACHE_LIMIT / 2), 'a trim left half the list');
		audit(A);
		assert.deepEqual(A.check(), []);
		A.flushCaches();
		assert.equal(audit(A).s.freeBlocks, 1);
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
		assert.equal(s.cachedBlocks, CACHE_BATCH, 'A’s refill of 15 and the one B freed');
		assert.equal(blocks.filter((b) => b.cached).length, CACHE_BATCH);
		assert.deepEqual([...A.walk()], blocks, 'walk() is blocks()');
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
		const Growable = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
		const sab = new Growable(64 * KiB, { maxByteLength: 4 * 1024 * KiB });
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

function nextStamp(m: Model): number {
	m.stamps++;
	return (m.stamps * 613) % STAMP_SPAN;
}
function pick(m: Model, idx: number): [number, Entry] {
	const keys = [...m.live.keys()].sort((a, b) => a - b);
	const ptr = keys[idx % keys.length];
	return [ptr, m.live.get(ptr) as Entry];
}
const hasLive = (m: Readonly<Model>) => m.live.size > 0;

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
/** For align > 8 the heap may ask for up to need + align + 16; allow twice that slack (as model.test.ts). */
const alignedNeed = (size: number, align: number) => (align <= 8 ? blockSizeFor(size) : blockSizeFor(size) + 2 * align + MIN_BLOCK);

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
			adopt(m, heap, p, this.size, 8, false, this.toString());
			assert.ok(heap.usableSize(p) >= this.size, 'usableSize below the size asked for');
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
		else adopt(m, heap, p, total, 8, true, this.toString());
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
		else adopt(m, heap, p, this.size, align, false, this.toString());
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
		let err: unknown;
		try {
			heap.free(p);
		} catch (e) {
			err = e;
		}
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
		assert.ok(u >= e.size && u <= blockSizeFor(e.size) + 8, `usableSize(${p}) = ${u} for ${e.size}`);
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
		const q = heap.realloc(p, this.size);
		if (q === 0) {
			assert.ok(this.size > usable, `${this.toString()} failed although it does not grow`);
			if (e.align <= 8) assertOom(heap, blockSizeFor(this.size), this.toString());
			assert.equal(heap.usableSize(p), usable, 'the old block is untouched');
		} else {
			if (this.size <= usable) assert.equal(q, p, 'a shrink stays in place');
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
		else adopt(m, heap, p, this.size, 8, false, this.toString());
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
		else adopt(m, heap, p, l.size, l.align, this.zeroed, this.toString());
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
		const q = orAllocError(() => heap[this.kind](p, oldL, newL));
		if (q === 0) {
			assert.notEqual(this.kind, 'shrink', 'a shrink to the same alignment cannot fail');
			if (e.align <= 8) assertOom(heap, blockSizeFor(size), this.toString());
			assertStamp(heap, p, e.size, e.stamp, 'after a failed grow');
		} else {
			if (this.kind === 'shrink') assert.equal(q, p, 'shrink stays in place');
			if (this.kind === 'growZeroed') assertZero(heap, q, e.size, size, this.toString());
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
		// Few classes, so single lists pass CACHE_LIMIT; now and then a large block.
		const size = () => (rnd() < 0.05 ? 300 + Math.floor(rnd() * 3000) : [12, 20, 44, 60, 250][Math.floor(rnd() * 5)]);
		let maxCached = 0;
		let ooms = 0;
		for (let step = 0; step < 4000; step++) {
			const h = any();
			const x = rnd();
			const want = m.live.size < 150 ? 0.55 : 0.4;
			if (x < want || m.live.size === 0) {
				const n = size();
				const p = h.malloc(n);
				if (p === 0) {
					ooms++;
					assertOom(h, blockSizeFor(n), `malloc(${n})`);
				} else adopt(m, h, p, n, 8, false, `malloc(${n})`);
			} else {
				const [p, e] = pick(m, Math.floor(rnd() * 1e6));
				if (x < 0.95) {
					h.free(p);
					drop(m, p);
				} else {
					const n = size();
					const q = h.realloc(p, n);
					if (q === 0) ooms++;
					else moved(m, h, p, e, q, n, 8, e.size, `realloc(${p}, ${n})`);
				}
			}
			if (step % 16 === 0) maxCached = Math.max(maxCached, heaps[0].stats().cachedBlocks);
			if (step % 200 === 199) verify(m, { heaps });
		}
		assert.ok(maxCached > CACHE_LIMIT, `the caches held up to ${maxCached} blocks`);
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
	/** A and B on one SAB, six stamped 60-byte blocks, a large one, some cached and freed blocks. */
	function fixture() {
		const { A, others } = sharedHeaps(128 * KiB, 1);
		const [B] = others;
		const p = Array.from({ length: 6 }, () => A.malloc(60));
		const big = A.malloc(3000);
		const cachedPtr = A.malloc(60);
		const freedBig = B.malloc(2000);
		const bigNeighbour = A.malloc(500); // keeps freedBig from merging into the tail
		B.free(cachedPtr); // in B's cache
		A.free(freedBig); // back in the free lists
		const live = new Map<number, [number, number]>(); // ptr → [size, stamp]
		p.forEach((ptr, i) => live.set(ptr, [60, 40 * i]));
		live.set(big, [3000, 400]);
		live.set(bigNeighbour, [500, 600]);
		for (const [ptr, [n, s]] of live) stamp(A, ptr, n, s);
		const table = ([...A.blocks()].find((b) => b.internal) as BlockInfo).ptr;
		return { A, B, p, big, cachedPtr, freedBig, live, table };
	}
	type Fx = ReturnType<typeof fixture>;

	function rejects(fx: Fx, heap: Heap, bad: () => unknown, codes: HeapErrorCode[], what: string): void {
		const before = snapshot(heap);
		const stats = heap.stats();
		let err: unknown;
		try {
			bad();
		} catch (e) {
			err = e;
		}
		assert.ok(err instanceof HeapError, `${what}: expected HeapError ${codes.join('/')}, got ${String(err)}`);
		assert.ok(codes.includes(err.code), `${what}: ${err.code} (${err.message})`);
		assertBytesUnchanged(heap, before, what);
		assert.deepEqual(heap.stats(), stats, what);
		assert.deepEqual(heap.check(), [], what);
		for (const [ptr, [n, s]] of fx.live) assertStamp(heap, ptr, n, s, what);
	}

	const OPS: [string, (h: Heap, ptr: number) => unknown][] = [
		['free', (h, p) => h.free(p)],
		['realloc', (h, p) => h.realloc(p, 100)],
		['usableSize', (h, p) => h.usableSize(p)],
		['deallocate', (h, p) => h.deallocate(p, new Layout(8))],
		['grow', (h, p) => h.grow(p, new Layout(8), new Layout(200))],
		['shrink', (h, p) => h.shrink(p, new Layout(8), new Layout(4))],
	];
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
		['a cached block', (fx) => fx.cachedPtr, ['DOUBLE_FREE', 'INVALID_POINTER']],
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
		rejects(fx, B, () => B.free(p[3]), ['DOUBLE_FREE', 'INVALID_POINTER'], 'B frees what A freed');
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
		assert.ok(A.malloc(1000) !== 0, 'the heap lock is free');
		const report = A.recover(77);
		assert.deepEqual(report, { slots: 1, locksTaken: 1, cachedReturned: bCached, leakedBlocks: 0, rebuilt: true });
		assert.deepEqual(A.check(), []);
		assert.equal(audit(A).s.cachedBlocks, 0);
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
		assert.deepEqual(report, { slots: 2, locksTaken: 1, cachedReturned: 2 * CACHE_BATCH, leakedBlocks: 0, rebuilt: true });
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
		// x | y | z adjacent, large (never cached); x already free.
		const x = put(A, 600);
		const y = put(A, 600);
		const z = put(A, 600);
		assert.equal(y - x, 608);
		assert.equal(z - y, 608);
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
		assert.ok(merged.free && merged.size === 1216, 'x and y are one free block');
		assert.equal(s.freeBytes, freeBefore + 608 + bCachedBytes, 'y and B’s cache are free bytes now');
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
		assert.equal(A.usableSize(victim), 3004, 'the block is live again');
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
			const big = A.malloc(1000);
			holdLock(A, heapLockWord(A), B.threadSlot);
			timesOut(() => A.free(big), B.threadSlot, 50);
			Atomics.store(new Int32Array(A.buffer), heapLockWord(A), 0); // the holder was only slow
			assert.deepEqual(A.check(), []);
			assert.equal(A.usableSize(big), 1004);
		},
	);
});
