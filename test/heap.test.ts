/**
 * Unit tests for src/heap.ts: malloc / calloc / realloc / free /
 * alignedAlloc / usableSize behaviour, checked through the block walker,
 * the stats counters and check().
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap, HeapError, layout as L } from '../src/index.js';
import type { BlockInfo } from '../src/index.js';
import { assertStamp, regionBytes, stamp } from './support/bytes.js';
import { lcgBelow } from './support/rng.js';

const MAX_PAYLOAD = L.MAX_BLOCK - L.HEADER_BYTES;

const blocks = (heap: Heap): BlockInfo[] => [...heap.blocks()];
const freeBlocks = (heap: Heap): BlockInfo[] => blocks(heap).filter((b) => b.free);
const blockAt = (heap: Heap, ptr: number): BlockInfo | undefined => blocks(heap).find((b) => b.ptr === ptr);

function sound(heap: Heap): void {
	assert.deepEqual(heap.check(), []);
}

/** Fresh heap of `size` bytes. */
// These tests pin down the free lists themselves (split, merge, in-place realloc), so
// the small-block cache, which holds freed blocks back from them, is off (test/cache.test.ts covers it).
const fresh = (size = 1 << 16) => new Heap({ size, cache: false });

describe('malloc', () => {
	test('returns 8-byte aligned, non-zero pointers inside the region', () => {
		const heap = fresh();
		for (let n = 0; n <= 200; n++) {
			const p = heap.malloc(n);
			assert.notEqual(p, 0);
			assert.equal(p % 8, 0, `malloc(${n}) = ${p}`);
			assert.ok(p >= heap._payloadBase && p + n <= heap._sentinel);
		}
		sound(heap);
	});

	test('4-byte overhead, 16-byte minimum block: consecutive blocks are blockSizeFor(n) apart', () => {
		const heap = fresh();
		const sizes = [0, 1, 12, 13, 20, 21, 28, 100, 1000];
		const ptrs = sizes.map((n) => heap.malloc(n));
		for (let i = 0; i + 1 < ptrs.length; i++) {
			assert.equal(ptrs[i + 1] - ptrs[i], L.blockSizeFor(sizes[i]), `after malloc(${sizes[i]})`);
		}
		assert.equal(ptrs[0], heap._payloadBase, 'the first block starts at blocksStart');
		assert.equal(L.blockSizeFor(12), 16);
		assert.equal(L.blockSizeFor(13), 24);
	});

	test('usableSize = blockSize − 4 ≥ the size asked for', () => {
		const heap = fresh();
		for (let n = 0; n <= 300; n += 1) {
			const p = heap.malloc(n);
			const u = heap.usableSize(p);
			assert.equal(u, Math.max(12, Math.ceil((n + 4) / 8) * 8 - 4), `malloc(${n})`);
			assert.ok(u >= n);
			heap.free(p);
		}
		sound(heap);
	});

	test('all usable bytes can be written without harming the neighbours (no footer in allocated blocks)', () => {
		const heap = fresh();
		const a = heap.malloc(20);
		const b = heap.malloc(20);
		const c = heap.malloc(20);
		stamp(heap, a, 1);
		stamp(heap, c, 3);
		heap._u8.fill(0xff, b, b + heap.usableSize(b));
		sound(heap);
		assertStamp(heap, a, 1, heap.usableSize(a));
		assertStamp(heap, c, 3, heap.usableSize(c));
		// Freeing the neighbours still coalesces correctly.
		heap.free(c);
		heap.free(a);
		heap._u8.fill(0xff, b, b + heap.usableSize(b));
		heap.free(b);
		sound(heap);
		assert.equal(freeBlocks(heap).length, 1);
	});

	test('split: malloc on a fresh heap leaves the remainder as one free block', () => {
		const heap = fresh();
		const before = heap.stats();
		const p = heap.malloc(100);
		const bs = blocks(heap);
		assert.equal(bs.length, 2);
		assert.deepEqual(
			bs.map((b) => [b.ptr, b.size, b.free]),
			[
				[p, 104, false],
				[p + 104, before.freeBytes - 104, true],
			],
		);
		assert.equal(heap.stats().freeBytes, before.freeBytes - 104);
		sound(heap);
	});

	test('no split when the remainder would be below 16 bytes: the whole block is used', () => {
		const heap = fresh();
		const a = heap.malloc(40); // 48-byte block
		const guard = heap.malloc(8);
		heap.free(a);
		const p = heap.malloc(36); // needs 40: 8 bytes left over, not a block
		assert.equal(p, a);
		assert.equal(heap.usableSize(p), 44);
		assert.ok(heap.usableSize(guard) >= 8);
		sound(heap);
	});

	test('malloc(0) returns unique, non-overlapping minimum blocks', () => {
		const heap = fresh();
		const ptrs = Array.from({ length: 100 }, () => heap.malloc(0));
		assert.equal(new Set(ptrs).size, 100);
		assert.ok(ptrs.every((p) => p !== 0 && heap.usableSize(p) === 12));
		const sorted = [...ptrs].sort((x, y) => x - y);
		for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i] - sorted[i - 1] >= 16);
		sound(heap);
	});

	test('a size too big returns 0 and leaves the heap unchanged', () => {
		const heap = fresh();
		const p = heap.malloc(64);
		stamp(heap, p, 9);
		const snap = regionBytes(heap);
		const { largestAllocatable } = heap.stats();
		for (const n of [largestAllocatable + 1, 1 << 20, MAX_PAYLOAD, MAX_PAYLOAD + 1, 2 ** 32, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
			assert.equal(heap.malloc(n), 0, `malloc(${n})`);
		}
		assert.deepEqual(regionBytes(heap), snap);
		assert.notEqual(heap.malloc(largestAllocatable), 0, 'the largest allocatable size does fit');
		sound(heap);
	});
});

