/**
 * Misuse tests (the `test-wrong` layer): double frees, bad pointers, bad
 * sizes and alignments, foreign pointers. Every case asserts the typed error
 * AND that the heap is exactly as before the call: the region's bytes are
 * identical, the bytes around the region too, check() is [] and every other
 * live block still holds its stamp.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap, HeapError, Layout } from '../src/index.js';
import type { HeapErrorCode, PointerReason } from '../src/index.js';
import { caught } from './support/errors.js';
import { POINTER_OPS } from './support/pointer-ops.js';
import { assertBytesUnchanged, assertStamp, regionBytes, snapshot, stamp } from './support/bytes.js';

const OFFSET = 4096;
const LENGTH = 1 << 15;

/**
 * A heap at [4096, 36864) of a 64 KiB buffer, with six adjacent stamped
 * 64-byte blocks p[0..5] and the free tail after them.
 */
function fixture(debug: 0 | 2) {
	const buffer = new ArrayBuffer(1 << 16);
	new Uint8Array(buffer).fill(0x5a);
	const heap = new Heap({ buffer, offset: OFFSET, length: LENGTH, debug });
	const p = Array.from({ length: 6 }, () => heap.malloc(60));
	const live = new Map<number, number>(); // ptr → seed
	p.forEach((ptr, i) => {
		stamp(heap, ptr, i + 1, 60);
		live.set(ptr, i + 1);
	});
	const release = (...idx: number[]) => {
		for (const i of idx) {
			heap.free(p[i]);
			live.delete(p[i]);
		}
	};
	return { buffer, heap, p, live, release };
}
type Fx = ReturnType<typeof fixture>;

/** A whole-buffer snapshot (the region and the bytes around it), stats and live stamps, compared after the bad call. */
function assertUnchanged(fx: Fx, bad: () => unknown): unknown {
	const { heap } = fx;
	const whole = snapshot(heap);
	const stats = heap.stats();
	const err = caught(bad);
	assertBytesUnchanged(heap, whole, `the bad call changed the buffer (region [${heap.regionStart}, ${heap.regionEnd}))`);
	assert.deepEqual(heap.check(), []);
	assert.deepEqual(heap.stats(), stats);
	for (const [ptr, seed] of fx.live) {
		assertStamp(heap, ptr, seed, 60);
		assert.equal(heap.usableSize(ptr), 60, `block ${ptr} is still live`);
	}
	return err;
}

/** The bad call throws HeapError `code` (one of `code` when a list) with `reason`, heap unchanged. */
function rejects(fx: Fx, bad: () => unknown, code: HeapErrorCode | HeapErrorCode[], reason?: PointerReason): HeapError {
	const err = assertUnchanged(fx, bad);
	assert.ok(err instanceof HeapError, `expected HeapError ${String(code)}, got ${String(err)}`);
	const codes = Array.isArray(code) ? code : [code];
	assert.ok(codes.includes(err.code), `code ${err.code}, expected ${codes.join(' or ')}: ${err.message}`);
	if (reason !== undefined) assert.equal(err.reason, reason, err.message);
	assert.equal(err.name, 'HeapError');
	assert.ok(err.message.startsWith(`${err.op}: `), 'the message names the function');
	return err;
}

// ─── the pointer-taking operations ──────────────────────────────────────

const OPS = POINTER_OPS;

type PtrCase = [name: string, setup: (fx: Fx) => unknown, code: HeapErrorCode | HeapErrorCode[], reason?: PointerReason];

