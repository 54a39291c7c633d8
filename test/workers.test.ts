/**
 * Multi-worker stress tests with real worker_threads on one shared heap
 * (support/stress-worker.ts does the work of one worker).
 *
 * - 4 workers run random malloc/calloc/realloc/free programs, stamping and
 *   verifying every block, and hand blocks to each other through rings in
 *   shared memory; at the end everything is freed, check() is clean, no
 *   bytes are used and the whole region is one allocatable block again.
 * - A worker terminated mid-way: `recover(owner)` takes over whatever lock
 *   it held and rebuilds the heap, the other workers finish, and only the
 *   dead worker's own blocks (plus the one it may have been handing out)
 *   stay allocated until freed by pointer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { Heap } from '../src/index.js';
import { CTRL_PROGRESS, CTRL_READY, CTRL_START, CTRL_WORDS, LIVE_TABLE, LIVE_TABLE_SIZE, MAX_WORKERS, RING_WORDS, type StressData } from './support/stress-worker.js';

const WORKER = new URL('./support/stress-worker.ts', import.meta.url).href;
const TS_WORKER = new URL('../scripts/ts-worker.mjs', import.meta.url);
const HEAP_BYTES = 32 << 20;

function ringBuffer(): SharedArrayBuffer {
	return new SharedArrayBuffer((MAX_WORKERS * RING_WORDS + CTRL_WORDS) * 4);
}

function spawn(data: StressData): { worker: Worker; done: Promise<{ released: number }> } {
	const worker = new Worker(TS_WORKER, { workerData: { ...data, entry: WORKER } });
	const done = new Promise<{ released: number }>((resolve, reject) => {
		let result: { released: number } | undefined;
		worker.on('message', (m) => {
			result = m;
		});
		worker.on('error', reject);
		worker.on('exit', (code) => {
			if (code !== 0 || result === undefined) reject(new Error(`worker ${data.id} exited with code ${code}`));
			else resolve(result);
		});
	});
	return { worker, done };
}

/** Runs `f`; whatever happens, no worker outlives it (a failed worker must not leave the others waiting). */
async function finishAll(runs: { worker: Worker }[], f: () => Promise<void>): Promise<void> {
	try {
		await f();
	} finally {
		await Promise.all(runs.map((r) => r.worker.terminate()));
	}
}

/** Waits until every worker is ready, then releases them together. */
async function start(ring: Int32Array, workers: number): Promise<void> {
	const t0 = Date.now();
	while (Atomics.load(ring, CTRL_READY) < workers) {
		if (Date.now() - t0 > 60_000) throw new Error('workers did not start');
		await new Promise((r) => setTimeout(r, 5));
	}
	Atomics.store(ring, CTRL_START, 1);
	Atomics.notify(ring, CTRL_START);
}

function assertWhole(heap: Heap, initial: ReturnType<Heap['stats']>): void {
	assert.deepEqual(heap.check(), []);
	const s = heap.stats();
	assert.equal(s.usedBytes, 0, 'no bytes used');
	assert.equal(s.liveBlocks, 0);
	assert.equal(s.cachedBlocks, 0, 'the workers released their caches');
	assert.equal(s.freeBlocks, 1, 'everything coalesced into one free block');
	assert.equal(s.largestFreeBlock, initial.largestFreeBlock);
	const p = heap.malloc(s.largestAllocatable);
	assert.notEqual(p, 0, 'the whole region is allocatable as one block');
	heap.free(p);
	assert.deepEqual(heap.check(), []);
}

describe('4 workers on one shared heap', () => {
	for (const seed of [1, 2, 3]) {
		test(`seed ${seed}: stamped blocks survive, hand-offs verify, everything comes back`, async () => {
			const sab = new SharedArrayBuffer(HEAP_BYTES);
			const heap = new Heap({ buffer: sab });
			const initial = heap.stats();
			const ring = ringBuffer();
			const rv = new Int32Array(ring);
			const runs = [0, 1, 2, 3].map((id) => spawn({ sab, ring, id, peers: 4, seed, ops: 20_000, victim: false }));
			await finishAll(runs, async () => {
				await start(rv, 4);
				await Promise.all(runs.map((r) => r.done));
			});
			assertWhole(heap, initial);
		});
	}
});

