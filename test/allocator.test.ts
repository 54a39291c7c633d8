/**
 * Unit tests for src/allocator.ts: Layout validation and the Rust-style
 * Allocator API (allocate / allocateZeroed / deallocate / grow / growZeroed /
 * shrink), AllocError on exhaustion and LAYOUT_MISMATCH.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AllocError, Heap, HeapError, Layout } from '../src/index.js';
import type { Allocator } from '../src/index.js';
import { caught, throwsCode } from './support/errors.js';
import { assertStamp, regionBytes, stamp } from './support/bytes.js';

const isFree = (heap: Heap, ptr: number) => [...heap.blocks()].find((b) => b.ptr === ptr)?.free;

/** Asserts `fn` throws AllocError and leaves the region byte-identical. */
function allocErrorUnchanged(heap: Heap, fn: () => unknown, op: string, size: number, align: number): void {
	const snap = regionBytes(heap);
	const err = caught(fn);
	assert.ok(err instanceof AllocError, `expected AllocError, got ${String(err)}`);
	assert.equal(err.name, 'AllocError');
	assert.equal(err.op, op);
	assert.equal(err.size, size);
	assert.equal(err.align, align);
	assert.ok(!(err instanceof HeapError));
	assert.deepEqual(regionBytes(heap), snap, 'the heap is unchanged');
	assert.deepEqual(heap.check(), []);
}

describe('Layout', () => {
	test('defaults to align 8; keeps size and align', () => {
		const l = new Layout(24);
		assert.deepEqual([l.size, l.align], [24, 8]);
		const z = new Layout(0, 1);
		assert.deepEqual([z.size, z.align], [0, 1]);
		assert.equal(new Layout(1, 2 ** 31).align, 2 ** 31);
		assert.equal(new Layout(Number.MAX_SAFE_INTEGER).size, Number.MAX_SAFE_INTEGER);
	});

	test('invalid sizes → INVALID_SIZE', () => {
		for (const s of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '8', undefined]) {
			const err = throwsCode(() => new Layout(s as number), 'INVALID_SIZE');
			assert.equal(err.op, 'Layout');
		}
	});

	test('invalid alignments → INVALID_ALIGN', () => {
		for (const a of [0, 3, 24, -8, 2 ** 32, 1.5, Number.NaN, '16', 2 ** 31 * 2]) {
			throwsCode(() => new Layout(8, a as number), 'INVALID_ALIGN');
		}
	});

	test('Layout.array multiplies; the alignment defaults to the element size', () => {
		const a = Layout.array(4, 10);
		assert.deepEqual([a.size, a.align], [40, 4]);
		const b = Layout.array(8, 3, 64);
		assert.deepEqual([b.size, b.align], [24, 64]);
		throwsCode(() => Layout.array(-1, 2), 'INVALID_SIZE');
		throwsCode(() => Layout.array(4, 1.5), 'INVALID_SIZE');
		throwsCode(() => Layout.array(2 ** 30, 2 ** 30), 'INVALID_SIZE');
		throwsCode(() => Layout.array(12, 2), 'INVALID_ALIGN');
	});
});

