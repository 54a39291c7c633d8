/**
 * Unit tests for src/freelist.ts (segregated lists + two-level bitmaps) and
 * src/bitmap.ts (the payload-start bitmap), on raw memory with no Heap.
 *
 * Free-list code only touches the tables and each block's header, next and
 * prev words, so blocks here sit 16 bytes apart whatever their size.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { countMarked, granuleOf, isMarked, mark, unmark } from '../src/bitmap.js';
import { EXACT_LIST_SCAN, findFree, firstNonEmpty, insertFree, listHead, removeFree } from '../src/freelist.js';
import { layout as L } from '../src/index.js';
import { LIST_COUNT, mappingInsert } from '../src/sizeclass.js';
import { lcgBelow } from './support/rng.js';

/** Root at word ROOT (not 0, so a table written at the wrong base shows). */
const ROOT = 6;

interface Mem {
	m: Uint32Array;
	/** Places a block header of `size` (F set) at the next free slot; returns its address. */
	block(size: number): number;
}

function mem(): Mem {
	const tableEnd = (ROOT + L.TABLE_END_WORDS) * 4;
	const m = new Uint32Array((tableEnd + 16 * 256) / 4);
	let next = tableEnd + 4; // ≡ 4 (mod 8) like real headers
	return {
		m,
		block(size: number) {
			const b = next;
			next += 16;
			m[b >>> 2] = size | L.FREE;
			return b;
		},
	};
}

const next = (m: Uint32Array, b: number) => m[(b + L.BLOCK_NEXT_FREE) >>> 2];
const prev = (m: Uint32Array, b: number) => m[(b + L.BLOCK_PREV_FREE) >>> 2];
const flMap = (m: Uint32Array) => m[ROOT + L.T_FL_BITMAP];
const slMap = (m: Uint32Array, fl: number) => m[ROOT + L.T_SL_BITMAP + fl];

/** The blocks of list `li`, head first, following next links (and checking prev links). */
function listOf(m: Uint32Array, li: number): number[] {
	const out: number[] = [];
	let p = 0;
	for (let b = listHead(m, ROOT, li); b !== 0; b = next(m, b)) {
		assert.equal(prev(m, b), p, `prev link of ${b}`);
		out.push(b);
		p = b;
		assert.ok(out.length < 1000, 'cycle');
	}
	return out;
}

/** The bitmaps agree with the lists (the iff rules of freelist.ts). */
function assertBitmapsMatch(m: Uint32Array): void {
	for (let fl = 0; fl < L.FL_COUNT; fl++) {
		for (let sl = 0; sl < L.SL_COUNT; sl++) {
			const nonEmpty = listHead(m, ROOT, (fl << L.SL_BITS) | sl) !== 0;
			assert.equal(((slMap(m, fl) >>> sl) & 1) === 1, nonEmpty, `SL bit (${fl}, ${sl})`);
		}
		assert.equal(((flMap(m) >>> fl) & 1) === 1, slMap(m, fl) !== 0, `FL bit ${fl}`);
	}
}