const POINTER_CASES: PtrCase[] = [
	// double free
	['double free', (fx) => (fx.release(1), fx.p[1]), 'DOUBLE_FREE', 'freed'],
	['double free after merging into the left neighbour', (fx) => (fx.release(1, 2), fx.p[2]), 'DOUBLE_FREE', 'freed'],
	['double free of the head of a merged block', (fx) => (fx.release(1, 2), fx.p[1]), 'DOUBLE_FREE', 'freed'],
	['double free after the right neighbour merged into it', (fx) => (fx.release(2, 1), fx.p[2]), 'DOUBLE_FREE', 'freed'],
	['double free after merging on both sides', (fx) => (fx.release(1, 3, 2), fx.p[2]), 'DOUBLE_FREE', 'freed'],
	['double free after merging with the free tail', (fx) => (fx.release(5), fx.p[5]), 'DOUBLE_FREE', 'freed'],
	['double free after everything merged into one block', (fx) => (fx.release(0, 2, 4, 1, 5, 3), fx.p[3]), 'DOUBLE_FREE', 'freed'],
	[
		'double free after the merged block was reused by a larger malloc',
		(fx) => {
			fx.release(1, 2);
			const q = fx.heap.malloc(100);
			assert.equal(q, fx.p[1], 'the merged block was reused');
			return fx.p[2];
		},
		['DOUBLE_FREE', 'INVALID_POINTER'],
	],
	[
		'the old pointer after realloc slid the block back into its free neighbour',
		(fx) => {
			fx.release(0);
			const q = fx.heap.realloc(fx.p[1], 100);
			assert.equal(q, fx.p[0], 'slid back');
			fx.live.delete(fx.p[1]);
			return fx.p[1];
		},
		['DOUBLE_FREE', 'INVALID_POINTER'],
	],
	[
		'the old pointer after realloc moved the block',
		(fx) => {
			const q = fx.heap.realloc(fx.p[1], 1000);
			assert.ok(q > fx.p[5], 'moved to the tail');
			fx.live.delete(fx.p[1]);
			return fx.p[1];
		},
		'DOUBLE_FREE',
		'freed',
	],
	// interior pointers
	['interior pointer ptr+8', (fx) => fx.p[1] + 8, 'INVALID_POINTER', 'not-block-start'],
	['interior pointer ptr+16', (fx) => fx.p[1] + 16, 'INVALID_POINTER', 'not-block-start'],
	['interior pointer in the last granule', (fx) => fx.p[1] + 56, 'INVALID_POINTER', 'not-block-start'],
	['interior pointer of a free block', (fx) => (fx.release(1), fx.p[1] + 8), 'INVALID_POINTER', 'not-block-start'],
	// misaligned
	['misaligned ptr+1', (fx) => fx.p[1] + 1, 'INVALID_POINTER', 'misaligned'],
	['misaligned ptr+4', (fx) => fx.p[1] + 4, 'INVALID_POINTER', 'misaligned'],
	['misaligned ptr+7', (fx) => fx.p[1] + 7, 'INVALID_POINTER', 'misaligned'],
	['the header address ptr−4', (fx) => fx.p[1] - 4, 'INVALID_POINTER', 'misaligned'],
	// out of range
	['beyond the region end', (fx) => fx.heap.regionEnd + 8, 'INVALID_POINTER', 'out-of-range'],
	['at the region end', (fx) => fx.heap.regionEnd, 'INVALID_POINTER', 'out-of-range'],
	['far beyond the buffer (2^31)', () => 2 ** 31, 'INVALID_POINTER', 'out-of-range'],
	['2^32', () => 2 ** 32, 'INVALID_POINTER', 'out-of-range'],
	['2^32 + the first pointer (wraps to it in u32)', (fx) => 2 ** 32 + fx.p[0], 'INVALID_POINTER', 'out-of-range'],
	['MAX_SAFE_INTEGER', () => Number.MAX_SAFE_INTEGER, 'INVALID_POINTER', 'out-of-range'],
	['below the first block', (fx) => fx.p[0] - 8, 'INVALID_POINTER', 'out-of-range'],
	['in the root', (fx) => fx.heap.regionStart + 8, 'INVALID_POINTER', 'out-of-range'],
	['the region start', (fx) => fx.heap.regionStart, 'INVALID_POINTER', 'out-of-range'],
	['below the region', () => 8, 'INVALID_POINTER', 'out-of-range'],
	// negative
	['negative −8', () => -8, 'INVALID_POINTER', 'negative'],
	['negative −1', () => -1, 'INVALID_POINTER', 'negative'],
	['negative −ptr', (fx) => -fx.p[1], 'INVALID_POINTER', 'negative'],
	// not an integer
	['NaN', () => Number.NaN, 'INVALID_POINTER', 'not-integer'],
	['Infinity', () => Number.POSITIVE_INFINITY, 'INVALID_POINTER', 'not-integer'],
	['-Infinity', () => Number.NEGATIVE_INFINITY, 'INVALID_POINTER', 'not-integer'],
	['fractional 1.5', () => 1.5, 'INVALID_POINTER', 'not-integer'],
	['fractional ptr+0.5', (fx) => fx.p[1] + 0.5, 'INVALID_POINTER', 'not-integer'],
	['the pointer as a string', (fx) => String(fx.p[1]), 'INVALID_POINTER', 'not-integer'],
	['undefined', () => undefined, 'INVALID_POINTER', 'not-integer'],
	['null', () => null, 'INVALID_POINTER', 'not-integer'],
	['an object', () => ({}), 'INVALID_POINTER', 'not-integer'],
	['an array holding the pointer', (fx) => [fx.p[1]], 'INVALID_POINTER', 'not-integer'],
	['true', () => true, 'INVALID_POINTER', 'not-integer'],
	['a BigInt (e.g. read from a BigUint64Array)', (fx) => BigInt(fx.p[1]), 'INVALID_POINTER', 'not-integer'],
	// foreign pointers
	[
		'a pointer from another heap in a different region of the same buffer',
		(fx) => {
			const other = new Heap({ buffer: fx.buffer, offset: OFFSET + LENGTH + 1024, length: 16_384 });
			const q = other.malloc(60);
			for (let k = 0; k < 60; k++) other._u8[q + k] = 0x77;
			return q;
		},
		'INVALID_POINTER',
		'out-of-range',
	],
	[
		'a pointer from a heap on another buffer',
		(fx) => {
			const other = new Heap({ buffer: new ArrayBuffer(1 << 16), offset: OFFSET, length: LENGTH });
			other.malloc(100);
			const q = other.malloc(8); // = payloadBase + 104, inside p[1] here
			assert.ok(q > fx.p[1] && q < fx.p[2]);
			return q;
		},
		'INVALID_POINTER',
		'not-block-start',
	],
];

