/**
 * One worker of the multi-worker stress tests (test/workers.test.ts).
 *
 * It attaches to the shared heap, runs a random program of malloc / calloc /
 * alignedAlloc / realloc / free and the Allocator API's allocate / grow /
 * shrink / deallocate, calls stats(), check() and blocks() while the others
 * keep going, stamps every block it owns with a pattern derived from a
 * per-block stamp, verifies the pattern before every realloc and free, and
 * hands some blocks to other workers through their inbox rings, where the
 * receiver verifies and frees (or adopts) them.
 *
 * Ring memory (an Int32Array over its own SharedArrayBuffer), per worker w:
 * ```
 *  ringBase(w) + 0  LOCK   0 free, 1 held
 *  ringBase(w) + 1  COUNT  entries in the ring
 *  ringBase(w) + 2  HEAD   index of the oldest entry
 *  ringBase(w) + 4 + 3i    entry i: ptr, size, stamp
 * ```
 * Control words (CTRL_*) follow the rings.
 */
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import { Heap, Layout } from '../../src/index.js';
import { mulberry32 } from './rng.js';

export const RING_CAP = 256;
export const RING_WORDS = 4 + RING_CAP * 3;
export const MAX_WORKERS = 8;
/** Control words after the rings: start barrier, finished producers, progress per worker. */
export const CTRL = MAX_WORKERS * RING_WORDS;
export const CTRL_START = CTRL;
export const CTRL_DONE = CTRL + 1;
export const CTRL_READY = CTRL + 2;
export const CTRL_PROGRESS = CTRL + 3;
/** The victim's table of live pointers (terminate test), after the control words. */
export const LIVE_TABLE = CTRL_PROGRESS + MAX_WORKERS;
export const LIVE_TABLE_SIZE = 4096;
export const CTRL_WORDS = LIVE_TABLE + LIVE_TABLE_SIZE - CTRL;

export interface StressData {
	sab: SharedArrayBuffer;
	ring: SharedArrayBuffer;
	/** This worker's index and how many take part in hand-offs. */
	id: number;
	peers: number;
	seed: number;
	ops: number;
	/** Run until terminated, recording live pointers in LIVE_TABLE. */
	victim: boolean;
	/** Only blocks above the thread caches' sizes. */
	large?: boolean;
}

interface Owned {
	size: number;
	stamp: number;
}

/** The byte at offset i of a block stamped `stamp`. */
function patternAt(stamp: number, i: number): number {
	return (stamp * 31 + i * 7) & 255;
}

