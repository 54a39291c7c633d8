/**
 * Unit tests for src/check.ts and the debug levels: check() is [] on sound
 * heaps and names the broken rule when bytes are corrupted on purpose;
 * debug levels 1, 2 and 3 throw CORRUPT_HEAP.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Layout, Heap, HeapError, layout as L } from '../src/index.js';
import { mappingInsert } from '../src/sizeclass.js';
import { regionBytes } from './support/bytes.js';
import { throwsCode } from './support/errors.js';
import { lcgBelow } from './support/rng.js';

/**
 * a(20) b(40) c(20) d(100) e(20) f(20), g aligned to 64, then the free
 * tail; b and d freed.
 * ```
 *  | a | b free | c (P) | d free | e (P) | f | (gap) g | tail free |END (P)|
 * ```
 */
function fixture(debug: 0 | 1 | 2 | 3 = 0) {
	const heap = new Heap({ buffer: new ArrayBuffer(1 << 16), offset: 256, length: 30_000, debug });
	const [a, b, c, d, e, f] = [20, 40, 20, 100, 20, 20].map((n) => heap.malloc(n));
	const g = heap.alignedAlloc(64, 20); // an ALIGNED block with its trailer
	heap.free(b);
	heap.free(d);
	const m = heap._m;
	const root = heap._root;
	const w = (ptr: number) => (ptr - 4) >>> 2; // header word of a payload
	const bitmap = (ptr: number) => ({
		word: heap._bitmapWord + ((ptr - heap._payloadBase) >>> 8),
		bit: 1 << (((ptr - heap._payloadBase) >>> 3) & 31),
	});
	/** Address of g's align trailer word. */
	const trailer = () => g - 4 + (m[w(g)] & L.SIZE_MASK) - 4;
	return { heap, m, root, a, b, c, d, e, f, g, w, bitmap, trailer };
}
type Fx = ReturnType<typeof fixture>;

function throwsCorrupt(fn: () => unknown, op?: string): HeapError {
	const err = throwsCode(fn, 'CORRUPT_HEAP');
	if (op !== undefined) assert.equal(err.op, op);
	return err;
}

describe('check() on sound heaps', () => {
	test('fresh heaps of several shapes', () => {
		for (const opts of [{ size: L.MIN_REGION }, { size: 1 << 16 }, { buffer: new ArrayBuffer(50_000), offset: 12_345, length: 20_001 }]) {
			assert.deepEqual(new Heap(opts).check(), []);
		}
	});

	test('the fixture and a long random workload', () => {
		const fx = fixture();
		assert.deepEqual(fx.heap.check(), []);
		const heap = new Heap({ size: 1 << 16 });
		const rand = lcgBelow(3);
		const live: number[] = [];
		for (let i = 0; i < 1500; i++) {
			const r = rand(10);
			if (r < 4 || live.length === 0) {
				const p = r === 0 ? heap.alignedAlloc(16 << rand(6), rand(300)) : heap.malloc(rand(500));
				if (p !== 0) live.push(p);
			} else if (r < 7) heap.free(live.splice(rand(live.length), 1)[0]);
			else {
				const k = rand(live.length);
				const q = heap.realloc(live[k], rand(800));
				if (q !== 0) live[k] = q;
			}
			if (i % 50 === 0) assert.deepEqual(heap.check(), [], `step ${i}`);
		}
		assert.deepEqual(heap.check(), []);
	});

	test('a full heap and an empty-again heap', () => {
		const heap = new Heap({ size: 1 << 14 });
		const ptrs: number[] = [];
		for (let p = heap.malloc(0); p !== 0; p = heap.malloc(0)) ptrs.push(p);
		assert.deepEqual(heap.check(), []);
		for (let i = 0; i < ptrs.length; i += 2) heap.free(ptrs[i]);
		assert.deepEqual(heap.check(), []);
		for (let i = 1; i < ptrs.length; i += 2) heap.free(ptrs[i]);
		assert.deepEqual(heap.check(), []);
	});
});

