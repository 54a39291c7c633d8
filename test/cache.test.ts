/**
 * cache.test.ts: the small-block cache of unshared heaps (heaps on an
 * ArrayBuffer; src/cache.ts, threads.ts, Heap._alloc/_free/_resize/_flushLocal).
 *
 * ```
 *  free(≤ 4 KiB, not aligned) ─► list of its class (≤ localCacheLimit) ─(full)─► free lists
 *  malloc ─► list of its class (LIFO) ─(empty)─► free lists ─(none)─► flush, try again
 * ```
 * Covered: when a heap has a cache, what a free/malloc does with it, the
 * per-class limits, what is never cached, misuse of cached pointers, the
 * flush on a miss, flushCaches/releaseThreadCache, peakUsedBytes, attach,
 * check() on a damaged cache, and stats/blocks()/contents over a random
 * workload.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap, layout as L } from '../src/index.js';
import type { HeapStats } from '../src/index.js';
import { throwsCode } from './support/errors.js';
import { POINTER_OPS } from './support/pointer-ops.js';
import { assertBytesUnchanged, assertStamp, snapshot, stamp } from './support/bytes.js';
import { mulberry32 } from './support/rng.js';
import { fromWalk } from './support/stats.js';

const KiB = 1024;
const TABLE_BLOCK = L.blockSizeFor(L.SLOT_WORDS * 4);
/** Size of the block whose payload is at `ptr`, from its header. */
const blockSize = (heap: Heap, ptr: number) => heap._m[(ptr - L.HEADER_BYTES) >>> 2] & L.SIZE_MASK;
/** The cache class a free of `ptr` files its block under. */
const classOf = (ptr: number, heap: Heap) => L.cacheClassDown(blockSize(heap, ptr));

/**
 * stats() against a walk of blocks() (each block free, internal, cached or
 * live, never two of them), the identity
 * `regionBytes = used + free + overhead + cached`, and check() = [].
 */
function audit(heap: Heap): HeapStats {
	const s = heap.stats();
	for (const b of heap.blocks()) {
		assert.ok(Number(b.free) + Number(b.internal) + Number(b.cached) <= 1, `block ${b.block} has two kinds`);
	}
	const w = fromWalk(heap);
	const counts = (x: HeapStats | typeof w) => ({
		usedBytes: x.usedBytes,
		liveBlocks: x.liveBlocks,
		freeBytes: x.freeBytes,
		freeBlocks: x.freeBlocks,
		cachedBytes: x.cachedBytes,
		cachedBlocks: x.cachedBlocks,
	});
	assert.deepEqual(counts(s), counts(w), 'stats() agrees with blocks()');
	assert.equal(s.regionBytes, s.usedBytes + s.freeBytes + s.overheadBytes + s.cachedBytes, 'the stats identity');
	assert.deepEqual(heap.check(), []);
	return s;
}


/**
 * `[r][s0][b0][s1][b1] … [s7][b7][filler]` with every b freed (5008-byte
 * free blocks) and every s freed into the cache (classes 16 … 72): only a
 * flush merges them into one free block of `span` bytes starting at s0.
 */
function cacheWall() {
	const heap = new Heap({ size: 64 * KiB });
	const r = heap.malloc(60);
	stamp(heap, r, 7);
	const small: number[] = [];
	const big: number[] = [];
	for (let i = 0; i < 8; i++) {
		small.push(heap.malloc(12 + 8 * i));
		big.push(heap.malloc(5004));
	}
	heap.malloc(heap.stats().largestAllocatable);
	for (const p of [...big, ...small]) heap.free(p);
	const span = 8 * 5008 + small.reduce((n, _, i) => n + 16 + 8 * i, 0);
	const s = audit(heap);
	assert.equal(s.cachedBlocks, 8);
	assert.equal(s.freeBlocks, 8);
	assert.equal(s.largestFreeBlock, 5008);
	return { heap, r, small, span };
}

