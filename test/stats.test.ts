/**
 * Unit tests for src/stats.ts: the O(1) counters against an independent walk.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap, layout as L } from '../src/index.js';
import type { HeapStats } from '../src/index.js';
import { lcgBelow } from './support/rng.js';
import { fromWalk } from './support/stats.js';

/**
 * Asserts every stats field against the walk and the documented formulas.
 * `peak` is the high-water mark of usedBytes seen by the test; with `exactPeak`
 * false, peakUsedBytes need only be ≥ it.
 */
function assertStats(heap: Heap, peak: number, exactPeak = true): HeapStats {
	const s = heap.stats();
	const w = fromWalk(heap);
	assert.equal(s.usedBytes, w.usedBytes, 'usedBytes');
	assert.equal(s.freeBytes, w.freeBytes, 'freeBytes');
	assert.equal(s.liveBlocks, w.liveBlocks, 'liveBlocks');
	assert.equal(s.freeBlocks, w.freeBlocks, 'freeBlocks');
	assert.equal(s.largestFreeBlock, w.largestFreeBlock, 'largestFreeBlock');
	assert.equal(s.largestAllocatable, w.largestFreeBlock === 0 ? 0 : w.largestFreeBlock - 4, 'largestAllocatable');
	assert.equal(s.cachedBytes, w.cachedBytes, 'cachedBytes');
	assert.equal(s.cachedBlocks, w.cachedBlocks, 'cachedBlocks');
	assert.equal(s.metaBytes, w.metaBytes, 'metaBytes = root + tables + bitmap + sentinel + internal blocks');
	const table = [...heap.blocks()].filter((b) => b.internal).reduce((n, b) => n + b.size, 0);
	assert.equal(s.metaBytes, heap._blocksStart - heap.regionStart + L.HEADER_BYTES + table);
	assert.equal(s.overheadBytes, s.metaBytes + 4 * s.liveBlocks, 'overheadBytes');
	assert.equal(s.regionBytes, heap.regionEnd - heap.regionStart);
	assert.equal(s.regionBytes, s.usedBytes + s.freeBytes + s.overheadBytes + s.cachedBytes, 'regionBytes = used + free + overhead + cached');
	const frag = s.freeBytes === 0 ? 0 : 1 - s.largestFreeBlock / s.freeBytes;
	assert.equal(s.externalFragmentation, frag, 'externalFragmentation');
	assert.ok(s.externalFragmentation >= 0 && s.externalFragmentation < 1);
	if (exactPeak) assert.equal(s.peakUsedBytes, peak, 'peakUsedBytes');
	else assert.ok(s.peakUsedBytes >= peak, 'peakUsedBytes ≥ every usedBytes seen');
	return s;
}

describe('stats', () => {
	// A 64 KiB heap has the small-block cache by default: every test of the
	// counters runs with it and without it.
	for (const cache of [false, true]) {
		const tag = cache ? ' (with the cache)' : ' (no cache)';
		counterTests(cache, tag);
	}
	tlsfTests();
});