describe('free and coalescing', () => {
	/** Four adjacent 64-byte blocks and a guard, so the tail free block is not a neighbour. */
	function four() {
		const heap = fresh();
		const [a, b, c, d] = [heap.malloc(60), heap.malloc(60), heap.malloc(60), heap.malloc(60)];
		const guard = heap.malloc(60);
		for (const [i, p] of [a, b, c, d, guard].entries()) stamp(heap, p, i);
		return { heap, a, b, c, d, guard };
	}

	test('free(0) does nothing', () => {
		const heap = fresh();
		const snap = regionBytes(heap);
		heap.free(0);
		assert.deepEqual(regionBytes(heap), snap);
	});

	test('a block between allocated blocks becomes one free block of its own', () => {
		const { heap, b } = four();
		heap.free(b);
		const fb = freeBlocks(heap);
		assert.equal(fb.length, 2, 'b and the tail');
		assert.deepEqual([fb[0].ptr, fb[0].size], [b, 64]);
		sound(heap);
	});

	test('merge with the LEFT neighbour leaves ONE free block', () => {
		const { heap, a, b, c, guard } = four();
		heap.free(a);
		heap.free(b);
		const fb = freeBlocks(heap);
		assert.equal(fb.length, 2);
		assert.deepEqual([fb[0].ptr, fb[0].size], [a, 128]);
		assert.equal(blockAt(heap, c)?.free, false);
		assertStamp(heap, c, 2, 60);
		assertStamp(heap, guard, 4, 60);
		assert.equal(heap.stats().freeBlocks, 2);
		sound(heap);
	});

	test('merge with the RIGHT neighbour leaves ONE free block', () => {
		const { heap, a, b, c } = four();
		heap.free(c);
		heap.free(b);
		const fb = freeBlocks(heap);
		assert.equal(fb.length, 2);
		assert.deepEqual([fb[0].ptr, fb[0].size], [b, 128]);
		assert.equal(blockAt(heap, a)?.free, false);
		assertStamp(heap, a, 0, 60);
		sound(heap);
	});

	test('merge with BOTH neighbours leaves ONE free block', () => {
		const { heap, a, b, c, d } = four();
		heap.free(a);
		heap.free(c);
		assert.equal(freeBlocks(heap).length, 3);
		heap.free(b);
		const fb = freeBlocks(heap);
		assert.equal(fb.length, 2);
		assert.deepEqual([fb[0].ptr, fb[0].size], [a, 192]);
		assertStamp(heap, d, 3, 60);
		assert.equal(heap.stats().freeBlocks, 2);
		sound(heap);
	});

	test('the last block merges with the tail free block; freeing all gives one block', () => {
		const { heap, a, b, c, d, guard } = four();
		const total = heap.stats().freeBytes + 5 * 64;
		heap.free(guard);
		assert.equal(freeBlocks(heap).length, 1, 'guard merged into the tail');
		for (const p of [b, d, a, c]) heap.free(p);
		const fb = freeBlocks(heap);
		assert.equal(fb.length, 1);
		assert.equal(fb[0].size, total);
		assert.equal(blocks(heap).length, 1);
		sound(heap);
	});

	test('free updates used / free / live counters exactly', () => {
		const { heap, b } = four();
		const s0 = heap.stats();
		heap.free(b);
		const s1 = heap.stats();
		assert.equal(s1.usedBytes, s0.usedBytes - 60);
		assert.equal(s1.freeBytes, s0.freeBytes + 64);
		assert.equal(s1.liveBlocks, s0.liveBlocks - 1);
		assert.equal(s1.freeBlocks, s0.freeBlocks + 1);
	});
});

