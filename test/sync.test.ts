/**
 * The lock words (src/sync.ts): taking, releasing and handing over a lock,
 * waiting that sleeps (worker threads, Node's main thread) and waiting that
 * only spins (what a browser's main thread does, where Atomics.wait throws).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { HeapError } from '../src/index.js';
import { lock, takeOver, tryLock, unlock } from '../src/sync.js';

const words = () => new Int32Array(new SharedArrayBuffer(16));

test('tryLock takes a free word once; unlock frees it', () => {
	const a = words();
	assert.equal(tryLock(a, 0, 3), true);
	assert.equal(Atomics.load(a, 0), 3 << 1);
	assert.equal(tryLock(a, 0, 4), false);
	unlock(a, 0);
	assert.equal(Atomics.load(a, 0), 0);
	assert.equal(tryLock(a, 0, 4), true);
});

for (const sleep of [true, false]) {
	const how = sleep ? 'sleeping in Atomics.wait' : 'spinning only';
	test(`a held lock makes lock() (${how}) throw LOCK_TIMEOUT naming the holder, changing nothing`, () => {
		const a = words();
		assert.equal(tryLock(a, 0, 3), true);
		const t0 = Date.now();
		assert.throws(
			() => lock(a, 0, 4, 30, 'malloc', sleep),
			(e: unknown) => e instanceof HeapError && e.code === 'LOCK_TIMEOUT' && e.received === 2 && e.op === 'malloc',
		);
		assert.ok(Date.now() - t0 >= 30);
		assert.equal(Atomics.load(a, 0) >>> 1, 3, 'still held by its holder');
	});

	test(`lock() (${how}) gets the word once another thread releases it`, async () => {
		const a = words();
		assert.equal(tryLock(a, 0, 3), true);
		// A worker releases it (as its unlock would) after 40 ms.
		const w = new Worker(
			`const { workerData } = require('node:worker_threads');
			const a = new Int32Array(workerData);
			Atomics.wait(a, 1, 0, 40);
			if ((Atomics.exchange(a, 0, 0) & 1) !== 0) Atomics.notify(a, 0, 1);`,
			{ eval: true, workerData: a.buffer },
		);
		const exited = new Promise((r) => w.on('exit', r));
		// Give the worker time to start, then wait for the lock on this thread.
		await new Promise((r) => setTimeout(r, 10));
		lock(a, 0, 4, 5_000, 'malloc', sleep);
		assert.equal(Atomics.load(a, 0) >>> 1, 4);
		await exited;
	});
}

test('takeOver hands a dead holder’s lock to a new holder, keeping the waiters bit, and nobody else’s', () => {
	const a = words();
	Atomics.store(a, 0, (3 << 1) | 1);
	assert.equal(takeOver(a, 0, 5, 7), false, 'holder 5 does not hold it');
	assert.equal(takeOver(a, 0, 3, 7), true);
	assert.equal(Atomics.load(a, 0), (7 << 1) | 1);
});
