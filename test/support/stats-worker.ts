/**
 * A worker for test/shared-regressions.test.ts: attaches to the shared heap
 * in `workerData.sab`, says it is ready (word 0 of `workerData.flag` → 1),
 * calls stats() and posts what it returned.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Heap } from '../../src/index.js';

const { sab, flag } = workerData as { sab: SharedArrayBuffer; flag: SharedArrayBuffer };
const heap = Heap.attach(sab, 0, { owner: 500, lockTimeout: 10_000 });
const f = new Int32Array(flag);
Atomics.store(f, 0, 1);
Atomics.notify(f, 0);
const s = heap.stats();
heap.releaseThreadCache();
parentPort?.postMessage(s);