describe('realloc', () => {
	test('shrink is in place and frees the tail', () => {
		const heap = fresh();
		const p = heap.malloc(200); // 208-byte block
		const guard = heap.malloc(8);
		stamp(heap, p, 5);
		const q = heap.realloc(p, 50); // 56-byte block
		assert.equal(q, p);
		assert.equal(heap.usableSize(q), 52);
		assertStamp(heap, q, 5, 50);
		const next = blocks(heap).find((b) => b.block === p - 4 + 56);
		assert.deepEqual([next?.free, next?.size], [true, 208 - 56]);
		assert.equal(blockAt(heap, guard)?.free, false);
		sound(heap);
	});

	test('shrink by less than a block keeps the block whole', () => {
		const heap = fresh();
		const p = heap.malloc(100);
		heap.malloc(8);
		const n = blocks(heap).length;
		assert.equal(heap.realloc(p, 92), p);
		assert.equal(heap.usableSize(p), 100);
		assert.equal(blocks(heap).length, n);
		sound(heap);
	});

	test('shrink next to a free block merges the tail into it', () => {
		const heap = fresh();
		const p = heap.malloc(200);
		const b = heap.malloc(100);
		heap.malloc(8);
		heap.free(b);
		assert.equal(heap.realloc(p, 20), p);
		const fb = freeBlocks(heap);
		assert.equal(fb.length, 2);
		assert.deepEqual([fb[0].ptr, fb[0].size], [p + 24, 208 - 24 + 104]);
		sound(heap);
	});

	test('grow into a free next neighbour is in place (same pointer), contents kept', () => {
		const heap = fresh();
		const a = heap.malloc(60);
		const b = heap.malloc(200);
		const c = heap.malloc(60);
		stamp(heap, a, 1);
		stamp(heap, c, 3);
		heap.free(b);
		const s0 = heap.stats();
		const q = heap.realloc(a, 100);
		assert.equal(q, a);
		assert.equal(heap.usableSize(q), 100);
		assertStamp(heap, q, 1, 60);
		assertStamp(heap, c, 3, 60);
		// b's 208 bytes: 40 taken, 168 left as a free block.
		const fb = freeBlocks(heap);
		assert.deepEqual([fb[0].ptr, fb[0].size], [a + 104, 168]);
		assert.equal(heap.stats().usedBytes, s0.usedBytes + 40);
		sound(heap);
	});

	test('grow that takes the whole free neighbour', () => {
		const heap = fresh();
		const a = heap.malloc(60);
		const b = heap.malloc(60);
		const c = heap.malloc(60);
		heap.free(b);
		const q = heap.realloc(a, 120);
		assert.equal(q, a);
		assert.equal(heap.usableSize(q), 124);
		assert.equal(blocks(heap).find((x) => x.ptr === c)?.free, false);
		assert.equal(freeBlocks(heap).length, 1, 'only the tail is free');
		sound(heap);
	});

	test('grow past the free neighbour moves: contents kept, the old block freed', () => {
		const heap = fresh();
		const a = heap.malloc(60);
		const b = heap.malloc(60);
		stamp(heap, a, 7);
		stamp(heap, b, 8);
		const q = heap.realloc(a, 500);
		assert.notEqual(q, a);
		assert.ok(heap.usableSize(q) >= 500);
		assertStamp(heap, q, 7, 60);
		assertStamp(heap, b, 8, 60);
		assert.equal(blockAt(heap, a)?.free, true, 'old block is free');
		assert.throws(() => heap.usableSize(a), { code: 'DOUBLE_FREE' });
		assert.equal(heap.stats().liveBlocks, 2);
		sound(heap);
	});

	test('grow slides back into a free previous neighbour: contents kept, one free block fewer', () => {
		const heap = fresh();
		const a = heap.malloc(200); // 208
		const b = heap.malloc(60); // 64
		const c = heap.malloc(60);
		stamp(heap, b, 2); // all 60 usable bytes
		stamp(heap, c, 3);
		heap.free(a);
		const s0 = heap.stats();
		const q = heap.realloc(b, 240);
		assert.equal(q, a, 'the payload moved to the start of the free block before it');
		assert.ok(heap.usableSize(q) >= 240);
		assertStamp(heap, q, 2, 60);
		assertStamp(heap, c, 3, 60);
		assert.equal(heap.stats().freeBlocks, s0.freeBlocks - 1 + (208 + 64 - 248 >= 16 ? 1 : 0));
		assert.equal(heap.stats().liveBlocks, s0.liveBlocks);
		assert.throws(() => heap.usableSize(b), HeapError, 'the old pointer is no longer live');
		sound(heap);
	});

	test('grow slides back over both free neighbours', () => {
		const heap = fresh();
		const a = heap.malloc(60);
		const b = heap.malloc(60);
		const c = heap.malloc(60);
		const d = heap.malloc(60);
		stamp(heap, b, 5);
		stamp(heap, d, 6);
		heap.free(a);
		heap.free(c);
		const q = heap.realloc(b, 3 * 64 - 4);
		assert.equal(q, a);
		assert.equal(heap.usableSize(q), 188);
		assertStamp(heap, q, 5, 60);
		assertStamp(heap, d, 6, 60);
		assert.equal(freeBlocks(heap).length, 1, 'only the tail is free');
		sound(heap);
	});

	test('an aligned block that slides back or moves keeps its alignment', () => {
		for (const gapBefore of [24, 40, 56, 64, 200]) {
			const heap = fresh();
			heap.malloc(4);
			const pad = heap.malloc(gapBefore);
			const p = heap.alignedAlloc(64, 40);
			const blocker = heap.malloc(8);
			const n = heap.usableSize(p);
			stamp(heap, p, 7);
			heap.free(pad);
			const q = heap.realloc(p, 200);
			assert.notEqual(q, 0);
			assert.equal(q % 64, 0, `gap ${gapBefore}: ${q}`);
			assertStamp(heap, q, 7, n);
			assert.ok(heap.usableSize(blocker) >= 8);
			sound(heap);
		}
	});

	test('a move copies the whole old payload, not just the bytes asked for at first', () => {
		const heap = fresh();
		const a = heap.malloc(1); // 12 usable bytes
		heap.malloc(1);
		stamp(heap, a, 4); // all 12
		const q = heap.realloc(a, 100);
		assert.notEqual(q, a);
		assertStamp(heap, q, 4, 12);
	});

	test('failure returns 0 and leaves the old block intact and live (byte-identical heap)', () => {
		const heap = fresh(1 << 14);
		const a = heap.malloc(100);
		const b = heap.malloc(100);
		stamp(heap, a, 1);
		stamp(heap, b, 2);
		const snap = regionBytes(heap);
		const { largestAllocatable } = heap.stats();
		assert.equal(heap.realloc(a, largestAllocatable + 1000), 0);
		assert.equal(heap.realloc(a, MAX_PAYLOAD), 0);
		assert.equal(heap.realloc(a, 2 ** 32), 0);
		assert.equal(heap.realloc(a, Number.MAX_SAFE_INTEGER), 0);
		assert.deepEqual(regionBytes(heap), snap);
		assert.equal(heap.usableSize(a), 100);
		assertStamp(heap, a, 1, 100);
		heap.free(a);
		sound(heap);
	});

	test('realloc(0, n) is malloc(n)', () => {
		const heap = fresh();
		const p = heap.realloc(0, 40);
		assert.notEqual(p, 0);
		assert.equal(p % 8, 0);
		assert.equal(heap.usableSize(p), 44);
		assert.equal(heap.stats().liveBlocks, 1);
		assert.equal(heap.realloc(0, 2 ** 32), 0);
		sound(heap);
	});

	test('realloc(p, 0) shrinks to the minimum block, returns p and does NOT free it', () => {
		const heap = fresh();
		const p = heap.malloc(100);
		stamp(heap, p, 3);
		assert.equal(heap.realloc(p, 0), p);
		assert.equal(heap.usableSize(p), 12);
		assertStamp(heap, p, 3, 12);
		assert.equal(heap.stats().liveBlocks, 1);
		heap.free(p); // still live, so this is no double free
		assert.equal(heap.stats().liveBlocks, 0);
		sound(heap);
	});
});