describe('unshared cache: which heaps have one', () => {
	test('on by default from 51,200 bytes of region (64 × the 800-byte slot), never below', () => {
		assert.equal(L.SLOT_WORDS * 4 * 64, 51_200);
		for (const [options, want] of [
			[{ size: 51_200 }, true],
			[{ size: 51_199 }, false], // the region is 51,192 bytes
			[{ buffer: new ArrayBuffer(52_000), offset: 4, length: 51_200 }, false], // region [8, 51,200)
			[{ size: 8 * KiB, cache: true }, true],
			[{ size: 64 * KiB, cache: false }, false],
		] as const) {
			const heap = new Heap(options);
			assert.equal(heap._cacheW !== 0, want, JSON.stringify(options));
			const internal = [...heap.blocks()].filter((b) => b.internal);
			assert.equal(internal.length, want ? 1 : 0);
			assert.equal(heap.shared, false);
			assert.equal(heap.threadSlot, -1);
		}
		throwsCode(() => new Heap({ size: 4 * KiB, cache: true }), 'INVALID_OPTIONS'); // the table does not fit
	});

	test('the table is the first block, internal, and metaBytes grows by exactly its size', () => {
		const on = new Heap({ size: 64 * KiB });
		const off = new Heap({ size: 64 * KiB, cache: false });
		const [first, tail] = [...on.blocks()];
		assert.deepEqual(first, { ...first, block: on._blocksStart, size: TABLE_BLOCK, internal: true, free: false, cached: false });
		assert.equal(TABLE_BLOCK, 808);
		assert.equal(tail.free, true);
		assert.equal(on.stats().metaBytes - off.stats().metaBytes, TABLE_BLOCK);
		assert.equal(off.stats().largestFreeBlock - on.stats().largestFreeBlock, TABLE_BLOCK);
		audit(on);
	});

	test('a non-boolean cache option throws INVALID_OPTIONS and writes nothing into the buffer', () => {
		for (const cache of [1, 'yes', null, {}]) {
			const buffer = new ArrayBuffer(64 * KiB);
			new Uint8Array(buffer).fill(0xa5);
			throwsCode(() => new Heap({ buffer, cache: cache as unknown as boolean }), 'INVALID_OPTIONS');
			assert.ok(new Uint8Array(buffer).every((x) => x === 0xa5), `cache: ${JSON.stringify(cache)} wrote into the buffer`);
		}
	});
});

