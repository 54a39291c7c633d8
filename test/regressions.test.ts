/** Regression tests: each pins a bug that was found and fixed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Heap } from '../src/index.js';

test('peakUsedBytes follows the real growth of an in-place realloc, not the absorbed neighbour', () => {
	const heap = new Heap({ size: 1 << 20 });
	const p = heap.malloc(100);
	assert.equal(heap.realloc(p, 200), p);
	const s = heap.stats();
	assert.equal(s.usedBytes, 204);
	assert.equal(s.peakUsedBytes, 204);
});

test('peakUsedBytes follows the real growth of a realloc that slides back into a free neighbour', () => {
	// No cache: the freed 4000-byte block must reach the free lists at once.
	const heap = new Heap({ size: 1 << 20, cache: false });
	const a = heap.malloc(4000);
	const b = heap.malloc(100);
	const c = heap.malloc(100);
	heap.free(a);
	const peakBefore = heap.stats().peakUsedBytes;
	const q = heap.realloc(b, 1000);
	assert.ok(q < b, 'the block slid back into the free space before it');
	const s = heap.stats();
	assert.equal(s.usedBytes, heap.usableSize(q) + heap.usableSize(c));
	assert.equal(s.peakUsedBytes, Math.max(peakBefore, s.usedBytes));
	assert.deepEqual(heap.check(), []);
});

test('a block that fits deep in its own list is found when no higher list can serve the request', () => {
	// No cache: the freed blocks must reach the free lists at once.
	const heap = new Heap({ size: 1 << 16, cache: false });
	const fit = heap.malloc(2100); // block 2104
	const sep = [heap.malloc(8)];
	const small: number[] = [];
	for (let i = 0; i < 12; i++) {
		small.push(heap.malloc(2052)); // block 2056: same list as 2104, too small for it
		sep.push(heap.malloc(8));
	}
	assert.notEqual(heap.malloc(heap.stats().largestAllocatable), 0, 'the rest of the heap is taken');
	heap.free(fit); // deepest in the list (lists are LIFO)
	for (const p of small) heap.free(p);
	assert.equal(heap.stats().largestFreeBlock, 2104);
	assert.equal(heap.malloc(2100), fit);
	assert.deepEqual(heap.check(), []);
});

test('debug level 2 notices a smashed header on the next block before freeing', () => {
	const heap = new Heap({ size: 1 << 16, debug: 2 });
	const a = heap.malloc(32);
	const b = heap.malloc(32);
	heap._m[(b - 4) >>> 2] = 0xdeadbee8;
	assert.throws(() => heap.free(a), (e: unknown) => (e as { code?: string }).code === 'CORRUPT_HEAP');
});