describe('calloc', () => {
	test('zeroes reused memory', () => {
		const heap = fresh();
		const p = heap.malloc(64);
		heap.malloc(8);
		heap._u8.fill(0xff, p, p + 68);
		heap.free(p);
		const q = heap.calloc(8, 8);
		assert.equal(q, p, 'the same block is reused');
		for (let i = 0; i < 64; i++) assert.equal(heap._u8[q + i], 0, `byte ${i}`);
		sound(heap);
	});

	test('count × size bytes are allocated', () => {
		const heap = fresh();
		const p = heap.calloc(10, 12);
		assert.ok(heap.usableSize(p) >= 120);
		assert.notEqual(heap.calloc(0, 5), 0);
		assert.notEqual(heap.calloc(5, 0), 0);
	});

	test('returns 0 on count × size overflow or when too big, heap unchanged', () => {
		const heap = fresh();
		heap.malloc(10);
		const snap = regionBytes(heap);
		assert.equal(heap.calloc(2 ** 16, 2 ** 16), 0, '2^32');
		assert.equal(heap.calloc(2 ** 26, 2 ** 26), 0, '2^52');
		assert.equal(heap.calloc(2 ** 30, 2 ** 30), 0, '2^60: not a safe integer product');
		assert.equal(heap.calloc(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), 0);
		assert.equal(heap.calloc(1, MAX_PAYLOAD + 1), 0);
		assert.equal(heap.calloc(3, 2 ** 31), 0);
		assert.equal(heap.calloc(1, heap.stats().largestAllocatable + 1), 0);
		assert.deepEqual(regionBytes(heap), snap);
	});
});