describe('unshared cache: free and malloc', () => {
	test('a small free goes to the cache: no merge, counted as cached, flagged in blocks()', () => {
		const heap = new Heap({ size: 64 * KiB });
		const [a, b, c] = [heap.malloc(28), heap.malloc(28), heap.malloc(28)];
		const before = audit(heap);
		heap.free(b);
		const s = audit(heap);
		assert.equal(s.cachedBlocks, 1);
		assert.equal(s.cachedBytes, 32);
		assert.equal(s.usedBytes, before.usedBytes - 28);
		assert.equal(s.liveBlocks, before.liveBlocks - 1);
		assert.equal(s.freeBlocks, before.freeBlocks, 'no new free block');
		assert.equal(s.freeBytes, before.freeBytes);
		assert.deepEqual([...heap.blocks()].filter((x) => x.cached).map((x) => x.ptr), [b]);
		// Same class (block 32): same pointer; another class (block 24) does not take it.
		assert.notEqual(heap.malloc(20), b);
		assert.equal(heap.malloc(21), b);
		assert.equal(audit(heap).cachedBlocks, 0);
		heap.free(a);
		heap.free(c);
		assert.equal(heap.malloc(28), c, 'LIFO: the last freed comes back first');
		assert.equal(heap.malloc(28), a);
	});

	test('calloc served from the cache reads as zero (the link word and old bytes are cleared)', () => {
		const heap = new Heap({ size: 64 * KiB });
		const p = heap.malloc(60);
		stamp(heap, p, 3);
		heap.free(p);
		assert.ok(heap._u8.subarray(p + 4, p + 60).some((x) => x !== 0), 'the cached block still holds its old bytes');
		assert.equal(heap.calloc(3, 20), p);
		assert.ok(heap._u8.subarray(p, p + 60).every((x) => x === 0));
		audit(heap);
	});

	test('above 256 bytes a free rounds its class down and a malloc rounds up', () => {
		const heap = new Heap({ size: 64 * KiB });
		const p = heap.malloc(276); // a 280-byte block: filed under class 272
		heap.malloc(8);
		assert.equal(blockSize(heap, p), 280);
		assert.equal(L.cacheClassDown(280), L.cacheClassUp(272));
		assert.equal(L.cacheClassUp(280), L.cacheClassDown(280) + 1);
		heap.free(p);
		assert.notEqual(heap.malloc(276), p, 'a 280-byte request is class 288');
		assert.equal(heap.malloc(268), p, 'a 272-byte request takes it');
		assert.equal(heap.usableSize(p), 276);
		audit(heap);
	});

	test('limits: at most localCacheLimit(c) blocks per list; the next free merges at once', () => {
		for (let c = 0; c < L.CACHE_CLASSES; c++) {
			assert.equal(L.localCacheLimit(c), Math.max(1, Math.min(8, Math.floor(1024 / L.cacheClassSize(c)))), `class ${c}`);
		}
		for (const [payload, limit] of [[12, 8], [124, 8], [252, 4], [508, 2], [2044, 1], [4092, 1]]) {
			const heap = new Heap({ size: 128 * KiB });
			const ps = Array.from({ length: limit + 1 }, () => heap.malloc(payload));
			assert.equal(L.localCacheLimit(classOf(ps[0], heap)), limit);
			const fresh = audit(heap);
			for (const p of ps.slice(0, limit)) heap.free(p);
			let s = audit(heap);
			assert.equal(s.cachedBlocks, limit);
			assert.deepEqual([s.freeBlocks, s.freeBytes], [fresh.freeBlocks, fresh.freeBytes]);
			const size = blockSize(heap, ps[limit]);
			heap.free(ps[limit]); // the list is full: merged with the free tail
			s = audit(heap);
			assert.equal(s.cachedBlocks, limit, `block ${size}`);
			assert.equal(s.freeBlocks, 1);
			assert.equal(s.largestFreeBlock, fresh.largestFreeBlock + size);
		}
	});

	test('blocks over 4096 bytes and alignedAlloc(64) blocks are never cached', () => {
		const heap = new Heap({ size: 64 * KiB });
		const edge = heap.malloc(4092);
		heap.free(edge);
		assert.equal(audit(heap).cachedBytes, 4096, 'a 4096-byte block is cached');
		assert.equal(heap.malloc(4092), edge);
		const fresh = audit(heap);
		for (const alloc of [() => heap.malloc(4093), () => heap.alignedAlloc(64, 40), () => heap.alignedAlloc(256, 1000)]) {
			const p = alloc();
			assert.notEqual(p, 0);
			heap.free(p);
			assert.deepEqual(audit(heap), { ...fresh, peakUsedBytes: heap.stats().peakUsedBytes }, 'freed and merged at once');
		}
		const p = heap.alignedAlloc(8, 40); // align ≤ 8 is a plain malloc
		heap.free(p);
		assert.equal(audit(heap).cachedBlocks, 1);
	});
});

