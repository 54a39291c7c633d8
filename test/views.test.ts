/**
 * Unit tests for src/views.ts: allocArray / view / freeArray.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap } from '../src/index.js';
import type { ArrayType } from '../src/index.js';
import { throwsCode } from './support/errors.js';
import { regionBytes } from './support/bytes.js';

const TYPES: [ArrayType, { new (n: number): ArrayBufferView; BYTES_PER_ELEMENT: number }, number | bigint][] = [
	['u8', Uint8Array, 200],
	['i8', Int8Array, -100],
	['u16', Uint16Array, 60_000],
	['i16', Int16Array, -30_000],
	['u32', Uint32Array, 4_000_000_000],
	['i32', Int32Array, -2_000_000_000],
	['f32', Float32Array, 1.5],
	['f64', Float64Array, Math.PI],
	['u64', BigUint64Array, 2n ** 64n - 3n],
	['i64', BigInt64Array, -(2n ** 62n) - 5n],
];

/** A heap whose free memory is dirty (0xff), so zeroing is observable. */
function dirtyHeap(): Heap {
	const heap = new Heap({ size: 1 << 16 });
	const p = heap.malloc(heap.stats().largestAllocatable);
	heap._u8.fill(0xff, p, p + heap.usableSize(p));
	heap.free(p);
	heap.malloc(2); // misalign the next free block start relative to large alignments
	return heap;
}

function read(heap: Heap, type: ArrayType, ptr: number): number | bigint {
	const dv = new DataView(heap.buffer);
	switch (type) {
		case 'u8':
			return dv.getUint8(ptr);
		case 'i8':
			return dv.getInt8(ptr);
		case 'u16':
			return dv.getUint16(ptr, true);
		case 'i16':
			return dv.getInt16(ptr, true);
		case 'u32':
			return dv.getUint32(ptr, true);
		case 'i32':
			return dv.getInt32(ptr, true);
		case 'f32':
			return dv.getFloat32(ptr, true);
		case 'f64':
			return dv.getFloat64(ptr, true);
		case 'u64':
			return dv.getBigUint64(ptr, true);
		case 'i64':
			return dv.getBigInt64(ptr, true);
	}
}

describe('allocArray', () => {
	for (const [type, Ctor, value] of TYPES) {
		test(`${type}: right class and length, naturally aligned, zeroed, writes visible through heap.buffer`, () => {
			const heap = dirtyHeap();
			const n = 37;
			const a = heap.allocArray(type, n);
			assert.ok(a !== null);
			assert.ok(a instanceof Ctor, `${a.constructor.name}`);
			assert.equal(a.length, n);
			assert.equal(a.buffer, heap.buffer);
			assert.equal(a.byteOffset % Ctor.BYTES_PER_ELEMENT, 0);
			assert.equal(a.byteOffset % 8, 0, 'every block payload is 8-aligned anyway');
			assert.ok(heap.usableSize(a.byteOffset) >= n * Ctor.BYTES_PER_ELEMENT);
			for (let i = 0; i < n; i++) assert.equal(Number(a[i]), 0, `element ${i}`);
			(a as unknown as (number | bigint)[])[n - 1] = value;
			(a as unknown as (number | bigint)[])[0] = value;
			const last = a.byteOffset + (n - 1) * Ctor.BYTES_PER_ELEMENT;
			assert.equal(read(heap, type, last), value);
			assert.equal(read(heap, type, a.byteOffset), value);
			assert.deepEqual(heap.check(), []);
		});
	}

	test('arrays from allocArray do not overlap each other', () => {
		const heap = new Heap({ size: 1 << 16 });
		const arrays = TYPES.map(([t]) => heap.allocArray(t, 11));
		const ranges = arrays.map((a) => {
			assert.ok(a !== null);
			return [a.byteOffset, a.byteOffset + a.byteLength] as const;
		});
		ranges.sort((x, y) => x[0] - y[0]);
		for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i][0] >= ranges[i - 1][1]);
	});

	test('length 0 gives an empty array on a live block', () => {
		const heap = new Heap({ size: 1 << 14 });
		const a = heap.allocArray('f64', 0);
		assert.ok(a !== null);
		assert.equal(a.length, 0);
		assert.equal(heap.stats().liveBlocks, 1);
		heap.freeArray(a);
		assert.equal(heap.stats().liveBlocks, 0);
	});

	test('returns null when full; heap unchanged', () => {
		const heap = new Heap({ size: 1 << 14 });
		const snap = regionBytes(heap);
		assert.equal(heap.allocArray('f64', 1 << 20), null);
		assert.equal(heap.allocArray('u8', 2 ** 40), null);
		assert.equal(heap.allocArray('i64', 2 ** 50), null, 'bytes not a safe integer');
		assert.deepEqual(regionBytes(heap), snap);
	});

	test('unknown type → INVALID_TYPE, heap unchanged', () => {
		const heap = new Heap({ size: 1 << 14 });
		const snap = regionBytes(heap);
		for (const t of ['u128', 'f16', 'U8', '', 'constructor', 'toString', '__proto__', undefined, 8]) {
			const err = throwsCode(() => heap.allocArray(t as ArrayType, 4), 'INVALID_TYPE');
			assert.equal(err.op, 'allocArray');
		}
		assert.deepEqual(regionBytes(heap), snap);
	});

	test('invalid length → INVALID_SIZE, heap unchanged', () => {
		const heap = new Heap({ size: 1 << 14 });
		const snap = regionBytes(heap);
		for (const n of [-1, 1.5, Number.NaN, 2 ** 53, '8']) throwsCode(() => heap.allocArray('u32', n as number), 'INVALID_SIZE');
		assert.deepEqual(regionBytes(heap), snap);
	});
});