for (const debug of [0, 2] as const) {
	describe(`pointer misuse (debug ${debug})`, () => {
		for (const [opName, op] of OPS) {
			describe(opName, () => {
				for (const [name, setup, code, reason] of POINTER_CASES) {
					test(`${name} → ${Array.isArray(code) ? code.join('|') : code}${reason ? ` (${reason})` : ''}`, () => {
						const fx = fixture(debug);
						const bad = setup(fx) as number;
						rejects(fx, () => op(fx.heap, bad), code, reason);
					});
				}
			});
		}
	});
}

describe('pointer errors name the function that was called', () => {
	for (const [opName, op] of OPS) {
		test(opName, () => {
			const fx = fixture(0);
			const err = rejects(fx, () => op(fx.heap, fx.p[1] + 8), 'INVALID_POINTER', 'not-block-start');
			assert.equal(err.op, opName);
			assert.equal(err.received, fx.p[1] + 8);
			fx.release(2);
			const df = rejects(fx, () => op(fx.heap, fx.p[2]), 'DOUBLE_FREE', 'freed');
			assert.equal(df.op, opName);
		});
	}
});

test('free(0) and realloc(0, n) are not misuse', () => {
	const fx = fixture(0);
	const err = assertUnchanged(fx, () => fx.heap.free(0));
	assert.equal(err, undefined);
	assert.notEqual(fx.heap.realloc(0, 8), 0);
});