describe('alignedAlloc', () => {
	for (let align = 16; align <= 65536; align *= 2) {
		test(`align ${align}: aligned pointer, front padding returned to the free lists`, () => {
			const heap = fresh(1 << 18);
			heap.malloc(4); // so the first free block is not already well aligned
			const s0 = heap.stats();
			const p = heap.alignedAlloc(align, 100);
			assert.notEqual(p, 0);
			assert.equal(p % align, 0, `${p} % ${align}`);
			assert.ok(heap.usableSize(p) >= 100);
			const s1 = heap.stats();
			const info = blockAt(heap, p);
			assert.ok(info !== undefined);
			assert.equal(info.aligned, true);
			// An aligned block keeps its alignment in a 4-byte trailer: 100 + 4 payload bytes.
			assert.equal(info.size, L.blockSizeFor(100 + L.ALIGN_TRAILER_BYTES));
			assert.equal(heap.usableSize(p), info.size - L.HEADER_BYTES - L.ALIGN_TRAILER_BYTES);
			// Only the block itself left the free bytes: padding and tail are free again.
			assert.equal(s1.freeBytes, s0.freeBytes - info.size);
			assert.equal(s1.usedBytes, s0.usedBytes + info.size - L.HEADER_BYTES);
			const firstFree = heap._payloadBase + 16;
			const before = blocks(heap).filter((b) => b.block < p - 4);
			const padding = before[before.length - 1];
			if (firstFree % align !== 0) {
				assert.equal(padding.free, true, 'the front padding is a free block');
				assert.equal(padding.ptr, firstFree);
				assert.equal(padding.block + padding.size, p - 4, 'the padding ends at the aligned block');
				assert.ok(padding.size >= L.MIN_BLOCK);
				assert.equal(s1.freeBlocks, 2, 'padding + tail');
			} else {
				assert.equal(p, firstFree);
			}
			assert.equal(s1.freeBlocks, freeBlocks(heap).length);
			sound(heap);
			heap.free(p);
			assert.equal(heap.stats().freeBytes, s0.freeBytes);
			assert.equal(heap.stats().freeBlocks, 1);
			sound(heap);
		});
	}

	test('the align trailer (last word of an aligned block) holds the alignment, through in-place realloc', () => {
		const heap = fresh(1 << 17);
		const trailer = (p: number) => {
			const size = blockAt(heap, p)?.size ?? 0;
			return heap._m[(p - 4 + size - 4) >>> 2];
		};
		const p = heap.alignedAlloc(256, 100);
		assert.equal(trailer(p), 256);
		stamp(heap, p, 9);
		assert.equal(heap.realloc(p, 20), p, 'shrink in place');
		assert.equal(trailer(p), 256);
		assertStamp(heap, p, 9, 20);
		assert.equal(heap.realloc(p, 300), p, 'grow in place into the free tail');
		assert.equal(trailer(p), 256);
		assertStamp(heap, p, 9, 20);
		assert.equal(heap.usableSize(p), (blockAt(heap, p)?.size ?? 0) - 8);
		sound(heap);
	});

	test('alignments 1, 2, 4, 8 behave like malloc', () => {
		const heap = fresh();
		for (const a of [1, 2, 4, 8]) {
			const p = heap.alignedAlloc(a, 20);
			assert.equal(p % 8, 0);
			assert.equal(blockAt(heap, p)?.aligned, false);
		}
		sound(heap);
	});

	test('many aligned blocks live at once on a fragmented heap; freeing all restores one block', () => {
		const heap = fresh(1 << 18);
		const { freeBytes } = heap.stats();
		const ptrs: number[] = [];
		for (let i = 0; i < 60; i++) {
			ptrs.push(heap.malloc(8 + ((i * 37) % 200)));
			const align = 16 << i % 9;
			const p = heap.alignedAlloc(align, 1 + ((i * 53) % 300));
			assert.notEqual(p, 0);
			assert.equal(p % align, 0);
			ptrs.push(p);
			if (i % 3 === 0) heap.free(ptrs.splice((i * 7) % ptrs.length, 1)[0]);
		}
		sound(heap);
		for (const p of ptrs) heap.free(p);
		assert.deepEqual(
			[heap.stats().freeBytes, heap.stats().freeBlocks, heap.stats().usedBytes],
			[freeBytes, 1, 0],
		);
		sound(heap);
	});

	test('returns 0 when the aligned block cannot fit; heap unchanged', () => {
		const heap = fresh(1 << 14);
		const snap = regionBytes(heap);
		assert.equal(heap.alignedAlloc(1 << 16, 8), 0);
		assert.equal(heap.alignedAlloc(16, 1 << 14), 0);
		assert.equal(heap.alignedAlloc(16, 2 ** 32), 0);
		assert.equal(heap.alignedAlloc(2 ** 31, 8), 0);
		assert.deepEqual(regionBytes(heap), snap);
	});

	test('realloc of an alignedAlloc block keeps its alignment when it moves', () => {
		for (const align of [16, 64, 256, 4096]) {
			const heap = fresh(1 << 17);
			heap.malloc(4);
			const p = heap.alignedAlloc(align, 40);
			stamp(heap, p, 6);
			// Make sure the block after p is allocated, so growing must move.
			const next = () => blocks(heap).find((b) => b.block === p - 4 + (blockAt(heap, p)?.size ?? 0));
			for (let i = 0; next()?.free && i < 1000; i++) heap.malloc(8);
			assert.equal(next()?.free, false);
			const q = heap.realloc(p, 3000);
			assert.notEqual(q, p, 'moved');
			assert.equal(q % align, 0, `align ${align}: ${q}`);
			assertStamp(heap, q, 6, 40);
			assert.equal(blockAt(heap, q)?.aligned, true);
			// and again, shrinking in place then growing in place
			assert.equal(heap.realloc(q, 10), q);
			sound(heap);
		}
	});
});