describe('a worker terminated mid-way', () => {
	const cases = [
		{ delay: 20, large: false },
		{ delay: 80, large: false },
		{ delay: 10, large: true },
		{ delay: 40, large: true },
		{ delay: 120, large: true },
	];
	for (const { delay, large } of cases) {
		test(`killed after ~${delay} ms (${large ? 'large blocks: always in the heap lock' : 'mixed sizes'}): recover() lets the others finish, the heap stays sound`, async (t) => {
			const sab = new SharedArrayBuffer(HEAP_BYTES);
			const heap = new Heap({ buffer: sab, lockTimeout: 30_000 });
			const initial = heap.stats();
			const ring = ringBuffer();
			const rv = new Int32Array(ring);
			// Worker 2 is the victim; 0 and 1 hand blocks to each other only.
			const survivors = [0, 1].map((id) => spawn({ sab, ring, id, peers: 2, seed: delay, ops: 30_000, victim: false }));
			// Awaited below; marked handled now so that, if the test fails first and
			// finishAll terminates them, their rejection does not hide the real error.
			for (const r of survivors) r.done.catch(() => {});
			const victim = spawn({ sab, ring, id: 2, peers: 2, seed: delay, ops: 0, victim: true, large });
			victim.done.catch(() => {});
			await finishAll([...survivors, victim], async () => {
				await start(rv, 3);
				const t0 = Date.now();
				while (Atomics.load(rv, CTRL_PROGRESS + 2) < 64 && Date.now() - t0 < 20_000) await new Promise((r) => setTimeout(r, 2));
				await new Promise((r) => setTimeout(r, delay));
				const owner = victim.worker.threadId;
				assert.ok(owner > 0, 'the victim is still running when it is terminated');
				await victim.worker.terminate();
				const report = heap.recover(owner);
				t.diagnostic(`recover: ${JSON.stringify(report)}`);
				assert.equal(report.slots, 1);
				assert.equal(report.rebuilt, true);
				await Promise.all(survivors.map((r) => r.done));
				assert.deepEqual(heap.check(), []);
				// The victim's own blocks are still allocated; free them by pointer.
				let freed = 0;
				for (let k = 0; k < LIVE_TABLE_SIZE; k++) {
					const p = Atomics.load(rv, LIVE_TABLE + k);
					if (p === 0) continue;
					try {
						heap.free(p);
						freed++;
					} catch {
						// The block it was freeing when it died: already gone.
					}
				}
				assert.ok(freed > 0, 'the victim held blocks');
				assert.deepEqual(heap.check(), []);
				const s = heap.stats();
				// At most the block a dead call was handing out or resizing stays.
				assert.ok(s.liveBlocks <= report.leakedBlocks + 1, `${s.liveBlocks} blocks still live`);
				if (s.liveBlocks === 0) {
					heap.flushCaches();
					assertWhole(heap, initial);
				}
			});
		});
	}
});

test('examples/shared-workers runs and verifies itself', async () => {
	const { execFile } = await import('node:child_process');
	const main = new URL('../examples/shared-workers/main.ts', import.meta.url);
	const out = await new Promise<string>((resolve, reject) => {
		execFile(process.execPath, ['--import', 'tsx', main.pathname], { timeout: 120_000 }, (err, stdout, stderr) => {
			if (err) reject(new Error(`${err.message}\n${stderr}`));
			else resolve(stdout);
		});
	});
	assert.match(out, /phase 1: 4 workers counted 100,000 words: 7,342 distinct/);
	assert.match(out, /stats: usedBytes 0, liveBlocks 0, cachedBlocks 0, freeBlocks 1/);
	assert.match(out, /check\(\): \[\] \(sound\)/);
	assert.match(out, /^ok$/m);
});
