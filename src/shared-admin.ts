/**
 * shared-admin.ts: the calls of a shared heap that hold every lock at once:
 * `stats`, `blocks`, `check` (with every thread cache accounted for) and
 * `recover` (taking over a dead worker's locks, then repair.ts). The fast
 * paths and the locks themselves are in shared.ts.
 *
 * ```
 *  heap lock ─┬─ slot 0 lock ─ slot 1 lock ─ … ─ slot n−1 lock   (in this order)
 *             └─ the snapshot or the repair runs here
 * ```
 */
import type { BlockInfo, HeapStats, RecoverReport, Violation } from './api.js';
import { checkHeap } from './check.js';
import { invalidOptions } from './errors.js';
import { S_LOCK } from './layout.js';
import { repairShared } from './repair.js';
import type { SharedState } from './shared.js';
import { readStats } from './stats.js';
import { lock, takeOver } from './sync.js';
import { slotClaimed, slotOwner } from './threads.js';
import { walk } from './walk.js';
import { cachedSet } from './cache.js';

/** `Heap.stats` of a shared heap: the root's counters less the cached blocks, with every lock held. */
export function sharedStats(st: SharedState): HeapStats {
	return st.exclusive('stats', () => readStats(st.heap));
}

/** `Heap.blocks` of a shared heap: a snapshot of the walk taken with every lock held. */
export function sharedBlocks(st: SharedState): IterableIterator<BlockInfo> {
	return st.exclusive('blocks', () => [...walk(st.heap, cachedSet(st.heap, []))])[Symbol.iterator]();
}

/** `Heap.check` of a shared heap: the cache lists, then every heap invariant, with every lock held. */
export function sharedCheck(st: SharedState): Violation[] {
	return st.exclusive('check', () => checkHeap(st.heap));
}

/** `Heap.recover` (see the README for what it guarantees): the locks, then repair.ts. */
export function recoverOwner(st: SharedState, owner: number): RecoverReport {
	if (!Number.isInteger(owner) || owner <= 0 || owner > 0xffff_ffff) {
		throw invalidOptions('recover', 'owner must be the positive integer tag the dead worker attached with', owner);
	}
	if (owner === st.owner && st.slot >= 0) throw invalidOptions('recover', 'owner is this Heap object itself', owner);
	const m = st.heap._m;
	const dead: number[] = [];
	for (const [s, w] of st.slotWs.entries()) {
		if (slotClaimed(st.i32, w) && slotOwner(m, w) === owner) dead.push(s);
	}
	const report: RecoverReport = { slots: dead.length, locksTaken: 0, cachedReturned: 0, leakedBlocks: 0, rebuilt: false };
	if (dead.length === 0) return report;
	const a = st.i32;
	// Any lock a dead thread holds is taken over (it may hold other slots'
	// locks too, from stats, check, growth or a flush); a live holder is waited for.
	const takeFromDead = (w: number): number => {
		for (const s of dead) {
			const v = Atomics.load(a, w);
			if (takeOver(a, w, s + 1, st.id)) {
				report.locksTaken++;
				return v;
			}
		}
		return 0;
	};
	const deadHeapValue = takeFromDead(st.lockW);
	if (deadHeapValue === 0) lock(a, st.lockW, st.id, st.timeout, 'recover');
	let held = 0;
	try {
		for (; held < st.slots; held++) {
			const w = st.slotWs[held] + S_LOCK;
			if (takeFromDead(w) === 0) lock(a, w, st.id, st.timeout, 'recover');
		}
		const r = repairShared(st.heap, st.i32, st.slotWs, dead);
		st.seeGrowths();
		report.cachedReturned = r.released;
		report.leakedBlocks = r.leaked;
		report.rebuilt = true;
	} catch (e) {
		st.unlockSlots(held);
		// A heap the dead thread left half-updated stays locked in its name
		// rather than being handed to everyone.
		if (deadHeapValue !== 0) Atomics.store(a, st.lockW, deadHeapValue);
		else st.unlockHeap();
		throw e;
	}
	st.unlockSlots();
	st.unlockHeap();
	return report;
}