describe('insertFree / removeFree', () => {
	test('insert into an empty list sets head, SL bit and FL bit; links are 0', () => {
		const { m, block } = mem();
		const b = block(48);
		insertFree(m, ROOT, b, 48);
		const li = mappingInsert(48);
		assert.equal(listHead(m, ROOT, li), b);
		assert.equal(next(m, b), 0);
		assert.equal(prev(m, b), 0);
		assert.equal(flMap(m), 1 << 0);
		assert.equal(slMap(m, 0), 1 << li);
		assertBitmapsMatch(m);
		// Nothing below the root's tables was written.
		for (let w = 0; w < ROOT; w++) assert.equal(m[w], 0);
	});

	test('lists are LIFO and doubly linked', () => {
		const { m, block } = mem();
		const bs = [block(64), block(64), block(64)];
		for (const b of bs) insertFree(m, ROOT, b, 64);
		assert.deepEqual(listOf(m, mappingInsert(64)), [bs[2], bs[1], bs[0]]);
	});

	test('blocks of different sizes go to their own lists and levels', () => {
		const { m, block } = mem();
		const sizes = [16, 248, 256, 1000, 4096, 1 << 20, 2 ** 31 + 8, L.MAX_BLOCK];
		const bs = sizes.map((s) => {
			const b = block(s);
			insertFree(m, ROOT, b, s);
			return b;
		});
		sizes.forEach((s, i) => assert.deepEqual(listOf(m, mappingInsert(s)), [bs[i]], `size ${s}`));
		assertBitmapsMatch(m);
		assert.notEqual(flMap(m) >>> (L.FL_COUNT - 1), 0, 'the top level is used by MAX_BLOCK');
	});

	test('remove head, middle and tail keeps links consistent', () => {
		const { m, block } = mem();
		const bs = [block(80), block(80), block(80), block(80), block(80)];
		for (const b of bs) insertFree(m, ROOT, b, 80);
		const li = mappingInsert(80);
		removeFree(m, ROOT, bs[2], 80); // middle
		assert.deepEqual(listOf(m, li), [bs[4], bs[3], bs[1], bs[0]]);
		removeFree(m, ROOT, bs[4], 80); // head
		assert.deepEqual(listOf(m, li), [bs[3], bs[1], bs[0]]);
		removeFree(m, ROOT, bs[0], 80); // tail
		assert.deepEqual(listOf(m, li), [bs[3], bs[1]]);
		assertBitmapsMatch(m);
	});

	test('the SL bit clears only when its list empties; the FL bit only when its level empties', () => {
		const { m, block } = mem();
		const a = block(512); // fl 2, sl 0
		const b = block(512);
		const c = block(768); // fl 2, sl 16
		insertFree(m, ROOT, a, 512);
		insertFree(m, ROOT, b, 512);
		insertFree(m, ROOT, c, 768);
		const fl = mappingInsert(512) >>> L.SL_BITS;
		assert.equal(fl, mappingInsert(768) >>> L.SL_BITS);
		removeFree(m, ROOT, a, 512);
		assert.equal(slMap(m, fl), (1 << 0) | (1 << 16));
		removeFree(m, ROOT, b, 512);
		assert.equal(slMap(m, fl), 1 << 16);
		assert.equal(flMap(m), 1 << fl);
		removeFree(m, ROOT, c, 768);
		assert.equal(slMap(m, fl), 0);
		assert.equal(flMap(m), 0);
		assertBitmapsMatch(m);
	});

	test('random inserts and removes keep every list and bitmap consistent', () => {
		const { m, block } = mem();
		const rand = lcgBelow(7);
		const sizes = [16, 24, 96, 256, 264, 520, 4096, 70000];
		const live: [number, number][] = [];
		for (let i = 0; i < 200; i++) {
			if (live.length > 0 && rand(3) === 0) {
				const [b, s] = live.splice(rand(live.length), 1)[0];
				removeFree(m, ROOT, b, s);
			} else if (live.length < 200) {
				const s = sizes[rand(sizes.length)];
				const b = block(s);
				insertFree(m, ROOT, b, s);
				live.push([b, s]);
			}
		}
		assertBitmapsMatch(m);
		let total = 0;
		for (let li = 0; li < LIST_COUNT; li++) {
			for (const b of listOf(m, li)) {
				assert.equal(mappingInsert(m[b >>> 2] & L.SIZE_MASK), li);
				total++;
			}
		}
		assert.equal(total, live.length);
	});
});