describe('unshared cache: misuse and flushing', () => {
	test('every pointer operation on a cached pointer throws DOUBLE_FREE and changes no byte', () => {
		const heap = new Heap({ size: 64 * KiB });
		const ps = [heap.malloc(40), heap.malloc(40), heap.malloc(40)];
		for (const p of ps) heap.free(p);
		for (const p of ps) {
			// ps[2] heads its list, ps[0] is last in it.
			for (const [name, op] of POINTER_OPS) {
				const before = snapshot(heap);
				throwsCode(() => op(heap, p), 'DOUBLE_FREE');
				assertBytesUnchanged(heap, before, `${name}(${p})`);
				assert.equal(audit(heap).cachedBlocks, 3);
			}
		}
	});

	test('a malloc the free lists cannot serve flushes the cache and takes the merged space', () => {
		const { heap, small } = cacheWall();
		const q = heap.malloc(100); // served by the free lists: no flush
		assert.equal(audit(heap).cachedBlocks, 8);
		heap.free(q);
		assert.equal(heap.malloc(30_000), small[0]);
		assert.equal(audit(heap).cachedBlocks, 0);
	});

	test('realloc growth flushes the cache, then grows in place over the merged space', () => {
		const { heap, r, span } = cacheWall();
		assert.equal(heap.realloc(r, 64 + span - 4), r);
		assertStamp(heap, r, 7, 60);
		const s = audit(heap);
		assert.equal(s.cachedBlocks, 0);
		assert.equal(heap.usableSize(r), 64 + span - 4);
	});

	test('alignedAlloc flushes the cache before giving up', () => {
		const { heap, small } = cacheWall();
		const p = heap.alignedAlloc(64, 30_000);
		assert.ok(p >= small[0] && p % 64 === 0);
		assert.equal(audit(heap).cachedBlocks, 0);
	});

	test('when even the flushed heap has no room: 0, the cache is empty, the heap is sound', () => {
		for (const call of [(h: Heap) => h.malloc(60_000), (h: Heap, r: number) => h.realloc(r, 60_000), (h: Heap) => h.alignedAlloc(64, 60_000)]) {
			const { heap, r, span } = cacheWall();
			assert.equal(call(heap, r), 0);
			const s = audit(heap);
			assert.equal(s.cachedBlocks, 0);
			assert.equal(s.largestFreeBlock, span);
			assertStamp(heap, r, 7, 60);
		}
	});

	test('flushCaches and releaseThreadCache return the count and leave one free block once all is freed', () => {
		const freshLargest = new Heap({ size: 64 * KiB }).stats().largestFreeBlock;
		for (const flush of [(h: Heap) => h.flushCaches(), (h: Heap) => h.releaseThreadCache()]) {
			const heap = new Heap({ size: 64 * KiB });
			const ps = [12, 12, 60, 300, 2000, 5000, 12].map((n) => heap.malloc(n));
			for (const p of ps) heap.free(p);
			assert.equal(audit(heap).cachedBlocks, 6);
			assert.equal(flush(heap), 6);
			assert.equal(flush(heap), 0);
			const s = audit(heap);
			assert.deepEqual([s.cachedBlocks, s.cachedBytes, s.freeBlocks, s.liveBlocks], [0, 0, 1, 0]);
			assert.equal(s.largestFreeBlock, freshLargest);
			assert.equal(heap.threadSlot, -1);
		}
		assert.equal(new Heap({ size: 64 * KiB, cache: false }).flushCaches(), 0);
	});
});