describe('whole-heap behaviour', () => {
	test('the whole region is allocatable again after freeing everything', () => {
		const heap = fresh(1 << 16);
		const { largestAllocatable, freeBytes } = heap.stats();
		const rand = lcgBelow(1);
		const live: number[] = [];
		for (let i = 0; i < 2000; i++) {
			const r = rand(10);
			if (r < 5 || live.length === 0) {
				const p = r === 0 ? heap.alignedAlloc(32 << rand(4), rand(200)) : heap.malloc(rand(400));
				if (p !== 0) live.push(p);
			} else if (r < 8) {
				heap.free(live.splice(rand(live.length), 1)[0]);
			} else {
				const i2 = rand(live.length);
				const q = heap.realloc(live[i2], rand(600));
				if (q !== 0) live[i2] = q;
			}
		}
		sound(heap);
		while (live.length > 0) heap.free(live.splice(rand(live.length), 1)[0]);
		sound(heap);
		const s = heap.stats();
		assert.deepEqual([s.freeBytes, s.freeBlocks, s.liveBlocks, s.usedBytes], [freeBytes, 1, 0, 0]);
		assert.equal(heap.malloc(largestAllocatable + 1), 0);
		const p = heap.malloc(largestAllocatable);
		assert.notEqual(p, 0);
		assert.equal(heap.stats().freeBytes, 0);
		assert.equal(heap.malloc(0), 0, 'nothing left at all');
		heap.free(p);
		sound(heap);
	});

	test('filling the heap with minimum blocks uses every byte', () => {
		const heap = fresh(1 << 14);
		const { freeBytes } = heap.stats();
		let n = 0;
		while (heap.malloc(0) !== 0) n++;
		assert.equal(n, freeBytes / 16);
		assert.equal(heap.stats().freeBytes, 0);
		sound(heap);
	});
});
