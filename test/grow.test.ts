/** Growable regions: WebAssembly.Memory, resizable ArrayBuffer, growable SharedArrayBuffer. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Heap, HeapError, type HeapOptions } from '../src/index.js';
import { growableShared, resizable } from './support/buffers.js';
import { lcg } from './support/rng.js';

type Kind = 'memory' | 'resizable' | 'growable-shared';
function makeOptions(kind: Kind, initial = 65536, max = 1 << 27): HeapOptions & { memory?: WebAssembly.Memory } {
	if (kind === 'memory') {
		return { memory: new WebAssembly.Memory({ initial: initial / 65536, maximum: max / 65536 }), offset: 1024, grow: true };
	}
	if (kind === 'resizable') return { buffer: resizable(initial, max), grow: true };
	return { buffer: growableShared(initial, max), grow: true };
}

for (const kind of ['memory', 'resizable', 'growable-shared'] as Kind[]) {
	describe(`growth over a ${kind} buffer`, () => {
		test('allocations beyond the initial size succeed, contents survive, check() stays clean', () => {
			const heap = new Heap(makeOptions(kind));
			const start = heap.regionEnd;
			const r = lcg(7);
			const live = new Map<number, [number, number]>();
			for (let i = 0; i < 2000; i++) {
				const n = (r() % 30000) + 1;
				const p = heap.malloc(n);
				assert.notEqual(p, 0, `malloc ${i}`);
				const stamp = (i % 251) + 1;
				new Uint8Array(heap.buffer, p, n).fill(stamp);
				live.set(p, [n, stamp]);
				if (i % 3 === 2) {
					const victim = [...live.keys()][r() % live.size];
					heap.free(victim);
					live.delete(victim);
				}
			}
			assert.ok(heap.regionEnd > start, 'the region grew');
			assert.ok(heap.growths >= 2);
			assert.equal(heap.regionEnd, heap.buffer.byteLength - (heap.buffer.byteLength % 8));
			for (const [p, [n, stamp]] of live) {
				const bytes = new Uint8Array(heap.buffer, p, n);
				assert.ok(bytes.every((b) => b === stamp), `contents of ${p}`);
			}
			assert.deepEqual(heap.check(), []);
			const s = heap.stats();
			assert.equal(s.usedBytes + s.freeBytes + s.overheadBytes + s.cachedBytes, s.regionBytes);
			for (const p of live.keys()) heap.free(p);
			assert.deepEqual(heap.check(), []);
			assert.equal(heap.stats().liveBlocks, 0);
		});

		test('the bitmap moves into an internal block that no free can release', () => {
			const heap = new Heap(makeOptions(kind));
			const bitmapBefore = heap._bitmapWord;
			const p = heap.malloc(4 << 20);
			assert.notEqual(p, 0);
			assert.notEqual(heap._bitmapWord, bitmapBefore, 'the bitmap moved');
			const internal = heap._bitmapWord << 2;
			assert.throws(() => heap.free(internal), (e: unknown) => e instanceof HeapError);
			assert.deepEqual(heap.check(), []);
			// A second move frees the first internal bitmap block.
			assert.notEqual(heap.malloc(40 << 20), 0);
			assert.notEqual(heap._bitmapWord << 2, internal);
			assert.deepEqual(heap.check(), []);
		});

		test('Heap.attach after growth sees the grown region', () => {
			const opts = makeOptions(kind);
			const heap = new Heap(opts);
			const p = heap.malloc(1 << 20);
			new Uint8Array(heap.buffer, p, 16).fill(9);
			const again = Heap.attach(opts.memory ?? heap.buffer, opts.offset ?? 0);
			assert.equal(again.regionEnd, heap.regionEnd);
			assert.equal(again.usableSize(p), heap.usableSize(p));
			assert.deepEqual(again.check(), []);
		});
	});
}

test('growth stops at maxSize and at the memory maximum, then malloc returns 0 and the heap is intact', () => {
	const heap = new Heap({ buffer: resizable(65536, 1 << 24), grow: true, maxSize: 1 << 20 });
	assert.notEqual(heap.malloc(500_000), 0);
	assert.equal(heap.malloc(900_000), 0);
	assert.ok(heap.regionEnd <= 1 << 20);
	assert.deepEqual(heap.check(), []);
	const capped = new Heap({ memory: new WebAssembly.Memory({ initial: 1, maximum: 3 }), grow: true });
	assert.notEqual(capped.malloc(100_000), 0);
	assert.equal(capped.malloc(150_000), 0);
	assert.equal(capped.regionEnd, 3 * 65536);
	assert.deepEqual(capped.check(), []);
});

test('LiveView survives a memory growth that detaches plain typed arrays', () => {
	const memory = new WebAssembly.Memory({ initial: 1, maximum: 256 });
	const heap = new Heap({ memory, grow: true });
	const p = heap.malloc(64);
	const plain = new Uint32Array(heap.buffer, p, 16);
	const live = heap.liveView(p, 'u32', 16);
	live.array[3] = 42;
	assert.notEqual(heap.malloc(1 << 20), 0);
	assert.equal(plain.length, 0, 'the old view is detached');
	assert.equal(live.array[3], 42);
	assert.equal(live.array.buffer, heap.buffer);
});

test('refresh() picks up growth done by someone else', () => {
	const memory = new WebAssembly.Memory({ initial: 1, maximum: 256 });
	const a = new Heap({ memory, grow: true });
	const b = Heap.attach(memory);
	assert.notEqual(a.malloc(1 << 20), 0);
	b.refresh();
	assert.equal(b.regionEnd, a.regionEnd);
	assert.deepEqual(b.check(), []);
});

test('grow without a growable buffer, or with a length, is INVALID_OPTIONS', () => {
	const code = (f: () => unknown) => assert.throws(f, (e: unknown) => e instanceof HeapError && e.code === 'INVALID_OPTIONS');
	code(() => new Heap({ size: 1 << 16, grow: true }));
	code(() => new Heap({ buffer: resizable(1 << 16, 1 << 20), grow: true, length: 4096 }));
	code(() => new Heap({ buffer: resizable(1 << 16, 1 << 20), grow: true, maxSize: -1 }));
});

test('a fixed heap never grows', () => {
	const heap = new Heap({ buffer: resizable(1 << 16, 1 << 20) });
	assert.equal(heap.malloc(1 << 17), 0);
	assert.equal(heap.buffer.byteLength, 1 << 16);
});

test('property: random programs on a growing heap keep every invariant and every byte', () => {
	fc.assert(
		fc.property(
			fc.array(fc.tuple(fc.nat(3), fc.nat(1 << 18), fc.nat(1000)), { minLength: 1, maxLength: 120 }),
			fc.constantFrom<'memory' | 'resizable'>('memory', 'resizable'),
			(program, kind) => {
				const heap = new Heap(
					kind === 'memory'
						? { memory: new WebAssembly.Memory({ initial: 1, maximum: 256 }), offset: 512, grow: true }
						: { buffer: resizable(8192, 1 << 24), grow: true },
				);
				const live = new Map<number, [number, number]>();
				let stamp = 1;
				for (const [op, size, pick] of program) {
					const keys = [...live.keys()];
					if (op === 0 || keys.length === 0) {
						const p = op === 3 ? heap.alignedAlloc(64, size) : heap.malloc(size);
						if (p === 0) continue;
						stamp = (stamp % 250) + 1;
						new Uint8Array(heap.buffer, p, size).fill(stamp);
						live.set(p, [size, stamp]);
					} else if (op === 1) {
						const p = keys[pick % keys.length];
						heap.free(p);
						live.delete(p);
					} else {
						const p = keys[pick % keys.length];
						const [old, s] = live.get(p) as [number, number];
						const q = heap.realloc(p, size);
						if (q === 0) continue;
						live.delete(p);
						const keep = Math.min(old, size);
						assert.ok(new Uint8Array(heap.buffer, q, keep).every((b) => b === s), 'realloc kept the bytes');
						new Uint8Array(heap.buffer, q, size).fill(s);
						live.set(q, [size, s]);
					}
					assert.deepEqual(heap.check(), []);
				}
				for (const [p, [n, s]] of live) assert.ok(new Uint8Array(heap.buffer, p, n).every((b) => b === s), `bytes of ${p}`);
			},
		),
		{ numRuns: 100 },
	);
});