function run(d: StressData): void {
	const heap = Heap.attach(d.sab, 0, { owner: threadId, lockTimeout: 30_000 });
	const ring = new Int32Array(d.ring);
	const rnd = mulberry32(d.seed * 7919 + d.id);
	const live = new Map<number, Owned>();
	const order: number[] = [];
	let stamps = d.id << 24;
	let u8 = new Uint8Array(heap.buffer);
	const bytes = () => {
		if (u8.buffer !== heap.buffer || u8.length !== heap.buffer.byteLength) u8 = new Uint8Array(heap.buffer);
		return u8;
	};
	const fail = (msg: string): never => {
		throw new Error(`worker ${d.id}: ${msg}`);
	};
	const stamp = (ptr: number, size: number, from = 0): number => {
		const s = ++stamps;
		const b = bytes();
		for (let i = from; i < size; i++) b[ptr + i] = patternAt(s, i);
		return s;
	};
	const verify = (ptr: number, o: Owned, upto = o.size) => {
		const b = bytes();
		for (let i = 0; i < upto; i++) if (b[ptr + i] !== patternAt(o.stamp, i)) fail(`block ${ptr} (size ${o.size}) byte ${i} is ${b[ptr + i]}, stamp ${o.stamp} says ${patternAt(o.stamp, i)}`);
	};
	const size = () => {
		const r = rnd();
		// A large-block victim takes the heap lock on every call.
		if (d.large) return 256 + Math.floor(rnd() * 16000);
		if (r < 0.7) return 1 + Math.floor(rnd() * 248);
		if (r < 0.95) return 249 + Math.floor(rnd() * 4000);
		return 4096 + Math.floor(rnd() * 60000);
	};
	let tableNext = 0;
	const tableSlot = new Map<number, number>();
	const own = (ptr: number, o: Owned) => {
		live.set(ptr, o);
		order.push(ptr);
		if (d.victim) {
			let k = tableNext;
			while (Atomics.load(ring, LIVE_TABLE + k) !== 0) {
				k = (k + 1) % LIVE_TABLE_SIZE;
				if (k === tableNext) fail('live table full');
			}
			tableNext = (k + 1) % LIVE_TABLE_SIZE;
			Atomics.store(ring, LIVE_TABLE + k, ptr);
			tableSlot.set(ptr, k);
		}
	};
	const disown = (ptr: number) => {
		live.delete(ptr);
		if (d.victim) {
			Atomics.store(ring, LIVE_TABLE + (tableSlot.get(ptr) as number), 0);
			tableSlot.delete(ptr);
		}
	};
	const pick = (): number => {
		while (order.length > 0) {
			const i = Math.floor(rnd() * order.length);
			const ptr = order[i];
			if (live.has(ptr)) return ptr;
			order[i] = order[order.length - 1];
			order.pop();
		}
		return 0;
	};
	const freeOwned = (ptr: number) => {
		verify(ptr, live.get(ptr) as Owned);
		disown(ptr);
		heap.free(ptr);
	};

	const base = (w: number) => w * RING_WORDS;
	const lockRing = (w: number) => {
		while (Atomics.compareExchange(ring, base(w), 0, 1) !== 0) Atomics.wait(ring, base(w), 1, 1);
	};
	const unlockRing = (w: number) => {
		Atomics.store(ring, base(w), 0);
		Atomics.notify(ring, base(w), 1);
	};
	/** Hands `ptr` to worker `w`; false when its ring is full. */
	const send = (w: number, ptr: number, o: Owned): boolean => {
		const b = base(w);
		lockRing(w);
		const count = ring[b + 1];
		if (count === RING_CAP) {
			unlockRing(w);
			return false;
		}
		const at = b + 4 + ((ring[b + 2] + count) % RING_CAP) * 3;
		ring[at] = ptr;
		ring[at + 1] = o.size;
		ring[at + 2] = o.stamp;
		ring[b + 1] = count + 1;
		unlockRing(w);
		return true;
	};
	/** Takes everything in this worker's ring: verify, then free or adopt. */
	const receive = () => {
		const b = base(d.id);
		lockRing(d.id);
		const got: [number, Owned][] = [];
		for (let n = ring[b + 1]; n > 0; n--) {
			const at = b + 4 + ring[b + 2] * 3;
			got.push([ring[at], { size: ring[at + 1], stamp: ring[at + 2] }]);
			ring[b + 2] = (ring[b + 2] + 1) % RING_CAP;
		}
		ring[b + 1] = 0;
		unlockRing(d.id);
		for (const [ptr, o] of got) {
			verify(ptr, o);
			if (rnd() < 0.5) heap.free(ptr);
			else own(ptr, o);
		}
	};

	Atomics.add(ring, CTRL_READY, 1);
	Atomics.wait(ring, CTRL_START, 0);
	for (let i = 0; d.victim || i < d.ops; i++) {
		const r = rnd();
		// Live sets stay between 32 and 1,500 blocks (a few MiB) per worker.
		if (live.size < 1500 && (r < 0.4 || live.size < 32 || (d.large && live.size < 200))) {
			const n = size();
			// Mostly malloc; now and then alignedAlloc or the Allocator API's allocate.
			const how = rnd();
			const align = 16 << Math.floor(rnd() * 8);
			const ptr = how < 0.9 ? heap.malloc(n) : how < 0.95 ? heap.alignedAlloc(align, n) : heap.allocate(new Layout(n, 16));
			if (ptr === 0) fail(`allocation of ${n} returned 0`);
			if (how >= 0.9 && how < 0.95 && ptr % align !== 0) fail(`alignedAlloc(${align}, ${n}) = ${ptr} is not aligned`);
			own(ptr, { size: n, stamp: stamp(ptr, n) });
		} else if (r < 0.48 && live.size < 1500) {
			const n = size();
			const ptr = heap.calloc(1, n);
			if (ptr === 0) fail(`calloc(${n}) returned 0`);
			const b = bytes();
			for (let k = 0; k < n; k++) if (b[ptr + k] !== 0) fail(`calloc(${n}) at ${ptr}: byte ${k} is ${b[ptr + k]}`);
			own(ptr, { size: n, stamp: stamp(ptr, n) });
		} else if (r < 0.6) {
			const ptr = pick();
			const o = live.get(ptr) as Owned;
			verify(ptr, o);
			const n = size();
			disown(ptr);
			// realloc, or the Allocator API's grow / shrink (a Layout of align 8 fits every block).
			const out =
				rnd() < 0.75
					? heap.realloc(ptr, n)
					: n >= o.size
						? heap.grow(ptr, new Layout(o.size), new Layout(n))
						: heap.shrink(ptr, new Layout(o.size), new Layout(n));
			if (out === 0) fail(`realloc(${ptr}, ${n}) returned 0`);
			const keep = Math.min(n, o.size);
			verify(out, o, keep);
			// Restamp the whole block under a new stamp.
			own(out, { size: n, stamp: stamp(out, n) });
		} else if (r < 0.9) {
			const ptr = pick();
			if (rnd() < 0.8) freeOwned(ptr);
			else {
				const o = live.get(ptr) as Owned;
				verify(ptr, o);
				disown(ptr);
				heap.deallocate(ptr, new Layout(o.size));
			}
		} else if (d.peers > 1 && !d.victim) {
			const ptr = pick();
			const o = live.get(ptr) as Owned;
			const to = (d.id + 1 + Math.floor(rnd() * (d.peers - 1))) % d.peers;
			if (send(to, ptr, o)) disown(ptr);
		}
		if ((i & 15) === 0) {
			if (!d.victim) receive();
			Atomics.store(ring, CTRL_PROGRESS + d.id, i);
		}
		// Introspection while the others keep allocating.
		if (!d.victim && i % 997 === 0) {
			const st = heap.stats();
			if (st.usedBytes + st.freeBytes + st.overheadBytes + st.cachedBytes !== st.regionBytes) fail(`stats() does not add up: ${JSON.stringify(st)}`);
		}
		if (!d.victim && i % 4999 === 0) {
			const v = heap.check();
			if (v.length > 0) fail(`check() mid-run: ${JSON.stringify(v.slice(0, 3))}`);
			let mine = 0;
			for (const b of heap.blocks()) if (!b.free && !b.cached && live.has(b.ptr)) mine++;
			if (mine !== live.size) fail(`blocks() shows ${mine} of this worker's ${live.size} live blocks`);
		}
	}
	// Done producing: keep receiving until every peer is done, then once more.
	Atomics.add(ring, CTRL_DONE, 1);
	while (Atomics.load(ring, CTRL_DONE) < d.peers) {
		receive();
		Atomics.wait(ring, CTRL_DONE, Atomics.load(ring, CTRL_DONE), 1);
	}
	receive();
	for (const ptr of [...live.keys()]) freeOwned(ptr);
	const released = heap.releaseThreadCache();
	parentPort?.postMessage({ id: d.id, released, slot: heap.threadSlot });
}

// Imported by the test for the constants above; run only inside a worker.
if (!isMainThread) run(workerData as StressData);
