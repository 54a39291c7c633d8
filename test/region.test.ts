/**
 * Unit tests for src/region.ts and Heap construction / attach: the options
 * (size, buffer + offset + length, SharedArrayBuffer, WebAssembly.Memory),
 * absolute pointers, region bounds, re-opening and the option errors.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap, layout as L } from '../src/index.js';
import type { HeapOptions } from '../src/index.js';
import { throwsCode } from './support/errors.js';
import { resizable } from './support/buffers.js';

/** Runs a little workload that touches a lot of the region. */
function exercise(heap: Heap): number[] {
	const live: number[] = [];
	for (let i = 0; i < 200; i++) {
		const p = i % 5 === 0 ? heap.alignedAlloc(64, 50 + i) : heap.malloc((i * 37) % 300);
		if (p === 0) continue;
		heap._u8.fill(0xc3, p, p + heap.usableSize(p));
		live.push(p);
		if (i % 3 === 0) heap.free(live.splice((i * 7) % live.length, 1)[0]);
		if (i % 4 === 0 && live.length > 0) {
			const k = i % live.length;
			const q = heap.realloc(live[k], 100 + i);
			if (q !== 0) live[k] = q;
		}
	}
	const c = heap.calloc(10, 10);
	if (c !== 0) live.push(c);
	// fill all that is left
	for (let p = heap.malloc(64); p !== 0; p = heap.malloc(64)) live.push(p);
	return live;
}

describe('options', () => {
	test('{ size } makes a new ArrayBuffer and manages all of it', () => {
		const heap = new Heap({ size: 10_000 });
		assert.ok(heap.buffer instanceof ArrayBuffer);
		assert.equal(heap.buffer.byteLength, 10_000);
		assert.equal(heap.regionStart, 0);
		assert.equal(heap.regionEnd, 10_000);
		assert.equal(heap.stats().regionBytes, 10_000);
		assert.deepEqual(heap.check(), []);
	});

	test('{ size } that is not a multiple of 8 ends the region at a multiple of 8', () => {
		const heap = new Heap({ size: 10_005 });
		assert.equal(heap.buffer.byteLength, 10_005);
		assert.equal(heap.regionEnd, 10_000);
		assert.deepEqual(heap.check(), []);
	});

	test('{ buffer } manages the whole buffer by default', () => {
		const buffer = new ArrayBuffer(20_000);
		const heap = new Heap({ buffer });
		assert.equal(heap.buffer, buffer);
		assert.deepEqual([heap.regionStart, heap.regionEnd], [0, 20_000]);
	});

	test('{ buffer, offset } manages the rest of the buffer; offset rounds up to 8', () => {
		const buffer = new ArrayBuffer(20_000);
		assert.deepEqual([new Heap({ buffer, offset: 800 }).regionStart, new Heap({ buffer, offset: 800 }).regionEnd], [800, 20_000]);
		const h = new Heap({ buffer, offset: 803 });
		assert.deepEqual([h.regionStart, h.regionEnd], [808, 20_000]);
	});

	test('size is ignored when a buffer is given', () => {
		const buffer = new ArrayBuffer(20_000);
		const heap = new Heap({ buffer, size: 8000 });
		assert.equal(heap.buffer, buffer);
		assert.equal(heap.regionEnd, 20_000);
	});

	test('the smallest region is MIN_REGION bytes', () => {
		const heap = new Heap({ size: L.MIN_REGION });
		assert.deepEqual(heap.check(), []);
		const p = heap.malloc(0);
		assert.notEqual(p, 0);
		heap.free(p);
		throwsCode(() => new Heap({ size: L.MIN_REGION - 8 }), 'INVALID_OPTIONS');
	});

	test('a new Heap over an old heap formats it afresh', () => {
		const buffer = new ArrayBuffer(1 << 15);
		const old = new Heap({ buffer });
		old.malloc(100);
		old.malloc(200);
		const heap = new Heap({ buffer });
		assert.equal(heap.stats().liveBlocks, 0);
		assert.equal(heap.stats().freeBlocks, 1);
		assert.equal(heap.stats().peakUsedBytes, 0);
		assert.deepEqual(heap.check(), []);
	});
});