describe('check() detects deliberate corruption', () => {
	const cases: [string, (fx: Fx) => void, string, ((fx: Fx) => number)?][] = [
		['header size below 16', ({ m, a, w }) => (m[w(a)] = 8), 'walk', ({ a }) => a - 4],
		['header size past the sentinel', ({ m, a, w }) => (m[w(a)] = 0x00ff_fff8), 'walk', ({ a }) => a - 4],
		['header size off by 8 (walk lands inside a block)', ({ m, a, w }) => (m[w(a)] += 8), 'walk'],
		['header size 0 on a free block', ({ m, b, w }) => (m[w(b)] = L.FREE), 'walk'],
		['footer of a free block', ({ m, b }) => (m[(b - 4 + 48 - 4) >>> 2] += 8), 'footer', ({ b }) => b - 4],
		['P bit set on the first block', ({ m, a, w }) => (m[w(a)] |= L.PREV_FREE), 'prev-free', ({ a }) => a - 4],
		['P bit cleared after a free block', ({ m, c, w }) => (m[w(c)] &= ~L.PREV_FREE), 'prev-free', ({ c }) => c - 4],
		['P bit set after an allocated block', ({ m, f, w }) => (m[w(f)] |= L.PREV_FREE), 'prev-free', ({ f }) => f - 4],
		['sentinel P bit cleared (last block is free)', ({ m, heap }) => (m[heap._sentinel >>> 2] &= ~L.PREV_FREE), 'prev-free'],
		['sentinel F bit set', ({ m, heap }) => (m[heap._sentinel >>> 2] |= L.FREE), 'walk'],
		[
			'bitmap bit cleared on a live block',
			({ m, a, bitmap }) => {
				const x = bitmap(a);
				m[x.word] &= ~x.bit;
			},
			'bitmap',
			({ a }) => a - 4,
		],
		[
			'bitmap bit set on a free block',
			({ m, b, bitmap }) => {
				const x = bitmap(b);
				m[x.word] |= x.bit;
			},
			'bitmap',
			({ b }) => b - 4,
		],
		[
			'stray bitmap bit inside a payload',
			({ m, d, bitmap }) => {
				const x = bitmap(d + 16);
				m[x.word] |= x.bit;
			},
			'bitmap',
		],
		['free-list prev link of a list head', ({ m, a, b }) => (m[(b - 4 + L.BLOCK_PREV_FREE) >>> 2] = a - 4), 'lists', ({ b }) => b - 4],
		['free-list next link to an allocated block', ({ m, a, b }) => (m[(b - 4 + L.BLOCK_NEXT_FREE) >>> 2] = a - 4), 'lists'],
		['free-list next link to itself (cycle)', ({ m, b }) => (m[(b - 4 + L.BLOCK_NEXT_FREE) >>> 2] = b - 4), 'lists'],
		['free-list next link to a free block of another list', ({ m, b, d }) => (m[(b - 4 + L.BLOCK_NEXT_FREE) >>> 2] = d - 4), 'lists'],
		['list head moved to a block of another size', ({ m, root, d }) => (m[root + L.T_HEADS + mappingInsert(48)] = d - 4), 'lists'],
		['list head cleared: a free block in no list', ({ m, root }) => (m[root + L.T_HEADS + mappingInsert(48)] = 0), 'lists'],
		['list head cleared: SL bit without a list', ({ m, root }) => (m[root + L.T_HEADS + mappingInsert(48)] = 0), 'sl-bitmap'],
		['SL bitmap bit cleared', ({ m, root }) => (m[root + L.T_SL_BITMAP] &= ~(1 << mappingInsert(48))), 'sl-bitmap'],
		['SL bitmap bit set for an empty list', ({ m, root }) => (m[root + L.T_SL_BITMAP] |= 1 << 3), 'sl-bitmap'],
		['FL bitmap bit cleared', ({ m, root }) => (m[root + L.T_FL_BITMAP] &= ~1), 'fl-bitmap'],
		['FL bitmap bit set for an empty level', ({ m, root }) => (m[root + L.T_FL_BITMAP] |= 1 << 5), 'fl-bitmap'],
		['FL bitmap bit beyond FL_COUNT', ({ m, root }) => (m[root + L.T_FL_BITMAP] |= 1 << 30), 'fl-bitmap'],
		['A bit on a free block', ({ m, b, w }) => (m[w(b)] |= L.ALIGNED), 'aligned', ({ b }) => b - 4],
		['align trailer that is not a power of two', ({ m, trailer }) => (m[trailer() >>> 2] = 24), 'align-trailer', ({ g }) => g - 4],
		['align trailer that does not divide the pointer', ({ m, g, trailer }) => (m[trailer() >>> 2] = 2 * (g & -g)), 'align-trailer', ({ g }) => g - 4],
		['align trailer below 8', ({ m, trailer }) => (m[trailer() >>> 2] = 4), 'align-trailer', ({ g }) => g - 4],
		['A bit set on a plain block (its last word is payload)', ({ m, a, w }) => (m[w(a)] |= L.ALIGNED), 'align-trailer', ({ a }) => a - 4],
		['F bit on an allocated block next to a free one', ({ m, c, w }) => (m[w(c)] |= L.FREE), 'adjacent-free', ({ c }) => c - 4],
		['USED_BYTES counter', ({ m, root }) => (m[root + L.R_USED_BYTES] += 8), 'counters'],
		['FREE_BYTES counter', ({ m, root }) => (m[root + L.R_FREE_BYTES] -= 8), 'counters'],
		['LIVE_BLOCKS counter', ({ m, root }) => (m[root + L.R_LIVE_BLOCKS] += 1), 'counters'],
		['FREE_BLOCKS counter', ({ m, root }) => (m[root + L.R_FREE_BLOCKS] -= 1), 'counters'],
		['META_BYTES counter', ({ m, root }) => (m[root + L.R_META_BYTES] += 8), 'counters'],
		['PEAK_USED below USED_BYTES', ({ m, root }) => (m[root + L.R_PEAK_USED] = 0), 'counters'],
		['MAGIC word', ({ m, root }) => (m[root + L.R_MAGIC] ^= 1), 'root'],
		['VERSION word', ({ m, root }) => (m[root + L.R_VERSION] += 1), 'root'],
	];

	for (const [name, corrupt, rule, at] of cases) {
		test(`${name} → '${rule}'`, () => {
			const fx = fixture();
			assert.deepEqual(fx.heap.check(), [], 'sound before');
			corrupt(fx);
			const v = fx.heap.check();
			assert.ok(
				v.some((x) => x.rule === rule),
				`expected rule '${rule}', got ${JSON.stringify(v.map((x) => x.rule))}`,
			);
			if (at !== undefined) {
				const where = at(fx);
				assert.ok(
					v.some((x) => x.rule === rule && x.at === where),
					`expected '${rule}' at ${where}, got ${JSON.stringify(v)}`,
				);
			}
			for (const x of v) {
				assert.equal(typeof x.message, 'string');
				assert.ok(x.message.length > 0);
				assert.ok(Number.isInteger(x.at));
			}
		});
	}

	test('check() reports, it does not throw or change the heap', () => {
		const fx = fixture();
		fx.m[fx.w(fx.a)] = 0x00ff_fff8;
		fx.m[(fx.b - 4 + L.BLOCK_NEXT_FREE) >>> 2] = fx.b - 4;
		const snap = regionBytes(fx.heap);
		assert.ok(fx.heap.check().length >= 2);
		assert.deepEqual(regionBytes(fx.heap), snap);
	});
});

