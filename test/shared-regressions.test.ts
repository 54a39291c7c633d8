/**
 * Regressions from the review of the shared-heap code: each test is a
 * state a dead or live worker can leave, simulated in one thread by
 * writing lock words and root words as the interrupted code would have.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Heap, HeapError, layout } from '../src/index.js';
import { growShared, growableShared } from './support/buffers.js';
import { throwsCode } from './support/errors.js';
import { heapLockWord, holdLock as hold, lockWord, slotLockWord, slotWord } from './support/locks.js';

const { FREE, PREV_FREE, R_REGION_END, R_SENTINEL, R_GROWTHS } = layout;
const KiB = 1024;

function scene() {
	const sab = new SharedArrayBuffer(256 * KiB);
	const A = new Heap({ buffer: sab, threads: 4, owner: 1, lockTimeout: 30 });
	const B = Heap.attach(sab, 0, { owner: 77, lockTimeout: 30 });
	const C = Heap.attach(sab, 0, { owner: 5, lockTimeout: 30 });
	for (const h of [A, B, C]) h.free(h.malloc(40));
	return { A, B, C };
}

describe('recover() and the locks it takes', () => {
	test('a live worker in a fast path makes recover time out, and recover leaves no lock of its own held', () => {
		const { A, B, C } = scene();
		hold(A, heapLockWord(A), B.threadSlot); // B died holding the heap lock
		hold(A, slotLockWord(A, C.threadSlot), C.threadSlot); // C (alive) is in a fast path
		throwsCode(() => A.recover(77), 'LOCK_TIMEOUT');
		// The heap lock stays in the dead worker's name; no slot lock is left in A's.
		assert.equal(lockWord(A, heapLockWord(A)), (B.threadSlot + 1) << 1);
		for (let s = 0; s < 4; s++) if (s !== C.threadSlot) assert.equal(lockWord(A, slotLockWord(A, s)), 0, `slot ${s}`);
		Atomics.store(new Int32Array(A.buffer), slotLockWord(A, C.threadSlot), 0); // C's fast path ends
		const r = A.recover(77);
		assert.equal(r.locksTaken, 1);
		assert.notEqual(A.malloc(40), 0);
		assert.deepEqual(A.check(), []);
	});

	test('a worker killed while holding another slot’s lock (inside stats, check, growth or a flush) is recovered', () => {
		const { A, B } = scene();
		hold(A, heapLockWord(A), B.threadSlot);
		hold(A, slotLockWord(A, A.threadSlot), B.threadSlot); // B was draining A's cache
		const r = A.recover(77);
		assert.equal(r.locksTaken, 2);
		for (let s = 0; s < 4; s++) assert.equal(lockWord(A, slotLockWord(A, s)), 0);
		assert.equal(lockWord(A, heapLockWord(A)), 0);
		assert.notEqual(A.malloc(40), 0);
		assert.deepEqual(A.check(), []);
	});

	test('a list a dead worker was draining loses its tail, not the live owner’s consistency', () => {
		const { A, B } = scene();
		const ps = Array.from({ length: 10 }, () => A.malloc(40));
		for (const p of ps) A.free(p);
		const before = A.stats().cachedBlocks;
		// B died in the middle of popping A's 48-byte list: the head moved on, COUNT did not.
		hold(A, heapLockWord(A), B.threadSlot);
		hold(A, slotLockWord(A, A.threadSlot), B.threadSlot);
		const m = A._m;
		const slotW = slotWord(A, A.threadSlot);
		const c = layout.cacheClassUp(48);
		const hi = slotW + layout.S_HEADS + 2 * c;
		const popped = m[hi];
		m[hi] = m[(popped + layout.CACHE_NEXT) >>> 2];
		const r = A.recover(77);
		assert.equal(r.leakedBlocks, 1, 'the block being popped is kept allocated');
		assert.deepEqual(A.check(), []);
		assert.equal(A.stats().cachedBlocks, before - 1 - r.cachedReturned, 'B’s cache went back, A’s lost the popped block');
		// Every block A's cache hands out now is a distinct, usable block.
		const got = new Set(Array.from({ length: 12 }, () => A.malloc(40)));
		assert.equal(got.size, 12);
		assert.ok(!got.has(popped + 4), 'the leaked block is not handed out');
		assert.deepEqual(A.check(), []);
	});
});

describe('a worker killed while growing the region', () => {
	for (const stop of ['after REGION_END', 'after SENTINEL', 'after GROWTHS']) {
		test(`${stop}: recover finishes or rolls back the growth and the heap opens and checks clean`, () => {
			const sab = growableShared(64 * KiB, 1024 * KiB);
			const A = new Heap({ buffer: sab, grow: true, threads: 3, owner: 1, lockTimeout: 30 });
			const B = Heap.attach(sab, 0, { owner: 77, lockTimeout: 30 });
			const keep = [A.malloc(5000), B.malloc(5000)];
			new Uint8Array(sab, keep[0], 5000).fill(7);
			// What B's growRegion had written when it died (grow.ts order).
			growShared(sab, 128 * KiB);
			const m = new Uint32Array(sab);
			const root = A.regionStart >>> 2;
			const oldSentinel = A._sentinel;
			const sentinel = 128 * KiB - 4;
			m[sentinel >>> 2] = 0;
			m[oldSentinel >>> 2] = (sentinel - oldSentinel) | FREE | (m[oldSentinel >>> 2] & PREV_FREE);
			m[root + R_REGION_END] = 128 * KiB;
			if (stop !== 'after REGION_END') m[root + R_SENTINEL] = sentinel;
			if (stop === 'after GROWTHS') m[root + R_GROWTHS]++;
			hold(A, heapLockWord(A), B.threadSlot);
			const r = A.recover(77);
			assert.equal(r.rebuilt, true);
			assert.deepEqual(A.check(), []);
			assert.ok(new Uint8Array(sab, keep[0], 5000).every((b) => b === 7), 'a live block kept its bytes');
			const fresh = Heap.attach(sab);
			assert.deepEqual(fresh.check(), []);
			assert.notEqual(A.malloc(200_000), 0, 'the heap grows again');
			assert.deepEqual(A.check(), []);
		});
	}
});

test('a lock is released when catching up with growth fails (a worker attached to a memory’s buffer, not the memory)', () => {
	const memory = new WebAssembly.Memory({ initial: 2, maximum: 64, shared: true });
	const A = new Heap({ memory, grow: true, owner: 1, lockTimeout: 30 });
	const B = Heap.attach(memory.buffer as unknown as SharedArrayBuffer, 0, { owner: 2, lockTimeout: 30 });
	assert.notEqual(B.malloc(100), 0);
	assert.notEqual(A.malloc(300_000), 0); // grows the memory: B's buffer object is now too short
	assert.throws(() => B.malloc(5000), (e: unknown) => e instanceof HeapError && e.code === 'NO_HEAP');
	assert.equal(lockWord(A, heapLockWord(A)), 0, 'the heap lock is free again');
	assert.notEqual(A.malloc(5000), 0);
	assert.deepEqual(A.check(), []);
});

test('check() from another object while a small realloc is between its steps sees a sound heap', () => {
	const { A, B } = scene();
	const p = A.malloc(100);
	// A grows p through its cache; B checks in the middle (after the new block, before the old one is cached).
	const sync = A._sync as unknown as { alloc(n: number): number };
	const alloc = sync.alloc.bind(sync);
	let seen: unknown = null;
	sync.alloc = (n: number) => {
		const out = alloc(n);
		seen = B.check();
		return out;
	};
	const q = A.realloc(p, 1000);
	assert.notEqual(q, 0);
	assert.deepEqual(seen, []);
	assert.deepEqual(A.check(), []);
});

test('view() from an object that has not yet seen another object grow the region', () => {
	const sab = growableShared(64 * KiB, 1024 * KiB);
	const A = new Heap({ buffer: sab, grow: true, owner: 1 });
	const B = Heap.attach(sab, 0, { owner: 2 });
	const p = A.malloc(200_000);
	assert.notEqual(p, 0);
	assert.equal(B.view(p + 150_000, 'u8', 100).length, 100);
	assert.equal(B.usableSize(p), 200_004);
});

test('recover with a cycle in a live worker’s cache list (a use-after-free rewrote a link) ends, and cuts the list there', () => {
	const { A, B } = scene();
	const ps = Array.from({ length: 4 }, () => A.malloc(40));
	for (const p of ps) A.free(p);
	const m = A._m;
	const slotW = slotWord(A, A.threadSlot);
	const hi = slotW + layout.S_HEADS + 2 * layout.cacheClassUp(48);
	const first = m[hi];
	const second = m[(first + layout.CACHE_NEXT) >>> 2];
	m[(second + layout.CACHE_NEXT) >>> 2] = first; // first → second → first → …
	hold(A, heapLockWord(A), B.threadSlot);
	A.recover(77);
	assert.equal(m[hi + 1], 2, 'the list keeps the two blocks before the cycle closes');
	assert.deepEqual(A.check(), []);
});

test('debug level 3 checks the whole heap after a realloc on a shared heap too', () => {
	const heap = new Heap({ buffer: new SharedArrayBuffer(256 * KiB), debug: 3 });
	const p = heap.malloc(5000);
	// Break an invariant the realloc itself does not touch: the FREE_BYTES counter.
	heap._m[(heap.regionStart >>> 2) + layout.R_FREE_BYTES] += 8;
	assert.throws(() => heap.realloc(p, 6000), (e: unknown) => e instanceof HeapError && e.code === 'CORRUPT_HEAP');
});

test('stats() in one worker, waiting for a slot lock a terminated worker holds, does not keep recover() from the heap lock', async () => {
	const { A, B } = scene();
	const slowA = Heap.attach(A.buffer, 0, { owner: 2, lockTimeout: 2000 });
	hold(A, slotLockWord(A, B.threadSlot), B.threadSlot); // B died in a fast path
	const flag = new SharedArrayBuffer(4);
	const worker = new Worker(new URL('../scripts/ts-worker.mjs', import.meta.url), {
		workerData: { sab: A.buffer, flag, entry: new URL('./support/stats-worker.ts', import.meta.url).href },
	});
	const result = new Promise<{ regionBytes: number; cachedBlocks: number }>((resolve, reject) => {
		worker.on('message', resolve);
		worker.on('error', reject);
	});
	try {
		const f = new Int32Array(flag);
		while (Atomics.load(f, 0) === 0) await new Promise((r) => setTimeout(r, 5));
		await new Promise((r) => setTimeout(r, 100)); // the worker is now inside stats(), waiting for B's slot lock
		// The worker waits holding nothing, so recover gets the heap lock at once.
		const r = slowA.recover(77);
		assert.equal(r.rebuilt, true);
		assert.equal(r.locksTaken, 1);
		const s = await result;
		assert.equal(s.regionBytes, A.stats().regionBytes);
		assert.deepEqual(A.check(), []);
	} finally {
		await worker.terminate();
	}
});