describe('a region at an offset', () => {
	const OFFSET = 3001;
	const LENGTH = 40_003;

	test('pointers are absolute buffer offsets inside [regionStart, regionEnd)', () => {
		const buffer = new ArrayBuffer(1 << 16);
		const heap = new Heap({ buffer, offset: OFFSET, length: LENGTH });
		assert.equal(heap.regionStart, 3008);
		assert.equal(heap.regionEnd, 43_000); // floor8(3001 + 40003 = 43004)
		const p = heap.malloc(16);
		assert.ok(p >= heap.regionStart && p + 16 <= heap.regionEnd);
		// The pointer indexes the buffer directly.
		new Uint8Array(buffer).set([1, 2, 3, 4], p);
		assert.deepEqual([...heap._u8.subarray(p, p + 4)], [1, 2, 3, 4]);
		new DataView(buffer).setFloat64(p + 8, Math.PI, true);
		assert.equal(heap.view(p + 8, 'f64', 1)[0], Math.PI);
	});

	test('no byte outside [offset, offset + length) is ever touched', () => {
		const buffer = new ArrayBuffer(1 << 16);
		const u8 = new Uint8Array(buffer);
		u8.fill(0xa5);
		const heap = new Heap({ buffer, offset: OFFSET, length: LENGTH });
		const live = exercise(heap);
		assert.ok(live.length > 100);
		assert.deepEqual(heap.check(), []);
		for (const p of live) heap.free(p);
		assert.deepEqual(heap.check(), []);
		exercise(heap);
		const end = OFFSET + LENGTH;
		for (let i = 0; i < buffer.byteLength; i++) {
			if (i >= OFFSET && i < end) continue;
			if (u8[i] !== 0xa5) assert.fail(`byte ${i} outside the region was written`);
		}
		// even the rounding slack inside [offset, offset+length) but outside the region
		for (let i = OFFSET; i < heap.regionStart; i++) assert.equal(u8[i], 0xa5, `byte ${i}`);
		for (let i = heap.regionEnd; i < end; i++) assert.equal(u8[i], 0xa5, `byte ${i}`);
	});

	test('two heaps in disjoint regions of one buffer do not interfere', () => {
		const buffer = new ArrayBuffer(1 << 16);
		const a = new Heap({ buffer, offset: 0, length: 30_000 });
		const b = new Heap({ buffer, offset: 30_000, length: 30_000 });
		exercise(a);
		exercise(b);
		assert.deepEqual(a.check(), []);
		assert.deepEqual(b.check(), []);
		for (const x of a.blocks()) assert.ok(x.block + x.size <= 30_000);
		for (const x of b.blocks()) assert.ok(x.block >= 30_000);
	});
});

describe('SharedArrayBuffer and WebAssembly.Memory', () => {
	test('{ buffer: SharedArrayBuffer }', () => {
		const sab = new SharedArrayBuffer(1 << 15);
		const heap = new Heap({ buffer: sab, offset: 64 });
		assert.equal(heap.buffer, sab);
		const p = heap.malloc(100);
		new Uint8Array(sab)[p] = 42;
		const other = Heap.attach(sab, 64);
		assert.equal(other._u8[p], 42);
		assert.equal(other.usableSize(p), heap.usableSize(p));
		other.free(p);
		assert.equal(heap.stats().liveBlocks, 0, 'state lives in the shared buffer');
		assert.deepEqual(heap.check(), []);
	});

	test('{ memory: WebAssembly.Memory } manages the memory buffer', () => {
		const memory = new WebAssembly.Memory({ initial: 2 });
		const heap = new Heap({ memory, offset: 1024 });
		assert.equal(heap.buffer, memory.buffer);
		assert.deepEqual([heap.regionStart, heap.regionEnd], [1024, 2 * 65536]);
		const p = heap.malloc(8);
		new DataView(memory.buffer).setUint32(p, 0xdeadbeef, true);
		assert.equal(heap.view(p, 'u32', 1)[0], 0xdeadbeef);
		const again = Heap.attach(memory, 1024);
		assert.equal(again.usableSize(p), 12);
		assert.deepEqual(again.check(), []);
	});

	test('shared WebAssembly.Memory', () => {
		const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
		const heap = new Heap({ memory });
		assert.equal(heap.buffer, memory.buffer);
		assert.notEqual(heap.malloc(100), 0);
		assert.deepEqual(heap.check(), []);
	});
});