describe('firstNonEmpty / findFree', () => {
	test('firstNonEmpty finds the next non-empty list at or after li, across levels', () => {
		const { m, block } = mem();
		const a = block(40);
		const b = block(4096);
		insertFree(m, ROOT, a, 40);
		insertFree(m, ROOT, b, 4096);
		assert.equal(firstNonEmpty(m, ROOT, 0), a);
		assert.equal(firstNonEmpty(m, ROOT, mappingInsert(40)), a);
		assert.equal(firstNonEmpty(m, ROOT, mappingInsert(40) + 1), b);
		assert.equal(firstNonEmpty(m, ROOT, mappingInsert(4096)), b);
		assert.equal(firstNonEmpty(m, ROOT, mappingInsert(4096) + 1), 0);
		assert.equal(firstNonEmpty(m, ROOT, LIST_COUNT), 0);
		assert.equal(firstNonEmpty(m, ROOT, LIST_COUNT + 5), 0);
	});

	test('small requests: exact class first, else the next larger list; 0 when nothing fits', () => {
		const { m, block } = mem();
		const a = block(32);
		const b = block(200);
		insertFree(m, ROOT, a, 32);
		insertFree(m, ROOT, b, 200);
		assert.equal(findFree(m, ROOT, 16), a);
		assert.equal(findFree(m, ROOT, 32), a);
		assert.equal(findFree(m, ROOT, 40), b);
		assert.equal(findFree(m, ROOT, 200), b);
		assert.equal(findFree(m, ROOT, 208), 0);
		// findFree does not unlink.
		assert.equal(listHead(m, ROOT, mappingInsert(32)), a);
	});

	test('never returns a block smaller than the request', () => {
		const { m, block } = mem();
		// List of 512..527 holds 512 and 520; a request of 520 must not get 512.
		const small = block(512);
		insertFree(m, ROOT, small, 512);
		assert.equal(findFree(m, ROOT, 520), 0);
		const fit = block(520);
		insertFree(m, ROOT, fit, 520);
		insertFree(m, ROOT, block(512), 512); // the head is now too small again
		assert.equal(findFree(m, ROOT, 520), fit);
	});

	test('good fit: a fitting block of the own list beats a larger list', () => {
		const { m, block } = mem();
		const big = block(8192);
		insertFree(m, ROOT, big, 8192);
		insertFree(m, ROOT, block(992), 992); // list of 992..1007
		const own = block(1000);
		insertFree(m, ROOT, own, 1000);
		insertFree(m, ROOT, block(992), 992); // the head does not fit 1000
		assert.equal(mappingInsert(992), mappingInsert(1000));
		assert.equal(findFree(m, ROOT, 1000), own);
		assert.equal(findFree(m, ROOT, 1008), big, 'own list of 1008 is empty');
	});

	test(`a fitting block deeper than EXACT_LIST_SCAN (${EXACT_LIST_SCAN}) in the own list is still found when nothing else fits`, () => {
		const { m, block } = mem();
		const fit = block(1000);
		insertFree(m, ROOT, fit, 1000);
		for (let i = 0; i < EXACT_LIST_SCAN + 3; i++) insertFree(m, ROOT, block(992), 992);
		assert.equal(mappingInsert(992), mappingInsert(1000));
		assert.equal(findFree(m, ROOT, 1000), fit);
		assert.equal(findFree(m, ROOT, 1008), 0);
	});

	test('the largest block is found for a request of exactly its size', () => {
		const { m, block } = mem();
		for (const s of [L.MAX_BLOCK, 2 ** 31 + 8, 123456]) {
			const b = block(s);
			insertFree(m, ROOT, b, s);
			assert.equal(findFree(m, ROOT, s), b, `size ${s}`);
			removeFree(m, ROOT, b, s);
		}
	});
});

describe('payload-start bitmap', () => {
	const BASE = 1004 + 4; // first payload address

	test('granuleOf counts 8-byte steps from the first payload', () => {
		assert.equal(granuleOf(BASE, BASE), 0);
		assert.equal(granuleOf(BASE, BASE + 8), 1);
		assert.equal(granuleOf(BASE, BASE + 8 * 1000), 1000);
	});

	test('mark / isMarked / unmark touch exactly one bit, across word boundaries', () => {
		const m = new Uint32Array(64);
		const W = 3; // bitmap starts at word 3
		for (const g of [0, 1, 30, 31, 32, 33, 63, 64, 500]) {
			mark(m, W, g);
			for (let h = 0; h < 600; h++) assert.equal(isMarked(m, W, h), h === g, `after mark(${g}), bit ${h}`);
			assert.equal(countMarked(m, W, 61), 1);
			unmark(m, W, g);
			assert.equal(isMarked(m, W, g), false);
			assert.equal(countMarked(m, W, 61), 0);
		}
		assert.deepEqual([...m], new Array(64).fill(0), 'all clear again, nothing outside written');
	});

	test('mark and unmark are idempotent; countMarked counts set bits', () => {
		const m = new Uint32Array(8);
		mark(m, 0, 5);
		mark(m, 0, 5);
		mark(m, 0, 31);
		mark(m, 0, 100);
		assert.equal(countMarked(m, 0, 8), 3);
		assert.equal(countMarked(m, 0, 1), 2, 'only the first word');
		unmark(m, 0, 5);
		unmark(m, 0, 5);
		assert.equal(countMarked(m, 0, 8), 2);
		assert.equal(isMarked(m, 0, 31), true);
		assert.equal(m[0] >>> 0, 0x8000_0000);
	});
});