describe('view', () => {
	test('views existing memory of every type at its pointer', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.malloc(64);
		for (const [type, Ctor, value] of TYPES) {
			const v = heap.view(p, type, 64 / Ctor.BYTES_PER_ELEMENT);
			assert.ok(v instanceof Ctor);
			assert.equal(v.byteOffset, p);
			assert.equal(v.byteLength, 64);
			(v as unknown as (number | bigint)[])[1] = value;
			assert.equal(read(heap, type, p + Ctor.BYTES_PER_ELEMENT), value);
		}
		const u8 = heap.view(p, 'u8', 64);
		u8[5] = 77;
		assert.equal(heap.view(p, 'u8', 64)[5], 77, 'two views share memory');
	});

	test('a view outside the blocks → INVALID_POINTER out-of-range', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.malloc(16);
		for (const [ptr, n] of [
			[heap.regionStart, 4],
			[heap._payloadBase - 8, 1],
			[heap._sentinel, 1],
			[heap._sentinel - 4, 2],
		] as const) {
			const err = throwsCode(() => heap.view(ptr, 'u32', n), 'INVALID_POINTER');
			assert.equal(err.reason, 'out-of-range', `view(${ptr}, u32, ${n})`);
		}
		for (const ptr of [-8, 1.5, Number.NaN, '4096']) throwsCode(() => heap.view(ptr as number, 'u32', 1), 'INVALID_POINTER');
		assert.equal(heap.view(heap._sentinel - 4, 'u32', 1).length, 1, 'up to the sentinel is fine');
		assert.ok(heap.view(p, 'u8', 0));
	});

	test('a misaligned view → INVALID_POINTER misaligned', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.malloc(64);
		for (const [type, off] of [
			['u16', 1],
			['u32', 2],
			['f64', 4],
			['u64', 4],
			['i64', 1],
		] as const) {
			const err = throwsCode(() => heap.view(p + off, type, 2), 'INVALID_POINTER');
			assert.equal(err.reason, 'misaligned');
		}
		assert.equal(heap.view(p + 1, 'u8', 2).byteOffset, p + 1);
	});

	test('unknown type → INVALID_TYPE; invalid length → INVALID_SIZE', () => {
		const heap = new Heap({ size: 1 << 14 });
		const p = heap.malloc(64);
		throwsCode(() => heap.view(p, 'x' as ArrayType, 1), 'INVALID_TYPE');
		throwsCode(() => heap.view(p, 'u8', -1), 'INVALID_SIZE');
		throwsCode(() => heap.view(p, 'u8', 0.5), 'INVALID_SIZE');
	});
});

describe('freeArray', () => {
	test('frees the block the array views', () => {
		const heap = new Heap({ size: 1 << 14 });
		const before = heap.stats();
		const a = heap.allocArray('f64', 10);
		const b = heap.allocArray('u64', 10);
		assert.ok(a !== null && b !== null);
		heap.freeArray(a);
		heap.freeArray(b);
		assert.deepEqual(heap.stats().freeBytes, before.freeBytes);
		assert.equal(heap.stats().liveBlocks, 0);
		assert.deepEqual(heap.check(), []);
	});

	test('a typed array on another buffer → FOREIGN_BUFFER, heap unchanged', () => {
		const heap = new Heap({ size: 1 << 14 });
		const other = new Heap({ size: 1 << 14 });
		const mine = heap.allocArray('u32', 4);
		const theirs = other.allocArray('u32', 4);
		assert.ok(mine !== null && theirs !== null);
		assert.equal(theirs.byteOffset, mine.byteOffset, 'same offset, different buffer');
		const snap = regionBytes(heap);
		const err = throwsCode(() => heap.freeArray(theirs), 'FOREIGN_BUFFER');
		assert.equal(err.op, 'freeArray');
		throwsCode(() => heap.freeArray(new Uint32Array(4)), 'FOREIGN_BUFFER');
		throwsCode(() => heap.freeArray([1, 2] as unknown as Uint8Array), 'FOREIGN_BUFFER');
		throwsCode(() => heap.freeArray(null as unknown as Uint8Array), 'FOREIGN_BUFFER');
		assert.deepEqual(regionBytes(heap), snap);
		assert.equal(heap.stats().liveBlocks, 1);
		assert.equal(other.stats().liveBlocks, 1);
	});

	test('a sub-array (interior pointer) → INVALID_POINTER; a second freeArray → DOUBLE_FREE', () => {
		const heap = new Heap({ size: 1 << 14 });
		const a = heap.allocArray('u8', 64);
		assert.ok(a !== null);
		const snap = regionBytes(heap);
		const err = throwsCode(() => heap.freeArray(a.subarray(8)), 'INVALID_POINTER');
		assert.equal(err.reason, 'not-block-start');
		assert.deepEqual(regionBytes(heap), snap);
		heap.freeArray(a);
		const snap2 = regionBytes(heap);
		throwsCode(() => heap.freeArray(a), 'DOUBLE_FREE');
		assert.deepEqual(regionBytes(heap), snap2);
	});
});
