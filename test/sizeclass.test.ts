/**
 * Unit tests for src/sizeclass.ts: mappingInsert / mappingSearch /
 * listMinSize, checked against the list ranges drawn in the file comment.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { layout as L } from '../src/index.js';
import { LIST_COUNT, listMinSize, mappingInsert, mappingSearch } from '../src/sizeclass.js';
import { mulberry32 as rng } from './support/rng.js';

/** Block sizes to test: every small one, dense boundaries, and random large ones. */
function sampleSizes(): number[] {
	const out = new Set<number>();
	for (let s = 16; s <= 8192; s += 8) out.add(s);
	for (let lg = 8; lg < 32; lg++) {
		for (const d of [-16, -8, 0, 8, 16]) {
			const s = 2 ** lg + d;
			if (s >= 16 && s <= L.MAX_BLOCK) out.add(s);
		}
	}
	const r = rng(42);
	for (let i = 0; i < 3000; i++) {
		const lg = 4 + Math.floor(r() * 28);
		const s = Math.floor((2 ** lg * (1 + r())) / 8) * 8;
		if (s >= 16 && s <= L.MAX_BLOCK) out.add(s);
	}
	out.add(L.MAX_BLOCK);
	return [...out].sort((a, b) => a - b);
}

const SIZES = sampleSizes();

describe('list numbering', () => {
	test('LIST_COUNT = FL_COUNT × SL_COUNT', () => {
		assert.equal(LIST_COUNT, L.FL_COUNT * L.SL_COUNT);
		assert.equal(LIST_COUNT, 800);
	});

	test('listMinSize is strictly increasing over all lists', () => {
		for (let li = 1; li < LIST_COUNT; li++) {
			assert.ok(listMinSize(li) > listMinSize(li - 1), `list ${li}`);
		}
		assert.equal(listMinSize(0), 0);
		assert.equal(listMinSize(L.SL_COUNT), L.SMALL_BLOCK);
		assert.ok(listMinSize(LIST_COUNT - 1) <= L.MAX_BLOCK);
	});

	test('each first level ≥ 1 splits [2^lg, 2^(lg+1)) into SL_COUNT equal steps', () => {
		for (let fl = 1; fl < L.FL_COUNT; fl++) {
			const lg = fl + L.FL_SHIFT;
			for (let sl = 0; sl < L.SL_COUNT; sl++) {
				const li = (fl << L.SL_BITS) | sl;
				assert.equal(listMinSize(li), 2 ** lg + sl * 2 ** (lg - L.SL_BITS), `(${fl}, ${sl})`);
			}
		}
	});
});

describe('mappingInsert', () => {
	test('small sizes get exact classes: list = size / 8', () => {
		for (let s = 0; s < L.SMALL_BLOCK; s += 8) assert.equal(mappingInsert(s), s / 8);
		assert.equal(mappingInsert(248), 31);
	});

	test('known boundary values', () => {
		assert.equal(mappingInsert(256), 32);
		assert.equal(mappingInsert(264), 33);
		assert.equal(mappingInsert(504), 63);
		assert.equal(mappingInsert(512), 64);
		assert.equal(mappingInsert(512 + 15), 64, 'fl 2 steps are 16 bytes');
		assert.equal(mappingInsert(512 + 16), 65);
		assert.equal(mappingInsert(2 ** 31), 24 << L.SL_BITS);
		assert.equal(mappingInsert(L.MAX_BLOCK), LIST_COUNT - 1);
	});

	test('a size lies inside the range of the list it is filed in', () => {
		for (const s of SIZES) {
			const li = mappingInsert(s);
			assert.ok(li >= 0 && li < LIST_COUNT, `size ${s} → list ${li}`);
			assert.ok(listMinSize(li) <= s, `size ${s} ≥ min of list ${li}`);
			if (li + 1 < LIST_COUNT) assert.ok(s < listMinSize(li + 1), `size ${s} < min of list ${li + 1}`);
		}
	});

	test('is monotonic in the size', () => {
		for (let i = 1; i < SIZES.length; i++) {
			assert.ok(mappingInsert(SIZES[i]) >= mappingInsert(SIZES[i - 1]), `${SIZES[i - 1]} → ${SIZES[i]}`);
		}
	});

	test('round trip: the minimum size of a list is filed in that list', () => {
		for (let li = 0; li < LIST_COUNT; li++) assert.equal(mappingInsert(listMinSize(li)), li);
	});
});

describe('mappingSearch', () => {
	test('small sizes search their own exact class', () => {
		for (let s = 16; s < L.SMALL_BLOCK; s += 8) assert.equal(mappingSearch(s), s / 8);
	});

	test('returns the FIRST list all of whose blocks fit the size', () => {
		for (const s of SIZES) {
			const li = mappingSearch(s);
			if (li === LIST_COUNT) {
				assert.ok(listMinSize(LIST_COUNT - 1) < s, `size ${s}: some list could hold it`);
				continue;
			}
			assert.ok(listMinSize(li) >= s, `every block of list ${li} is ≥ ${s}`);
			assert.ok(li === 0 || listMinSize(li - 1) < s, `list ${li - 1} would also fit ${s}`);
		}
	});

	test('a size on a list boundary searches its own list; one byte above goes to the next', () => {
		assert.equal(mappingSearch(256), 32);
		assert.equal(mappingSearch(512), 64);
		assert.equal(mappingSearch(520), 65, 'list 64 holds 512..527, so 520 needs list 65');
		assert.equal(mappingSearch(528), 65);
		assert.equal(mappingSearch(2 ** 20), mappingInsert(2 ** 20));
		assert.equal(mappingSearch(2 ** 20 + 8), mappingInsert(2 ** 20) + 1);
	});

	test('sizes too large for any list give LIST_COUNT', () => {
		assert.equal(mappingSearch(L.MAX_BLOCK), LIST_COUNT);
		assert.equal(mappingSearch(listMinSize(LIST_COUNT - 1)), LIST_COUNT - 1);
		assert.equal(mappingSearch(listMinSize(LIST_COUNT - 1) + 8), LIST_COUNT);
	});

	test('mappingSearch ≥ mappingInsert, by at most one list', () => {
		for (const s of SIZES) {
			const d = mappingSearch(s) - mappingInsert(s);
			assert.ok(d === 0 || d === 1, `size ${s}`);
		}
	});
});