describe('allocate / allocateZeroed / deallocate', () => {
	test('a Heap is an Allocator', () => {
		const a: Allocator = new Heap({ size: 1 << 14 });
		const p = a.allocate(new Layout(10));
		a.deallocate(p, new Layout(10));
	});

	test('allocate honours every alignment 1 .. 4096', () => {
		const heap = new Heap({ size: 1 << 17 });
		heap.malloc(4);
		for (let align = 1; align <= 4096; align *= 2) {
			const p = heap.allocate(new Layout(24, align));
			assert.notEqual(p, 0);
			assert.equal(p % Math.max(align, 8), 0, `align ${align}: ${p}`);
			assert.ok(heap.usableSize(p) >= 24);
		}
		assert.deepEqual(heap.check(), []);
	});

	test('allocate(size 0) gives a unique minimum block', () => {
		const heap = new Heap({ size: 1 << 14 });
		const a = heap.allocate(new Layout(0));
		const b = heap.allocate(new Layout(0));
		assert.notEqual(a, b);
		assert.equal(heap.usableSize(a), 12);
	});

	test('allocateZeroed zeroes reused memory', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.malloc(100);
		heap.malloc(8);
		heap._u8.fill(0xee, p, p + 104);
		heap.free(p);
		const q = heap.allocateZeroed(new Layout(100));
		assert.equal(q, p);
		for (let i = 0; i < 100; i++) assert.equal(heap._u8[q + i], 0, `byte ${i}`);
		const r = heap.allocateZeroed(new Layout(64, 256));
		assert.equal(r % 256, 0);
	});

	test('deallocate frees the block', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.allocate(new Layout(40, 32));
		heap.deallocate(p, new Layout(40, 32));
		assert.equal(heap.stats().liveBlocks, 0);
		assert.equal(heap.stats().freeBlocks, 1);
		assert.deepEqual(heap.check(), []);
	});

	test('deallocate accepts any layout the block can hold (size ≤ usable, align divides ptr)', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.allocate(new Layout(8));
		heap.deallocate(p, new Layout(heap.usableSize(p), 8));
		const q = heap.allocate(new Layout(8, 64));
		heap.deallocate(q, new Layout(0, 1));
		assert.equal(heap.stats().liveBlocks, 0);
	});

	test('AllocError on exhaustion, heap unchanged', () => {
		const heap = new Heap({ size: 1 << 14 });
		const keep = heap.allocate(new Layout(100));
		stamp(heap, keep, 1, 100);
		const { largestAllocatable } = heap.stats();
		allocErrorUnchanged(heap, () => heap.allocate(new Layout(largestAllocatable + 1)), 'allocate', largestAllocatable + 1, 8);
		allocErrorUnchanged(heap, () => heap.allocate(new Layout(1 << 20, 16)), 'allocate', 1 << 20, 16);
		allocErrorUnchanged(heap, () => heap.allocate(new Layout(2 ** 32)), 'allocate', 2 ** 32, 8);
		allocErrorUnchanged(heap, () => heap.allocate(new Layout(8, 1 << 16)), 'allocate', 8, 1 << 16);
		allocErrorUnchanged(heap, () => heap.allocateZeroed(new Layout(1 << 20)), 'allocateZeroed', 1 << 20, 8);
		assertStamp(heap, keep, 1, 100);
		// and it is really full, not broken: the largest block still fits
		assert.notEqual(heap.allocate(new Layout(largestAllocatable)), 0);
	});

	test('LAYOUT_MISMATCH when the layout does not describe the block; heap unchanged', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.allocate(new Layout(20)); // usable 20
		const q = heap.allocate(new Layout(20, 8));
		stamp(heap, p, 2, 20);
		const snap = regionBytes(heap);
		for (const [l, op] of [
			[new Layout(21), 'deallocate'],
			[new Layout(1000), 'deallocate'],
			[new Layout(8, 1 << 20), 'deallocate'],
		] as const) {
			const err = throwsCode(() => heap.deallocate(p, l), 'LAYOUT_MISMATCH');
			assert.equal(err.op, op);
			assert.equal(err.received, l);
		}
		throwsCode(() => heap.grow(p, new Layout(21), new Layout(40)), 'LAYOUT_MISMATCH');
		throwsCode(() => heap.growZeroed(p, new Layout(8, 1 << 20), new Layout(40)), 'LAYOUT_MISMATCH');
		throwsCode(() => heap.shrink(p, new Layout(100), new Layout(4)), 'LAYOUT_MISMATCH');
		assert.deepEqual(regionBytes(heap), snap);
		assertStamp(heap, p, 2, 20);
		heap.deallocate(q, new Layout(20));
		assert.deepEqual(heap.check(), []);
	});

	test('a non-Layout argument is rejected before anything is written', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.malloc(8);
		const snap = regionBytes(heap);
		const fake = { size: 8, align: 8 } as Layout;
		for (const fn of [
			() => heap.allocate(fake),
			() => heap.allocateZeroed(fake),
			() => heap.deallocate(p, fake),
			() => heap.grow(p, new Layout(8), fake),
			() => heap.shrink(p, new Layout(8), fake),
		]) {
			assert.throws(fn, HeapError);
		}
		assert.deepEqual(regionBytes(heap), snap);
	});
});