describe('Heap.attach', () => {
	test('re-opens a heap and continues where it left off', () => {
		const buffer = new ArrayBuffer(1 << 16);
		const heap = new Heap({ buffer, offset: 512, length: 50_000 });
		const a = heap.malloc(100);
		const b = heap.alignedAlloc(256, 50);
		const c = heap.malloc(30);
		heap._u8.fill(7, b, b + 50);
		heap.free(a);
		const s = heap.stats();
		const h2 = Heap.attach(buffer, 512);
		assert.deepEqual([h2.regionStart, h2.regionEnd], [heap.regionStart, heap.regionEnd]);
		assert.deepEqual(h2.stats(), s);
		assert.deepEqual([...h2.blocks()], [...heap.blocks()]);
		assert.deepEqual(h2.check(), []);
		assert.equal(h2._u8[b + 49], 7);
		// continue: free old pointers and allocate through the new object
		h2.free(c);
		const d = h2.realloc(b, 2000);
		assert.equal(d % 256, 0, 'the A bit survives attach');
		assert.throws(() => h2.free(a), { code: 'DOUBLE_FREE' });
		assert.deepEqual(heap.stats(), h2.stats());
		assert.deepEqual(heap.check(), []);
	});

	test('attach with an unaligned offset finds the heap made with that offset', () => {
		const buffer = new ArrayBuffer(1 << 15);
		const heap = new Heap({ buffer, offset: 101 });
		const p = heap.malloc(8);
		const h2 = Heap.attach(buffer, 101);
		assert.equal(h2.regionStart, heap.regionStart);
		assert.equal(h2.usableSize(p), 12);
	});

	test('a copy of the buffer is an independent heap with the same state', () => {
		const heap = new Heap({ size: 1 << 15 });
		const p = heap.malloc(64);
		heap._u8.fill(9, p, p + 64);
		const copy = Heap.attach(heap.buffer.slice(0));
		assert.equal(copy._u8[p + 63], 9);
		copy.free(p);
		assert.equal(heap.usableSize(p), 68, 'the original is untouched');
		assert.deepEqual(copy.check(), []);
	});

	test('attach passes the debug option', () => {
		const heap = new Heap({ size: 1 << 15 });
		assert.equal(Heap.attach(heap.buffer).debug, 0);
		assert.equal(Heap.attach(heap.buffer, 0, { debug: 3 }).debug, 3);
	});

	test('a zeroed buffer → NO_HEAP', () => {
		throwsCode(() => Heap.attach(new ArrayBuffer(1 << 15)), 'NO_HEAP');
		throwsCode(() => Heap.attach(new SharedArrayBuffer(1 << 15)), 'NO_HEAP');
		throwsCode(() => Heap.attach(new WebAssembly.Memory({ initial: 1 })), 'NO_HEAP');
	});

	test('the wrong offset, or a buffer too short → NO_HEAP', () => {
		const buffer = new ArrayBuffer(1 << 15);
		new Heap({ buffer, offset: 1024 });
		throwsCode(() => Heap.attach(buffer, 0), 'NO_HEAP');
		throwsCode(() => Heap.attach(buffer, 1032), 'NO_HEAP');
		throwsCode(() => Heap.attach(buffer, 1 << 15), 'NO_HEAP');
		throwsCode(() => Heap.attach(buffer, 1 << 20), 'NO_HEAP');
		throwsCode(() => Heap.attach(new ArrayBuffer(16)), 'NO_HEAP');
	});

	test('a truncated copy of a heap → NO_HEAP (the root describes a larger region)', () => {
		const heap = new Heap({ size: 1 << 15 });
		const short = heap.buffer.slice(0, 1 << 14);
		throwsCode(() => Heap.attach(short), 'NO_HEAP');
	});

	test('a modified MAGIC word → NO_HEAP; a modified VERSION word → INCOMPATIBLE_HEAP', () => {
		const heap = new Heap({ size: 1 << 15 });
		const root = heap.regionStart >>> 2;
		heap._m[root + L.R_VERSION] = L.VERSION_WORD + 1;
		throwsCode(() => Heap.attach(heap.buffer), 'INCOMPATIBLE_HEAP');
		heap._m[root + L.R_VERSION] = L.VERSION_WORD ^ (1 << 8); // other SL_BITS
		throwsCode(() => Heap.attach(heap.buffer), 'INCOMPATIBLE_HEAP');
		heap._m[root + L.R_VERSION] = L.VERSION_WORD;
		Heap.attach(heap.buffer);
		heap._m[root + L.R_MAGIC] ^= 1;
		throwsCode(() => Heap.attach(heap.buffer), 'NO_HEAP');
	});

	test('inconsistent root bounds → NO_HEAP', () => {
		for (const [field, delta] of [
			[L.R_REGION_START, 8],
			[L.R_REGION_END, 1 << 20],
			[L.R_SENTINEL, 8],
			[L.R_BITMAP_START, 8],
			[L.R_BLOCKS_START, 1],
		] as const) {
			const heap = new Heap({ size: 1 << 15 });
			heap._m[(heap.regionStart >>> 2) + field] += delta;
			throwsCode(() => Heap.attach(heap.buffer), 'NO_HEAP');
		}
	});

	test('not a buffer, or a bad offset → INVALID_OPTIONS', () => {
		const heap = new Heap({ size: 1 << 15 });
		throwsCode(() => Heap.attach({} as ArrayBuffer), 'INVALID_OPTIONS');
		throwsCode(() => Heap.attach(new Uint8Array(heap.buffer) as unknown as ArrayBuffer), 'INVALID_OPTIONS');
		throwsCode(() => Heap.attach(heap.buffer, -8), 'INVALID_OPTIONS');
		throwsCode(() => Heap.attach(heap.buffer, 1.5), 'INVALID_OPTIONS');
		throwsCode(() => Heap.attach(heap.buffer, Number.NaN), 'INVALID_OPTIONS');
	});
});