test('a live pointer handed to a heap that shares the buffer but not the region is rejected by both sides', () => {
	const fx = fixture(0);
	const other = new Heap({ buffer: fx.buffer, offset: OFFSET + LENGTH, length: 20_000 });
	const q = other.malloc(60);
	const otherSnap = regionBytes(other);
	rejects(fx, () => fx.heap.free(q), 'INVALID_POINTER', 'out-of-range');
	assert.throws(() => other.free(fx.p[1]), { code: 'INVALID_POINTER', reason: 'out-of-range' });
	assert.deepEqual(regionBytes(other), otherSnap);
	assert.deepEqual(other.check(), []);
});

// ─── sizes ──────────────────────────────────────────────────────────────

const BAD_SIZES: [string, unknown][] = [
	['−1', -1],
	['1.5', 1.5],
	['NaN', Number.NaN],
	['Infinity', Number.POSITIVE_INFINITY],
	['2^53', 2 ** 53],
	["'8'", '8'],
	['8n (a BigInt)', 8n],
	['undefined', undefined],
];

const SIZED_OPS: [string, (fx: Fx, size: number) => unknown][] = [
	['malloc', (fx, n) => fx.heap.malloc(n)],
	['calloc(count)', (fx, n) => fx.heap.calloc(n, 8)],
	['calloc(size)', (fx, n) => fx.heap.calloc(8, n)],
	['realloc(ptr, size)', (fx, n) => fx.heap.realloc(fx.p[1], n)],
	['realloc(0, size)', (fx, n) => fx.heap.realloc(0, n)],
	['alignedAlloc', (fx, n) => fx.heap.alignedAlloc(64, n)],
	['allocArray', (fx, n) => fx.heap.allocArray('u32', n)],
	['view', (fx, n) => fx.heap.view(fx.p[1], 'u8', n)],
	['allocate(new Layout(size))', (fx, n) => fx.heap.allocate(new Layout(n))],
	['grow to new Layout(size)', (fx, n) => fx.heap.grow(fx.p[1], new Layout(8), new Layout(n))],
];

describe('invalid sizes → INVALID_SIZE, heap unchanged', () => {
	for (const [opName, op] of SIZED_OPS) {
		for (const [label, size] of BAD_SIZES) {
			test(`${opName}: ${label}`, () => {
				const fx = fixture(0);
				rejects(fx, () => op(fx, size as number), 'INVALID_SIZE');
			});
		}
	}
});

// ─── alignments ─────────────────────────────────────────────────────────

const BAD_ALIGNS: unknown[] = [0, 3, 24, -8, 2 ** 32, 1.5, Number.NaN, '16', 16n, 2 ** 31 + 8];

describe('invalid alignments → INVALID_ALIGN, heap unchanged', () => {
	for (const align of BAD_ALIGNS) {
		test(`alignedAlloc(${String(align)}, 8)`, () => {
			const fx = fixture(0);
			const err = rejects(fx, () => fx.heap.alignedAlloc(align as number, 8), 'INVALID_ALIGN');
			assert.equal(err.op, 'alignedAlloc');
		});
		test(`allocate(new Layout(8, ${String(align)}))`, () => {
			const fx = fixture(0);
			rejects(fx, () => fx.heap.allocate(new Layout(8, align as number)), 'INVALID_ALIGN');
		});
	}

	test('a bad alignment is reported even when the size is bad too', () => {
		const fx = fixture(0);
		rejects(fx, () => fx.heap.alignedAlloc(3, -1), 'INVALID_ALIGN');
	});
});

// ─── the Allocator API's own misuse ─────────────────────────────────────