describe('unshared cache: peak, attach, check', () => {
	test('peakUsedBytes leaves the cache out', () => {
		const heap = new Heap({ size: 64 * KiB });
		const a = heap.malloc(28);
		heap.free(a);
		assert.equal(heap.malloc(28), a, 'a cache hit');
		assert.equal(audit(heap).peakUsedBytes, 28);
		heap.free(a);
		heap.malloc(60); // from the free lists while a waits in the cache
		assert.equal(audit(heap).peakUsedBytes, 60);
		// The checker's rule: the peak may not be below the bytes in use, the cache left out.
		const peakWord = heap._root + L.R_PEAK_USED;
		heap._m[peakWord] = 59;
		assert.deepEqual(heap.check().map((v) => v.rule), ['counters']);
		heap._m[peakWord] = 60;
		assert.deepEqual(heap.check(), []);
	});

	test('Heap.attach uses the region cache: the same buffer, and a copy of it', () => {
		const heap = new Heap({ size: 64 * KiB });
		const p = heap.malloc(100);
		heap.free(p);
		const copy = Heap.attach(heap.buffer.slice(0));
		const same = Heap.attach(heap.buffer);
		for (const other of [same, copy]) {
			assert.notEqual(other._cacheW, 0);
			assert.deepEqual(audit(other), heap.stats());
		}
		assert.equal(same.malloc(100), p, 'freed through one object, allocated through another');
		assert.equal(heap.stats().cachedBlocks, 0);
		same.free(p);
		assert.equal(heap.malloc(100), p);
		assert.equal(copy.malloc(100), p, 'the copy kept its own cache');
		assert.equal(audit(copy).cachedBlocks, 0);
		const off = new Heap({ size: 64 * KiB, cache: false });
		off.free(off.malloc(100));
		assert.equal(Heap.attach(off.buffer)._cacheW, 0);
	});

	test('check() reports a damaged cache under rule "cache"', () => {
		const damage: [string, (heap: Heap, p: number, c: number) => void][] = [
			['a misaligned link', (h, p) => (h._m[p >>> 2] = p + 8)],
			['a link out of the region', (h, p) => (h._m[p >>> 2] = h.regionEnd + 4)],
			['a cycle', (h, p) => (h._m[p >>> 2] = p - 4)],
			['a link to a live block of the class', (h, p) => (h._m[p >>> 2] = p - 4 + 32)],
			['a list count too low', (h, _p, c) => (h._m[h._cacheW + L.S_HEADS + 2 * c + 1] = 0)],
			['a list count too high', (h, _p, c) => h._m[h._cacheW + L.S_HEADS + 2 * c + 1]++],
			['CACHED_BLOCKS wrong', (h) => h._m[h._cacheW + L.S_CACHED_BLOCKS]++],
			['CACHED_BYTES wrong', (h) => (h._m[h._cacheW + L.S_CACHED_BYTES] += 8)],
		];
		for (const [what, hurt] of damage) {
			const heap = new Heap({ size: 64 * KiB });
			const p = heap.malloc(28);
			heap.malloc(28);
			heap.free(p);
			const c = classOf(p, heap);
			const word = heap._m[p >>> 2];
			audit(heap);
			hurt(heap, p, c);
			const rules = heap.check().map((v) => v.rule);
			assert.ok(rules.includes('cache'), `${what}: ${rules.join(', ')}`);
			assert.equal(word, 0, 'the only cached block ends its list');
		}
	});
});

test('a copy of a shared heap opened as an unshared one: every thread cache is reachable and flushed', () => {
	const sab = new SharedArrayBuffer(256 * KiB);
	const A = new Heap({ buffer: sab, threads: 4 });
	const B = Heap.attach(sab, 0, { owner: 7 });
	for (const p of Array.from({ length: 20 }, () => B.malloc(40))) B.free(p);
	const cachedInB = A.stats().cachedBlocks;
	assert.ok(cachedInB >= 20, 'B caches its 20 blocks');
	const copy = new ArrayBuffer(sab.byteLength);
	new Uint8Array(copy).set(new Uint8Array(sab));
	const U = Heap.attach(copy);
	assert.equal(U.shared, false);
	assert.equal(audit(U).cachedBlocks, cachedInB);
	assert.equal(U.flushCaches(), cachedInB, 'the slot B used is flushed too');
	const s = audit(U);
	assert.equal(s.cachedBlocks, 0);
	assert.equal(s.freeBlocks, 1);
	assert.notEqual(U.malloc(s.largestAllocatable), 0);
});

