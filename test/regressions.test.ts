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
	const heap = new Heap({ size: 1 << 20 });
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
