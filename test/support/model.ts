/**
 * Scaffolding of the model-based tests (model.test.ts, shared.test.ts) and
 * the program fuzzer (fuzz.test.ts): pattern stamps, the shadow's stamp
 * counter and block picks, and the size bounds a heap call is checked against.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { type Heap, layout } from '../../src/index.js';
import { patternBytes } from './rng.js';

const { blockSizeFor, MIN_BLOCK, CACHE_CLASSES, CACHE_MAX_BLOCK, cacheClassSize, cacheClassUp } = layout;

// ─── Stamps ─────────────────────────────────────────────────────────────

/** Distinct stamp offsets into a pattern: a block with stamp s holds pattern[s, s + size). */
export const STAMP_SPAN = 4096;

/**
 * Stamps from `patternBytes(bytes + STAMP_SPAN, seed)`: enough pattern for
 * blocks of up to `bytes` bytes under any stamp below STAMP_SPAN. A stamp is
 * a pseudo-random byte pattern per block, which also catches a copy that
 * lands shifted. Each test file keeps its own `bytes` and `seed`.
 */
export function patternStamps(bytes: number, seed: number) {
	const pattern = patternBytes(bytes + STAMP_SPAN, seed);
	/** Fills `[ptr, ptr + n)` of `buf` with stamp `s`. */
	const fill = (buf: ArrayBufferLike, ptr: number, n: number, s: number): void => {
		new Uint8Array(buf, ptr, n).set(pattern.subarray(s, s + n));
	};
	/** Whether `[ptr, ptr + n)` of `buf` still holds stamp `s`. */
	const intact = (buf: ArrayBufferLike, ptr: number, n: number, s: number): boolean =>
		n === 0 || Buffer.from(buf as ArrayBuffer, ptr, n).equals(Buffer.from(pattern.buffer, s, n));
	/** Fills `n` bytes at `ptr` of `heap` with stamp `s`. */
	const stamp = (heap: Heap, ptr: number, n: number, s: number): void => fill(heap.buffer, ptr, n, s);
	/** Asserts the `n` bytes at `ptr` of `heap` still hold stamp `s`, naming the first that does not. */
	const assertStamp = (heap: Heap, ptr: number, n: number, s: number, what: string): void => {
		if (intact(heap.buffer, ptr, n, s)) return;
		const i = new Uint8Array(heap.buffer, ptr, n).findIndex((x, k) => x !== pattern[s + k]);
		assert.fail(`${what}: block ${ptr} byte ${i} of ${n} lost its contents`);
	};
	return { pattern, fill, intact, stamp, assertStamp };
}

// ─── The shadow model ───────────────────────────────────────────────────

/** The next stamp of a shadow model (offsets 613 apart, mod STAMP_SPAN). */
export function nextStamp(m: { stamps: number }): number {
	m.stamps++;
	return (m.stamps * 613) % STAMP_SPAN;
}

/** The live block at position `idx` (mod count) in address order. */
export function pick<E>(m: { readonly live: ReadonlyMap<number, E> }, idx: number): [number, E] {
	const keys = [...m.live.keys()].sort((a, b) => a - b);
	const ptr = keys[idx % keys.length];
	return [ptr, m.live.get(ptr) as E];
}

/** Whether the shadow has a live block (the `check` of commands that take one). */
export const hasLive = (m: { readonly live: ReadonlyMap<number, unknown> }): boolean => m.live.size > 0;

// ─── Size bounds ────────────────────────────────────────────────────────

/** For align > 8 the heap may ask for up to need + align + 16; allow twice that slack. */
export function alignedNeed(size: number, align: number): number {
	return align <= 8 ? blockSizeFor(size) : blockSizeFor(size) + 2 * align + MIN_BLOCK;
}

/**
 * The largest block size a request of `size` bytes may be served from
 * (before an align trailer or remainder). With a small-block cache
 * (`cached`), a cached size comes from its cache class, whose list holds
 * blocks up to the next class's size (layout.ts).
 */
export function mostUsable(size: number, cached: boolean): number {
	const need = blockSizeFor(size);
	if (!cached || need > CACHE_MAX_BLOCK) return need;
	const up = cacheClassUp(need);
	return up + 1 < CACHE_CLASSES ? cacheClassSize(up + 1) - 8 : CACHE_MAX_BLOCK;
}