describe('debug levels throw CORRUPT_HEAP', () => {
	test('level 1: a live block whose header was overwritten (F set) — free, realloc, usableSize, heap unchanged', () => {
		for (const [op, call] of [
			['free', (fx: Fx) => fx.heap.free(fx.a)],
			['realloc', (fx: Fx) => fx.heap.realloc(fx.a, 100)],
			['usableSize', (fx: Fx) => fx.heap.usableSize(fx.a)],
		] as const) {
			const fx = fixture(1);
			fx.m[fx.w(fx.a)] |= L.FREE;
			const snap = regionBytes(fx.heap);
			throwsCorrupt(() => call(fx), op);
			assert.deepEqual(regionBytes(fx.heap), snap, `${op}: nothing written`);
		}
	});

	test('level 1: a live block with an impossible size', () => {
		for (const size of [8, 0x00ff_fff8]) {
			const fx = fixture(1);
			fx.m[fx.w(fx.c)] = size | L.PREV_FREE;
			const snap = regionBytes(fx.heap);
			throwsCorrupt(() => fx.heap.free(fx.c), 'free');
			throwsCorrupt(() => fx.heap.realloc(fx.c, 8), 'realloc');
			assert.deepEqual(regionBytes(fx.heap), snap);
		}
	});

	test('level 2: the next block says this one is free', () => {
		const fx = fixture(2);
		fx.m[fx.w(fx.f)] |= L.PREV_FREE;
		const snap = regionBytes(fx.heap);
		throwsCorrupt(() => fx.heap.free(fx.e), 'free');
		throwsCorrupt(() => fx.heap.realloc(fx.e, 300), 'realloc');
		assert.deepEqual(regionBytes(fx.heap), snap);
	});

	test('level 2: the previous free block disagrees with its footer', () => {
		const fx = fixture(2);
		fx.m[(fx.b - 4 + 48 - 4) >>> 2] = 40; // footer of b, read by c's P bit
		const snap = regionBytes(fx.heap);
		throwsCorrupt(() => fx.heap.free(fx.c), 'free');
		assert.deepEqual(regionBytes(fx.heap), snap);
	});

	test('level 2: the previous-free footer points before the first block', () => {
		const fx = fixture(2);
		fx.m[(fx.b - 4 + 48 - 4) >>> 2] = 1 << 20;
		throwsCorrupt(() => fx.heap.free(fx.c), 'free');
	});

	const level3: [string, (fx: Fx) => unknown][] = [
		['malloc', (fx) => fx.heap.malloc(8)],
		['calloc', (fx) => fx.heap.calloc(2, 8)],
		['alignedAlloc', (fx) => fx.heap.alignedAlloc(64, 8)],
		['free', (fx) => fx.heap.free(fx.a)],
		['realloc', (fx) => fx.heap.realloc(fx.a, 200)],
		['allocate', (fx) => fx.heap.allocate(new Layout(8))],
		['allocateZeroed', (fx) => fx.heap.allocateZeroed(new Layout(8))],
		['deallocate', (fx) => fx.heap.deallocate(fx.a, new Layout(8))],
		['grow', (fx) => fx.heap.grow(fx.a, new Layout(8), new Layout(300))],
		['growZeroed', (fx) => fx.heap.growZeroed(fx.a, new Layout(8), new Layout(300))],
		['shrink', (fx) => fx.heap.shrink(fx.a, new Layout(20), new Layout(4))],
		['allocArray', (fx) => fx.heap.allocArray('f64', 4)],
	];
	for (const [name, call] of level3) {
		test(`level 3: a full check after ${name} reports a corrupted counter`, () => {
			const fx = fixture(3);
			fx.m[fx.root + L.R_FREE_BLOCKS] += 1;
			throwsCorrupt(() => call(fx));
		});
	}

	test('level 3: a sound heap never throws', () => {
		const heap = new Heap({ size: 1 << 15, debug: 3 });
		const ptrs: number[] = [];
		for (let i = 0; i < 100; i++) {
			ptrs.push(heap.malloc(i * 7));
			if (i % 3 === 0) heap.free(ptrs.splice(i % ptrs.length, 1)[0]);
			if (i % 5 === 0) ptrs.push(heap.alignedAlloc(128, i));
			if (i % 7 === 0) ptrs[0] = heap.realloc(ptrs[0], i * 11);
		}
		const p = heap.allocate(new Layout(10, 32));
		const q = heap.grow(p, new Layout(10, 32), new Layout(400, 32));
		heap.deallocate(heap.shrink(q, new Layout(400, 32), new Layout(8, 32)), new Layout(8, 32));
		for (const x of ptrs) heap.free(x);
		assert.deepEqual(heap.check(), []);
	});

	test('level 0 does not pay for checks: the same corruption goes unnoticed by malloc', () => {
		const fx = fixture(0);
		fx.m[fx.root + L.R_FREE_BLOCKS] += 1;
		assert.notEqual(fx.heap.malloc(8), 0);
	});
});