test('attach rejects a root whose thread table cannot be right (NO_HEAP), before reading the table', () => {
	const heap = new Heap({ size: 64 * KiB });
	const root = heap.regionStart >>> 2;
	const bad: [string, number, number][] = [
		['slot count 4e9', L.R_THREAD_SLOTS, 4e9],
		['a table at a misaligned address', L.R_THREADS, heap._slotWs[0] * 4 + 2],
		['a table past the region', L.R_THREADS, heap.regionEnd + 8],
		['slots but no table', L.R_THREADS, 0],
	];
	for (const [what, word, value] of bad) {
		const copy = heap.buffer.slice(0);
		new Uint32Array(copy)[root + word] = value;
		const err = throwsCode(() => Heap.attach(copy), 'NO_HEAP');
		assert.match(err.message, /does not fit this buffer/, what);
	}
	assert.deepEqual(Heap.attach(heap.buffer.slice(0)).check(), []);
});

describe('unshared cache: workloads', () => {
	test('live blocks keep their bytes through cache traffic around them', () => {
		const heap = new Heap({ size: 64 * KiB });
		const ps = Array.from({ length: 40 }, (_, i) => heap.malloc(8 + ((i * 37) % 200)));
		ps.forEach((p, i) => stamp(heap, p, i));
		const live = new Map(ps.map((p, i) => [p, i]));
		for (let round = 0; round < 4; round++) {
			for (const [i, p] of ps.entries()) {
				if ((i + round) % 3 !== 0 || !live.has(p)) continue;
				heap.free(p);
				live.delete(p);
			}
			for (const [i, p] of ps.entries()) {
				if (live.has(p) || (i + round) % 2 !== 0) continue;
				const q = heap.malloc(8 + ((i * 37) % 200));
				stamp(heap, q, 100 * round + i);
				live.set(q, 100 * round + i);
			}
			if (round === 2) heap.flushCaches();
			assert.ok(audit(heap).cachedBlocks > 0 || round === 2);
			for (const [p, seed] of live) assertStamp(heap, p, seed, heap.usableSize(p));
		}
	});

	test('stats identity, blocks() and check() after every step of a seeded random workload', () => {
		const heap = new Heap({ size: 256 * KiB });
		const rand = mulberry32(0xcac4e);
		const int = (n: number) => Math.floor(rand() * n);
		const size = () => (rand() < 0.75 ? int(256) : rand() < 0.8 ? int(4096) : int(12_000));
		const live = new Map<number, { n: number; seed: number }>();
		let maxCached = 0;
		for (let step = 0; step < 1500; step++) {
			const r = rand();
			const ptrs = [...live.keys()];
			let p = 0;
			let n = size();
			if (r < 0.3 || ptrs.length === 0) p = heap.malloc(n);
			else if (r < 0.4) {
				p = heap.calloc(1, n);
				if (p !== 0) assert.ok(heap._u8.subarray(p, p + n).every((x) => x === 0), 'calloc reads as zero');
			} else if (r < 0.45) p = heap.alignedAlloc(16 << int(5), n);
			else if (r < 0.6) {
				const old = ptrs[int(ptrs.length)];
				const { n: had, seed } = live.get(old)!;
				p = heap.realloc(old, n);
				if (p !== 0) {
					live.delete(old);
					assertStamp(heap, p, seed, Math.min(had, n));
				}
			} else {
				const old = ptrs[int(ptrs.length)];
				assertStamp(heap, old, live.get(old)!.seed, live.get(old)!.n);
				heap.free(old);
				live.delete(old);
			}
			if (p !== 0) {
				stamp(heap, p, step, n);
				live.set(p, { n, seed: step });
			}
			if (step % 500 === 499) heap.flushCaches();
			const s = audit(heap);
			maxCached = Math.max(maxCached, s.cachedBlocks);
			assert.equal(s.liveBlocks, live.size, `step ${step}`);
		}
		assert.ok(maxCached >= 8, 'the workload exercises the cache');
		for (const [p, { n, seed }] of live) assertStamp(heap, p, seed, n);
	});
});