describe('grow / growZeroed / shrink', () => {
	test('grow keeps the contents and returns a block of the new size', () => {
		const heap = new Heap({ size: 1 << 15 });
		const p = heap.allocate(new Layout(30));
		const blocker = heap.allocate(new Layout(30));
		stamp(heap, p, 3, 30);
		const q = heap.grow(p, new Layout(30), new Layout(500));
		assert.notEqual(q, p, 'the blocker forces a move');
		assert.ok(heap.usableSize(q) >= 500);
		assertStamp(heap, q, 3, 30);
		assert.equal(isFree(heap, p), true, 'the old block is freed');
		assert.equal(heap.usableSize(blocker), 36);
		assert.deepEqual(heap.check(), []);
	});

	test('grow into a free neighbour stays in place', () => {
		const heap = new Heap({ size: 1 << 15 });
		const p = heap.allocate(new Layout(30));
		const q = heap.allocate(new Layout(100));
		heap.allocate(new Layout(8));
		heap.deallocate(q, new Layout(100));
		stamp(heap, p, 4, 30);
		assert.equal(heap.grow(p, new Layout(30), new Layout(100)), p);
		assertStamp(heap, p, 4, 30);
	});

	test('grow with the same layout is a no-op that returns ptr', () => {
		const heap = new Heap({ size: 1 << 15 });
		const p = heap.allocate(new Layout(30));
		const snap = regionBytes(heap);
		assert.equal(heap.grow(p, new Layout(30), new Layout(30)), p);
		assert.deepEqual(regionBytes(heap), snap);
	});

	test('growZeroed zeroes exactly the bytes past the old size', () => {
		const heap = new Heap({ size: 1 << 15 });
		// Dirty memory first, so zeroes cannot come from a fresh buffer.
		const dirty = heap.malloc(2000);
		heap._u8.fill(0xab, dirty, dirty + 2000);
		heap.free(dirty);
		const p = heap.allocate(new Layout(20));
		stamp(heap, p, 5, 20);
		const q = heap.growZeroed(p, new Layout(20), new Layout(600));
		assertStamp(heap, q, 5, 20);
		for (let i = 20; i < 600; i++) assert.equal(heap._u8[q + i], 0, `byte ${i}`);
		// in place too
		const r = heap.allocate(new Layout(20));
		const s = heap.allocate(new Layout(200));
		heap.allocate(new Layout(8));
		heap._u8.fill(0xab, s, s + 200);
		heap.deallocate(s, new Layout(200));
		stamp(heap, r, 6, 20);
		assert.equal(heap.growZeroed(r, new Layout(20), new Layout(150)), r);
		assertStamp(heap, r, 6, 20);
		for (let i = 20; i < 150; i++) assert.equal(heap._u8[r + i], 0, `byte ${i}`);
		assert.deepEqual(heap.check(), []);
	});

	test('shrink is in place and keeps the first newLayout.size bytes', () => {
		const heap = new Heap({ size: 1 << 15 });
		const p = heap.allocate(new Layout(400));
		heap.allocate(new Layout(8));
		stamp(heap, p, 7, 400);
		const q = heap.shrink(p, new Layout(400), new Layout(40));
		assert.equal(q, p);
		assert.equal(heap.usableSize(q), 44);
		assertStamp(heap, q, 7, 40);
		assert.equal(heap.stats().freeBlocks, 2, 'the tail was freed');
		assert.deepEqual(heap.check(), []);
	});

	test('grow to a smaller size / shrink to a larger size → INVALID_SIZE, heap unchanged', () => {
		const heap = new Heap({ size: 1 << 15 });
		const p = heap.allocate(new Layout(100));
		const snap = regionBytes(heap);
		const g = throwsCode(() => heap.grow(p, new Layout(100), new Layout(50)), 'INVALID_SIZE');
		assert.equal(g.op, 'grow');
		throwsCode(() => heap.growZeroed(p, new Layout(100), new Layout(50)), 'INVALID_SIZE');
		const s = throwsCode(() => heap.shrink(p, new Layout(50), new Layout(100)), 'INVALID_SIZE');
		assert.equal(s.op, 'shrink');
		assert.deepEqual(regionBytes(heap), snap);
	});

	test('grow that cannot fit → AllocError, old block intact and live', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.allocate(new Layout(100));
		heap.allocate(new Layout(8));
		stamp(heap, p, 8, 100);
		const { largestAllocatable } = heap.stats();
		allocErrorUnchanged(heap, () => heap.grow(p, new Layout(100), new Layout(largestAllocatable + 8)), 'grow', largestAllocatable + 8, 8);
		allocErrorUnchanged(heap, () => heap.growZeroed(p, new Layout(100), new Layout(1 << 20)), 'growZeroed', 1 << 20, 8);
		allocErrorUnchanged(heap, () => heap.grow(p, new Layout(100), new Layout(200, 1 << 16)), 'grow', 200, 1 << 16);
		assertStamp(heap, p, 8, 100);
		heap.deallocate(p, new Layout(100));
	});

	test('grow to a size above the largest block (≥ 2^32) → AllocError, not a silent truncation', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.allocate(new Layout(8));
		heap.allocate(new Layout(8));
		for (const size of [2 ** 32 - 8, 2 ** 32, 2 ** 32 + 8, 2 ** 40]) {
			allocErrorUnchanged(heap, () => heap.grow(p, new Layout(8), new Layout(size)), 'grow', size, 8);
			allocErrorUnchanged(heap, () => heap.grow(p, new Layout(8), new Layout(size, 16)), 'grow', size, 16);
		}
	});

	test('growZeroed to a size ≥ 2^32 → AllocError and does not zero the heap', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.allocate(new Layout(8));
		const q = heap.allocate(new Layout(8));
		stamp(heap, q, 9, 8);
		allocErrorUnchanged(heap, () => heap.growZeroed(p, new Layout(8), new Layout(2 ** 32 + 8)), 'growZeroed', 2 ** 32 + 8, 8);
		assertStamp(heap, q, 9, 8);
	});

	test('alignment is honoured through grow and shrink', () => {
		const heap = new Heap({ size: 1 << 17 });
		heap.malloc(4);
		for (const align of [16, 64, 512, 4096]) {
			const l1 = new Layout(24, align);
			const p = heap.allocate(l1);
			heap.allocate(new Layout(8)); // blocker: grow has to move
			stamp(heap, p, align, 24);
			const l2 = new Layout(3000, align);
			const q = heap.grow(p, l1, l2);
			assert.equal(q % align, 0, `grow, align ${align}`);
			assertStamp(heap, q, align, 24);
			const l3 = new Layout(10, align);
			const r = heap.shrink(q, l2, l3);
			assert.equal(r % align, 0, `shrink, align ${align}`);
			assertStamp(heap, r, align, 10);
			heap.deallocate(r, l3);
		}
		assert.deepEqual(heap.check(), []);
	});

	test('grow / shrink of an aligned block to a layout aligned below 8 leaves a sound heap', () => {
		for (const align of [1, 2, 4, 8]) {
			const heap = new Heap({ size: 1 << 16 });
			const p = heap.allocate(new Layout(40, 64));
			stamp(heap, p, 13, 40);
			const q = heap.shrink(p, new Layout(40, 64), new Layout(8, align));
			assert.equal(q % Math.max(align, 8), 0);
			assertStamp(heap, q, 13, 8);
			assert.deepEqual(heap.check(), [], `shrink to align ${align}`);
			const r = heap.allocate(new Layout(40, 64));
			const s = heap.grow(r, new Layout(40, 64), new Layout(48, align));
			assert.equal(s % 8, 0);
			assert.deepEqual(heap.check(), [], `grow to align ${align}`);
			heap.deallocate(q, new Layout(8, align));
			heap.deallocate(s, new Layout(48, align));
			assert.deepEqual(heap.check(), []);
		}
	});

	test('grow or shrink to a larger alignment moves the block to that alignment', () => {
		const heap = new Heap({ size: 1 << 16 });
		heap.malloc(4);
		let p = heap.allocate(new Layout(40, 8));
		while (p % 1024 === 0) p = heap.allocate(new Layout(40, 8));
		stamp(heap, p, 11, 40);
		const q = heap.grow(p, new Layout(40, 8), new Layout(80, 1024));
		assert.equal(q % 1024, 0);
		assertStamp(heap, q, 11, 40);
		let r = heap.allocate(new Layout(40, 8));
		while (r % 2048 === 0) r = heap.allocate(new Layout(40, 8));
		stamp(heap, r, 12, 40);
		const s = heap.shrink(r, new Layout(40, 8), new Layout(20, 2048));
		assert.equal(s % 2048, 0);
		assertStamp(heap, s, 12, 20);
		assert.deepEqual(heap.check(), []);
	});
});