/** The tests of the counters that hold with or without the cache. */
function counterTests(cache: boolean, tag: string): void {
	test(`a fresh heap${tag}`, () => {
		const heap = new Heap({ size: 1 << 16, cache });
		if (cache) assert.equal([...heap.blocks()].filter((b) => b.internal).length, 1, 'the cache is one internal block');
		const s = assertStats(heap, 0);
		assert.equal(s.usedBytes, 0);
		assert.equal(s.liveBlocks, 0);
		assert.equal(s.freeBlocks, 1);
		assert.equal(s.freeBytes, s.regionBytes - s.metaBytes);
		assert.equal(s.largestFreeBlock, s.freeBytes);
		assert.equal(s.externalFragmentation, 0);
	});

	/**
	 * Runs a seeded random workload, calling `after(lo, hi)` after every step:
	 * `lo` is the highest usedBytes seen between calls, `hi` also counts the
	 * moment inside a moving realloc when old and new block are both live.
	 */
	function workload(heap: Heap, after: (lo: number, hi: number) => void): void {
		const rand = lcgBelow(99);
		const live: number[] = [];
		let lo = 0;
		let hi = 0;
		let moves = 0;
		for (let i = 0; i < 600; i++) {
			const r = rand(12);
			if (r < 4 || live.length === 0) {
				const p = heap.malloc(rand(3) === 0 ? rand(3000) : rand(120));
				if (p !== 0) live.push(p);
			} else if (r === 4) {
				const p = heap.calloc(rand(20), rand(20));
				if (p !== 0) live.push(p);
			} else if (r === 5) {
				const p = heap.alignedAlloc(16 << rand(8), rand(500));
				if (p !== 0) live.push(p);
			} else if (r < 9) {
				heap.free(live.splice(rand(live.length), 1)[0]);
			} else {
				const k = rand(live.length);
				const usedBefore = heap.stats().usedBytes;
				const q = heap.realloc(live[k], rand(4) === 0 ? rand(4000) : rand(200));
				if (q !== 0 && q !== live[k]) {
					const size = [...heap.blocks()].find((b) => b.ptr === q)?.size ?? 0;
					hi = Math.max(hi, usedBefore + size - L.HEADER_BYTES);
					moves++;
				}
				if (q !== 0) live[k] = q;
			}
			lo = Math.max(lo, heap.stats().usedBytes);
			hi = Math.max(hi, lo);
			after(lo, hi);
		}
		assert.deepEqual(heap.check(), []);
		for (const p of live) heap.free(p);
		after(lo, hi);
		heap.flushCaches();
		after(lo, hi);
		assert.equal(heap.stats().freeBlocks, 1);
		assert.equal(heap.stats().cachedBlocks, 0);
		assert.ok(lo > 0);
		assert.ok(moves > 10, 'the workload moves blocks');
	}

	test(`counters exact after every step of a random workload (malloc/calloc/realloc/alignedAlloc/free)${tag}`, () => {
		const heap = new Heap({ size: 1 << 16, cache });
		workload(heap, (lo) => assertStats(heap, lo, false));
	});

	test(`peakUsedBytes is the high-water mark of usedBytes over a random workload${tag}`, () => {
		const heap = new Heap({ size: 1 << 16, cache });
		let last = 0;
		workload(heap, (lo, hi) => {
			const { peakUsedBytes } = heap.stats();
			assert.ok(peakUsedBytes >= lo, `peak ${peakUsedBytes} below a usedBytes seen (${lo})`);
			assert.ok(peakUsedBytes <= hi, `peak ${peakUsedBytes} above anything usedBytes reached (${hi})`);
			assert.ok(peakUsedBytes >= last, 'peak never decreases');
			last = peakUsedBytes;
		});
	});

	test(`peakUsedBytes is exact when no block moves${tag}`, () => {
		const heap = new Heap({ size: 1 << 16, cache });
		const live: number[] = [];
		let peak = 0;
		for (let i = 0; i < 300; i++) {
			if (i % 3 === 2) heap.free(live.splice((i * 7) % live.length, 1)[0]);
			else if (i % 5 === 4) {
				const k = (i * 11) % live.length;
				const q = heap.realloc(live[k], heap.usableSize(live[k]) >> 1);
				assert.equal(q, live[k], 'shrinks are in place');
			} else {
				const p = heap.malloc((i * 37) % 200);
				if (p !== 0) live.push(p);
			}
			peak = Math.max(peak, heap.stats().usedBytes);
			assert.equal(heap.stats().peakUsedBytes, peak, `step ${i}`);
		}
	});

}

