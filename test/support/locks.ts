/**
 * Lock words of a shared heap, for tests that simulate a worker that died
 * holding a lock (layout.ts: the root's LOCK, each thread slot's LOCK).
 */
import assert from 'node:assert/strict';
import { type Heap, layout } from '../../src/index.js';

const { R_LOCK, R_THREADS, R_THREAD_SLOTS, SLOT_WORDS, S_LOCK } = layout;

/** Word index of the root LOCK of `heap`. */
export const heapLockWord = (heap: Heap): number => (heap.regionStart >>> 2) + R_LOCK;

/** Word index of the LOCK of thread slot `slot`. */
export function slotLockWord(heap: Heap, slot: number): number {
	const table = heap._m[(heap.regionStart >>> 2) + R_THREADS] >>> 2;
	assert.ok(table !== 0 && slot >= 0 && slot < heap._m[(heap.regionStart >>> 2) + R_THREAD_SLOTS], `slot ${slot} of a thread table`);
	return table + slot * SLOT_WORDS + S_LOCK;
}

/** Word index of thread slot `slot` of `heap`'s table. */
export const slotWord = (heap: Heap, slot: number): number => slotLockWord(heap, slot) - S_LOCK;

/** Makes lock word `w` read as held by thread slot `slot` (a worker that died holding it). */
export function holdLock(heap: Heap, w: number, slot: number): void {
	assert.ok(slot >= 0, 'the holder must have a slot');
	Atomics.store(new Int32Array(heap.buffer), w, (slot + 1) << 1);
}

/** The value of lock word `w`. */
export function lockWord(heap: Heap, w: number): number {
	return Atomics.load(new Int32Array(heap.buffer), w);
}
