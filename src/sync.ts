/**
 * sync.ts: the lock words of a shared heap (the root's LOCK and each thread
 * slot's LOCK, layout.ts). Main entry points: `lock`, `tryLock`, `unlock`.
 *
 * ```
 *   31 30                                               1    0
 *  ┌──┬──────────────────────────────────────────────────┬────┐
 *  │0 │ holder: slot index + 1 (0 = the word is free)     │ W  │
 *  └──┴──────────────────────────────────────────────────┴────┘
 *  W: someone may be sleeping in Atomics.wait on this word
 *  holder NO_SLOT_ID: a Heap object without a thread slot
 * ```
 * A futex-style mutex: take it with one compareExchange from 0; when it is
 * held, spin a little (critical sections are a few hundred nanoseconds),
 * then set W and sleep in `Atomics.wait` until the holder's `unlock` sees W
 * and calls `Atomics.notify`. A thread that has slept takes the lock with W
 * set, because other sleepers may remain. Where `Atomics.wait` is not
 * allowed (a browser's main thread) the waiter only spins.
 *
 * Memory ordering: every access to a lock word is an Atomics operation, and
 * those are sequentially consistent. In the JavaScript memory model the
 * `Atomics.exchange` in `unlock` synchronizes-with the `compareExchange`
 * that next takes the lock, so every plain read and write the previous
 * holder made inside its critical section happens-before everything the
 * next holder does inside its own. Plain accesses to heap words are
 * therefore race-free as long as each word is only touched with the right
 * lock held; the payload-start bitmap, whose words are shared by blocks
 * that different locks protect, is only changed with Atomics (shared.ts).
 *
 * The holder is recorded so that a thread that died holding a lock can be
 * found and its lock taken over by `Heap.recover` (shared.ts). Waiting is
 * bounded: after `timeoutMs` a waiter throws HeapError LOCK_TIMEOUT naming
 * the holder instead of hanging forever.
 */
import { heapError } from './errors.js';

/** Waiters bit of a lock word. */
const WAITERS = 1;
/**
 * Reads of a held lock before a waiter goes to sleep. A sleep and wake-up
 * cost tens of microseconds, far more than a critical section, so waiters
 * spin for a few microseconds first (measured in bench/shared.ts: 64 spins
 * left 2 workers at 1.43× one worker, 1,000 at 1.6×).
 */
const SPINS = 1000;
/** Longest single sleep, so a waiter re-checks its deadline. */
const SLICE_MS = 50;

/** Whether this thread may block in Atomics.wait (false on a browser main thread). */
const canWait: boolean = probeWait();

function probeWait(): boolean {
	if (typeof SharedArrayBuffer === 'undefined') return false;
	try {
		// A value that does not match returns at once where waiting is allowed
		// and throws where it is not.
		Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
		return true;
	} catch {
		return false;
	}
}

/** Holder id of a Heap object without a thread slot (it cannot be recovered). */
export const NO_SLOT_ID = 0x3fff_ffff;

/** The lock word value a holder with id `id` (slot + 1) writes. */
function lockValue(id: number): number {
	return id << 1;
}

/** The holder id (slot + 1) of lock word value `v`; 0 when free. */
export function holderOf(v: number): number {
	return v >>> 1;
}

/** Takes lock word `i` of `a` for holder `id`, or returns false at once. */
export function tryLock(a: Int32Array, i: number, id: number): boolean {
	return Atomics.compareExchange(a, i, 0, lockValue(id)) === 0;
}

/**
 * Takes lock word `i` of `a` for holder `id`, waiting while another holds
 * it: sleeping in Atomics.wait where `sleep` (this thread may block), else
 * spinning. Throws HeapError LOCK_TIMEOUT after `timeoutMs`.
 */
export function lock(a: Int32Array, i: number, id: number, timeoutMs: number, op: string, sleep = canWait): void {
	if (Atomics.compareExchange(a, i, 0, lockValue(id)) !== 0) lockSlow(a, i, lockValue(id), timeoutMs, op, sleep);
}

function lockSlow(a: Int32Array, i: number, mine: number, timeoutMs: number, op: string, sleep: boolean): void {
	let spins = 0;
	let slept = false;
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const v = Atomics.load(a, i);
		if (v === 0) {
			if (Atomics.compareExchange(a, i, 0, slept ? mine | WAITERS : mine) === 0) return;
			continue;
		}
		if (spins < SPINS) {
			spins++;
			continue;
		}
		if ((v & WAITERS) === 0 && Atomics.compareExchange(a, i, v, v | WAITERS) !== v) continue;
		if (sleep) Atomics.wait(a, i, v | WAITERS, SLICE_MS);
		slept = true;
		if (Date.now() > deadline) {
			throw heapError(
				'LOCK_TIMEOUT',
				op,
				holderOf(v) === NO_SLOT_ID
					? `waited ${timeoutMs} ms for a heap lock held by a Heap object without a thread slot`
					: `waited ${timeoutMs} ms for a heap lock held by thread slot ${holderOf(v) - 1}; if that worker was terminated, call heap.recover() for it`,
				undefined,
				holderOf(v) - 1,
			);
		}
	}
}

/** Releases lock word `i` of `a`, waking one sleeper if there may be any. */
export function unlock(a: Int32Array, i: number): void {
	if ((Atomics.exchange(a, i, 0) & WAITERS) !== 0) Atomics.notify(a, i, 1);
}

/**
 * Hands lock word `i`, held by dead holder `dead`, to holder `id`. Returns
 * false (and changes nothing) when `dead` does not hold it.
 */
export function takeOver(a: Int32Array, i: number, dead: number, id: number): boolean {
	for (;;) {
		const v = Atomics.load(a, i);
		if (holderOf(v) !== dead) return false;
		if (Atomics.compareExchange(a, i, v, lockValue(id) | (v & WAITERS)) === v) return true;
	}
}