/** The tests of what the free lists hold (the cache is off: it holds freed blocks back from them). */
function tlsfTests(): void {
	test('peakUsedBytes after realloc grows in place into the free tail (minimal case)', () => {
		const heap = new Heap({ size: 1 << 15 });
		const p = heap.malloc(8);
		assert.equal(heap.realloc(p, 100), p);
		assert.equal(heap.stats().usedBytes, 100);
		assert.equal(heap.stats().peakUsedBytes, 100);
	});

	test('usedBytes counts blockSize − 4 per allocated block, not the bytes requested', () => {
		const heap = new Heap({ size: 1 << 14 });
		heap.malloc(1);
		assert.equal(heap.stats().usedBytes, 12);
		heap.malloc(13);
		assert.equal(heap.stats().usedBytes, 12 + 20);
		// An aligned block: 50 bytes + the 4-byte align trailer → a 64-byte block.
		const p = heap.alignedAlloc(64, 50);
		assert.equal(heap.stats().usedBytes, 12 + 20 + 60);
		assert.equal(heap.usableSize(p), 56, 'the trailer word is not usable');
	});

	test('peakUsedBytes keeps the high-water mark through frees and in-place grows', () => {
		const heap = new Heap({ size: 1 << 15 });
		const a = heap.malloc(1000);
		const b = heap.malloc(1000);
		const high = heap.stats().usedBytes;
		heap.free(a);
		heap.free(b);
		assert.equal(heap.stats().usedBytes, 0);
		assert.equal(heap.stats().peakUsedBytes, high);
		const c = heap.malloc(100);
		assert.equal(heap.stats().peakUsedBytes, high);
		assert.equal(heap.realloc(c, 3000), c, 'grows in place into the free tail');
		assert.equal(heap.stats().peakUsedBytes, heap.stats().usedBytes);
		assert.ok(heap.stats().peakUsedBytes > high);
		assertStats(heap, heap.stats().usedBytes);
	});

	test('largestFreeBlock / largestAllocatable: the largest block is allocatable, one byte more is not', () => {
		const heap = new Heap({ size: 1 << 16, cache: false });
		const ptrs: number[] = [];
		for (let i = 0; i < 40; i++) ptrs.push(heap.malloc(50 + i * 40));
		// holes of different sizes, the tail consumed
		while (heap.malloc(64) !== 0);
		for (let i = 0; i < 40; i += 3) heap.free(ptrs[i]);
		const s = assertStats(heap, heap.stats().peakUsedBytes);
		assert.ok(s.freeBlocks > 5);
		assert.equal(heap.malloc(s.largestAllocatable + 1), 0);
		const p = heap.malloc(s.largestAllocatable);
		assert.notEqual(p, 0);
		assert.equal(heap.usableSize(p), s.largestAllocatable);
	});

	test('largestFreeBlock picks the largest block within the top list', () => {
		const heap = new Heap({ size: 1 << 16, cache: false });
		// 1000 and 1016-ish blocks fall in one list; the larger must be reported.
		const a = heap.malloc(996); // block 1000
		heap.malloc(8);
		const b = heap.malloc(1004); // block 1008
		heap.malloc(8);
		while (heap.malloc(8) !== 0);
		heap.free(b);
		heap.free(a); // a is now the head of the list
		assert.equal(heap.stats().largestFreeBlock, 1008);
		assert.equal(heap.stats().freeBlocks, 2);
	});

	test('externalFragmentation = 1 − largest / free, and 0 when nothing is free', () => {
		const heap = new Heap({ size: 1 << 14 });
		const ptrs: number[] = [];
		for (let p = heap.malloc(60); p !== 0; p = heap.malloc(60)) ptrs.push(p);
		// fill the last few bytes too
		while (heap.malloc(0) !== 0);
		let s = heap.stats();
		assert.equal(s.freeBytes, 0);
		assert.equal(s.largestFreeBlock, 0);
		assert.equal(s.largestAllocatable, 0);
		assert.equal(s.externalFragmentation, 0);
		heap.free(ptrs[0]);
		heap.free(ptrs[2]);
		heap.free(ptrs[3]);
		heap.free(ptrs[6]);
		s = assertStats(heap, heap.stats().peakUsedBytes);
		assert.equal(s.freeBytes, 4 * 64);
		assert.equal(s.largestFreeBlock, 128);
		assert.equal(s.externalFragmentation, 1 - 128 / 256);
	});
}
