/** Block contents and region snapshots, for the tests that check no byte changed. */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import type { Heap } from '../../src/index.js';

/** Byte `i` of a stamp: never 0, so a stamp differs from zeroed memory. */
export const stampByte = (seed: number, i: number): number => ((seed * 31 + i) % 251) + 1;

/** Fills `n` bytes (default: all usable bytes) at `ptr` with stamp `seed`. */
export function stamp(heap: Heap, ptr: number, seed: number, n = heap.usableSize(ptr)): void {
	for (let i = 0; i < n; i++) heap._u8[ptr + i] = stampByte(seed, i);
}

/** Asserts the first `n` bytes at `ptr` still hold stamp `seed`. */
export function assertStamp(heap: Heap, ptr: number, seed: number, n: number): void {
	for (let i = 0; i < n; i++) {
		if (heap._u8[ptr + i] !== stampByte(seed, i)) assert.fail(`byte ${i} of ${ptr} (stamp ${seed}) was changed`);
	}
}

/** A copy of the heap's region, to compare after a call that must change nothing. */
export const regionBytes = (heap: Heap): Uint8Array => new Uint8Array(heap.buffer, heap.regionStart, heap.regionEnd - heap.regionStart).slice();

/** A copy of the whole buffer. */
export const snapshot = (heap: Heap): Uint8Array => new Uint8Array(heap.buffer).slice();

/** Asserts the whole buffer still equals `before` (a `snapshot`), naming the first byte that differs. */
export function assertBytesUnchanged(heap: Heap, before: Uint8Array, what: string): void {
	const after = new Uint8Array(heap.buffer);
	if (Buffer.compare(before, after) === 0) return;
	const i = before.findIndex((x, k) => x !== after[k]);
	assert.fail(`${what}: byte ${i} was ${before[i]}, is ${after[i]}`);
}