describe('invalid options → INVALID_OPTIONS', () => {
	const buffer = new ArrayBuffer(1 << 15);
	const cases: [string, unknown][] = [
		['null', null],
		['a string', 'big'],
		['a number', 4096],
		['no size, buffer or memory', {}],
		['size 0', { size: 0 }],
		['size −1', { size: -1 }],
		['size 1.5', { size: 1.5 }],
		['size NaN', { size: Number.NaN }],
		['size Infinity', { size: Number.POSITIVE_INFINITY }],
		['size as a string', { size: '65536' }],
		['size too small for a region', { size: 100 }],
		['a typed array as buffer', { buffer: new Uint8Array(1 << 15) }],
		['a plain object as buffer', { buffer: { byteLength: 1 << 15 } }],
		['buffer and memory both', { buffer, memory: new WebAssembly.Memory({ initial: 1 }) }],
		['memory that is not a WebAssembly.Memory', { memory: new ArrayBuffer(1 << 16) }],
		['negative offset', { buffer, offset: -8 }],
		['fractional offset', { buffer, offset: 8.5 }],
		['offset past the end', { buffer, offset: (1 << 15) + 8 }],
		['negative length', { buffer, length: -1 }],
		['fractional length', { buffer, length: 1000.5 }],
		['offset + length past the end', { buffer, offset: 1024, length: 1 << 15 }],
		['length too small for a region', { buffer, length: 1000 }],
		['offset leaves too little room', { buffer, offset: (1 << 15) - 1000 }],
		['grow that is not a boolean', { buffer, grow: 'yes' }],
		['grow on a buffer that cannot grow', { buffer, grow: true }],
		['grow with a new fixed-size buffer', { size: 1 << 15, grow: true }],
		['grow with a length', { memory: new WebAssembly.Memory({ initial: 1 }), grow: true, length: 30_000 }],
		['grow with maxSize 0', { memory: new WebAssembly.Memory({ initial: 1 }), grow: true, maxSize: 0 }],
		['grow with a fractional maxSize', { buffer: resizable(1 << 15, 1 << 16), grow: true, maxSize: 5e4 + 0.5 }],
	];
	for (const [name, options] of cases) {
		test(name, () => {
			const before = new Uint8Array(buffer).slice();
			const err = throwsCode(() => new Heap(options as HeapOptions), 'INVALID_OPTIONS');
			assert.equal(err.op, 'Heap');
			assert.deepEqual(new Uint8Array(buffer), before, 'the buffer is not written');
		});
	}

	test('new Heap() with no options at all', () => {
		throwsCode(() => new Heap(), 'INVALID_OPTIONS');
	});
});
