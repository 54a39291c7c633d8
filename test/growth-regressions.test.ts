/**
 * Regression tests from a review of issues 2 and 6; each failed before its fix.
 *
 * 1. A heap over a WebAssembly.Memory keeps using the old, detached buffer
 *    after someone else grows the memory (the wasm module itself,
 *    `memory.grow`). A heap that holds the memory object can see this in O(1)
 *    (`memory.buffer !== heap.buffer`) and rebind. Before the fix `malloc`
 *    returned 0, `free` of a live pointer threw INVALID_POINTER, and some
 *    calls (`stats()`, `malloc(100000)`) never returned (not exercised here so
 *    that the suite cannot hang).
 * 2. After growth the new payload-start bitmap was carved from the middle of
 *    the region and stayed there, so a grown heap emptied of every block
 *    could not serve a request that a fixed heap of the same size serves.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap, HeapError } from '../src/index.js';

describe('review: growth', () => {
	test('a heap over a memory grown by someone else keeps working', () => {
		const memory = new WebAssembly.Memory({ initial: 2 });
		const heap = new Heap({ memory, offset: 1024 });
		const p = heap.malloc(100);
		assert.ok(p > 0);
		memory.grow(1); // what a wasm module's own memory.grow does
		// The region did not move and still has ~120 KiB free.
		assert.notEqual(heap.malloc(10), 0, 'malloc must not report out-of-memory on a region with free space');
		assert.doesNotThrow(() => heap.free(p), 'free of a live block must not be rejected');
	});

	test('heap.growths reads the root after someone else grew the memory', () => {
		const memory = new WebAssembly.Memory({ initial: 2 });
		const heap = new Heap({ memory, offset: 1024 });
		memory.grow(1);
		assert.equal(heap.growths, 0);
	});

	test('a grown heap with every block freed serves what a fixed heap of its size serves', () => {
		const memory = new WebAssembly.Memory({ initial: 1, maximum: 64 });
		const heap = new Heap({ memory, grow: true });
		const ps: number[] = [];
		for (let p = heap.malloc(100_000); p !== 0; p = heap.malloc(100_000)) ps.push(p);
		// It stops growing once the next 100 KB block no longer fits below the maximum.
		assert.ok(memory.buffer.byteLength >= 62 * 65536, `memory grew to ${memory.buffer.byteLength}`);
		for (const p of ps) heap.free(p);
		assert.deepEqual(heap.check(), []);
		const pages = memory.buffer.byteLength / 65536;
		const fixed = new Heap({ memory: new WebAssembly.Memory({ initial: pages }) }).stats().largestAllocatable;
		const grown = heap.stats().largestAllocatable;
		// Allow the bitmap's size (1/64 of the region) and a little slack.
		assert.ok(grown >= fixed - (fixed >> 5), `largestAllocatable ${grown} on the emptied grown heap, ${fixed} on a fixed one`);
		assert.notEqual(heap.malloc(3 << 20), 0, 'malloc(3 MiB) on an empty 4 MiB heap');
		assert.deepEqual(heap.check(), []);
	});
});

test('a heap opened on a bare buffer that gets detached says DETACHED_BUFFER instead of reading garbage', () => {
	const memory = new WebAssembly.Memory({ initial: 2 });
	const heap = new Heap({ buffer: memory.buffer, offset: 1024 });
	const p = heap.malloc(100);
	memory.grow(1);
	for (const call of [() => heap.malloc(10), () => heap.free(p), () => heap.stats(), () => heap.check(), () => heap.buffer]) {
		assert.throws(call, (e: unknown) => e instanceof HeapError && e.code === 'DETACHED_BUFFER');
	}
	const again = Heap.attach(memory, 1024);
	assert.equal(again.usableSize(p) >= 100, true);
	assert.deepEqual(again.check(), []);
});
