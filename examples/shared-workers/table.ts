/**
 * table.ts: a chained hash table of word counts that lives entirely in a
 * shared heap, used by main.ts and worker.ts alike.
 *
 * ```
 *  table block (calloc'ed once by main):
 *    ┌───────────── BUCKETS × i32 ─────────────┬──────── BUCKETS × u32 ────────┐
 *    │ lock word of bucket 0, 1, ...            │ head ptr of bucket 0, 1, ...  │
 *    └──────────────────────────────────────────┴───────────────────────────────┘
 *  node (malloc'ed by whichever worker first saw the word), 5 × u32:
 *    │ next │ key ptr │ key length │ count │ allocated by (worker index + 1) │
 *  key: its own malloc'ed block of ASCII bytes
 * ```
 * The heap makes malloc/free safe from every worker at once, but it knows
 * nothing about this table: the table guards its own buckets with lock words
 * of its own (which themselves live in a heap block). Every node and key is
 * only read or written with its bucket's lock held.
 */
import type { Heap } from '../../src/index.js';

export const BUCKETS = 256;
const NEXT = 0, KEY = 1, LEN = 2, COUNT = 3, BY = 4;
const NODE_BYTES = 5 * 4;

export class Table {
	private readonly i32: Int32Array;
	private readonly u32: Uint32Array;
	private readonly u8: Uint8Array;
	/** Word index of the first lock word and of the first head. */
	private readonly locks: number;
	private readonly heads: number;

	constructor(readonly heap: Heap, readonly ptr: number) {
		this.i32 = new Int32Array(heap.buffer);
		this.u32 = new Uint32Array(heap.buffer);
		this.u8 = new Uint8Array(heap.buffer);
		this.locks = ptr >>> 2;
		this.heads = (ptr >>> 2) + BUCKETS;
	}

	/** Makes an empty table (all locks free, all chains empty) in `heap`. */
	static create(heap: Heap): Table {
		const ptr = heap.calloc(BUCKETS, 8);
		if (ptr === 0) throw new Error('out of memory for the table');
		return new Table(heap, ptr);
	}

	/**
	 * A futex-style mutex on one i32 word: 0 free, 1 held, 2 held and maybe
	 * waited on. Uncontended it costs one compareExchange; contended, waiters
	 * sleep in Atomics.wait until unlock notifies them. Atomics give the
	 * happens-before edge that makes the plain reads/writes of nodes safe.
	 */
	lock(b: number): void {
		const w = this.locks + b;
		let c = Atomics.compareExchange(this.i32, w, 0, 1);
		if (c === 0) return;
		if (c !== 2) c = Atomics.exchange(this.i32, w, 2);
		while (c !== 0) {
			Atomics.wait(this.i32, w, 2);
			c = Atomics.exchange(this.i32, w, 2);
		}
	}
	unlock(b: number): void {
		const w = this.locks + b;
		if (Atomics.sub(this.i32, w, 1) !== 1) {
			Atomics.store(this.i32, w, 0);
			Atomics.notify(this.i32, w, 1);
		}
	}

	/** FNV-1a of an ASCII word, folded to a bucket. */
	static bucketOf(word: string): number {
		let h = 0x811c9dc5;
		for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193);
		return (h >>> 0) % BUCKETS;
	}

	private keyEquals(node: number, word: string): boolean {
		const n = node >>> 2;
		if (this.u32[n + LEN] !== word.length) return false;
		const key = this.u32[n + KEY];
		for (let i = 0; i < word.length; i++) if (this.u8[key + i] !== word.charCodeAt(i)) return false;
		return true;
	}

	/** Counts one occurrence of `word`; true when it made a new node. */
	add(word: string, by: number): boolean {
		const b = Table.bucketOf(word);
		this.lock(b);
		try {
			for (let node = this.u32[this.heads + b]; node !== 0; node = this.u32[(node >>> 2) + NEXT]) {
				if (this.keyEquals(node, word)) {
					this.u32[(node >>> 2) + COUNT]++;
					return false;
				}
			}
			// New word: a node and a key block, from this worker's Heap object.
			const node = this.heap.malloc(NODE_BYTES);
			const key = this.heap.malloc(word.length);
			if (node === 0 || key === 0) throw new Error('out of memory');
			for (let i = 0; i < word.length; i++) this.u8[key + i] = word.charCodeAt(i);
			this.u32.set([this.u32[this.heads + b], key, word.length, 1, by], node >>> 2);
			this.u32[this.heads + b] = node;
			return true;
		} finally {
			this.unlock(b);
		}
	}

	/**
	 * Unlinks `word` (when `word` is null: every node of bucket `b`) and frees
	 * its node and key, whichever worker allocated them. Returns how many
	 * nodes went and how many of those another worker (not `by`) allocated.
	 */
	remove(b: number, word: string | null, by: number): { removed: number; foreign: number } {
		let removed = 0, foreign = 0;
		this.lock(b);
		try {
			let link = this.heads + b; // word index of the pointer to patch
			for (let node = this.u32[link]; node !== 0; node = this.u32[link]) {
				const n = node >>> 2;
				if (word !== null && !this.keyEquals(node, word)) {
					link = n + NEXT;
					continue;
				}
				this.u32[link] = this.u32[n + NEXT];
				if (this.u32[n + BY] !== by) foreign++;
				this.heap.free(this.u32[n + KEY]);
				this.heap.free(node);
				removed++;
			}
		} finally {
			this.unlock(b);
		}
		return { removed, foreign };
	}

	/** Every (word, count) in the table, read bucket by bucket under the locks. */
	entries(): Map<string, number> {
		const out = new Map<string, number>();
		for (let b = 0; b < BUCKETS; b++) {
			this.lock(b);
			for (let node = this.u32[this.heads + b]; node !== 0; node = this.u32[(node >>> 2) + NEXT]) {
				const [key, len, count] = this.u32.subarray((node >>> 2) + KEY, (node >>> 2) + BY);
				out.set(String.fromCharCode(...this.u8.subarray(key, key + len)), count);
			}
			this.unlock(b);
		}
		return out;
	}
}