describe('Allocator misuse, heap unchanged', () => {
	test('grow to a smaller size → INVALID_SIZE', () => {
		const fx = fixture(0);
		rejects(fx, () => fx.heap.grow(fx.p[1], new Layout(60), new Layout(8)), 'INVALID_SIZE');
		rejects(fx, () => fx.heap.growZeroed(fx.p[1], new Layout(60), new Layout(8)), 'INVALID_SIZE');
	});

	test('shrink to a larger size → INVALID_SIZE', () => {
		const fx = fixture(0);
		rejects(fx, () => fx.heap.shrink(fx.p[1], new Layout(8), new Layout(60)), 'INVALID_SIZE');
	});

	test('a layout larger than the block → LAYOUT_MISMATCH', () => {
		const fx = fixture(0);
		rejects(fx, () => fx.heap.deallocate(fx.p[1], new Layout(61)), 'LAYOUT_MISMATCH');
		rejects(fx, () => fx.heap.grow(fx.p[1], new Layout(61), new Layout(100)), 'LAYOUT_MISMATCH');
		rejects(fx, () => fx.heap.shrink(fx.p[1], new Layout(100), new Layout(8)), 'LAYOUT_MISMATCH');
	});

	test('an alignment the pointer does not have → LAYOUT_MISMATCH', () => {
		const fx = fixture(0);
		// p[0] and p[1] are 64 bytes apart, so one of them is not 128-aligned.
		const ptr = fx.p[0] % 128 !== 0 ? fx.p[0] : fx.p[1];
		assert.notEqual(ptr % 128, 0);
		rejects(fx, () => fx.heap.deallocate(ptr, new Layout(8, 128)), 'LAYOUT_MISMATCH');
		rejects(fx, () => fx.heap.grow(ptr, new Layout(8, 128), new Layout(100, 128)), 'LAYOUT_MISMATCH');
		rejects(fx, () => fx.heap.shrink(ptr, new Layout(8, 128), new Layout(4, 128)), 'LAYOUT_MISMATCH');
	});

	test('something that is not a Layout → HeapError', () => {
		const fx = fixture(0);
		const fake = { size: 8, align: 8 } as Layout;
		rejects(fx, () => fx.heap.allocate(fake), 'INVALID_SIZE');
		rejects(fx, () => fx.heap.deallocate(fx.p[1], fake), 'INVALID_SIZE');
		rejects(fx, () => fx.heap.grow(fx.p[1], new Layout(8), fake), 'INVALID_SIZE');
		rejects(fx, () => fx.heap.shrink(fx.p[1], fake, new Layout(4)), 'INVALID_SIZE');
		rejects(fx, () => fx.heap.allocate(undefined as unknown as Layout), 'INVALID_SIZE');
	});
});

describe('views misuse, heap unchanged', () => {
	test('freeArray of a foreign typed array → FOREIGN_BUFFER', () => {
		const fx = fixture(0);
		const other = new Heap({ buffer: new ArrayBuffer(1 << 16), offset: OFFSET, length: LENGTH });
		const theirs = other.allocArray('u8', 60);
		assert.ok(theirs !== null);
		assert.equal(theirs.byteOffset, fx.p[0], 'same address as a live block here');
		rejects(fx, () => fx.heap.freeArray(theirs), 'FOREIGN_BUFFER');
		rejects(fx, () => fx.heap.freeArray(new Uint8Array(8)), 'FOREIGN_BUFFER');
	});

	test('freeArray of a sub-array / a freed array', () => {
		const fx = fixture(0);
		const a = fx.heap.view(fx.p[1], 'u8', 60);
		rejects(fx, () => fx.heap.freeArray(a.subarray(16)), 'INVALID_POINTER', 'not-block-start');
		fx.release(1);
		rejects(fx, () => fx.heap.freeArray(a), 'DOUBLE_FREE', 'freed');
	});

	test('unknown array type → INVALID_TYPE', () => {
		const fx = fixture(0);
		rejects(fx, () => fx.heap.allocArray('u128' as 'u8', 4), 'INVALID_TYPE');
		rejects(fx, () => fx.heap.view(fx.p[1], 'hasOwnProperty' as 'u8', 4), 'INVALID_TYPE');
	});
});
