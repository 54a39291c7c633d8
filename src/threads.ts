/**
 * threads.ts: the thread table of a shared heap and the per-thread caches
 * of small blocks in it. The byte layout is drawn in layout.ts ("The thread
 * table"):
 *
 * ```
 *  table ─► slot 0 │ STATE LOCK OWNER CACHED_BYTES CACHED_BLOCKS ... │ HEAD/COUNT × 95 │
 *           slot 1 │ ...
 *
 *  HEAD[c] ──► cached block ──► cached block ──► 0    (linked through block + 4)
 * ```
 * A slot's words other than STATE and LOCK are only touched with its LOCK
 * held (shared.ts takes it); STATE is claimed with compareExchange.
 */
import { sizeOf, header } from './block.js';
import * as layout from './layout.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { CACHE_CLASSES, CACHE_MAX_BLOCK, CACHE_NEXT, MIN_BLOCK, S_CACHED_BLOCKS, S_CACHED_BYTES, S_HEADS, S_OWNER, S_SPLITS, S_STATE, SLOT_WORDS, cacheClassDown, cacheLimit } = layout;

/** Word index of slot `s` of the table whose first word is `table`. */
export function slotWord(table: number, s: number): number {
	return table + s * SLOT_WORDS;
}

/** Claims a free slot of `slotWs` (slot word indexes) for owner tag `owner`; its index, or −1 when all are taken. */
export function claimSlot(i32: Int32Array, slotWs: readonly number[], owner: number): number {
	for (const [s, w] of slotWs.entries()) {
		if (Atomics.load(i32, w + S_STATE) === 0 && Atomics.compareExchange(i32, w + S_STATE, 0, 1) === 0) {
			Atomics.store(i32, w + S_OWNER, owner);
			return s;
		}
	}
	return -1;
}

/** Gives slot word `w` back (its caches must be empty). */
export function releaseSlot(i32: Int32Array, w: number): void {
	Atomics.store(i32, w + S_OWNER, 0);
	Atomics.store(i32, w + S_STATE, 0);
}

/** Whether slot word `w` is claimed. */
export function slotClaimed(i32: Int32Array, w: number): boolean {
	return Atomics.load(i32, w + S_STATE) !== 0;
}

/** Owner tag of slot word `w`. */
export function slotOwner(m: Uint32Array, w: number): number {
	return m[w + S_OWNER];
}

/** Blocks in cache list `c` of slot word `w`. */
export function cacheCount(m: Uint32Array, w: number, c: number): number {
	return m[w + S_HEADS + 2 * c + 1];
}

/** Cached bytes (Σ block sizes) and blocks of slot word `w`. */
export function cachedBytes(m: Uint32Array, w: number): number {
	return m[w + S_CACHED_BYTES];
}
export function cachedBlocks(m: Uint32Array, w: number): number {
	return m[w + S_CACHED_BLOCKS];
}

/** Takes a block of class `c` from slot `w`'s cache; 0 when empty. */
export function cachePop(m: Uint32Array, w: number, c: number): number {
	const hi = w + S_HEADS + 2 * c;
	const block = m[hi];
	if (block === 0) return 0;
	m[hi] = m[(block + CACHE_NEXT) >>> 2];
	m[hi + 1]--;
	m[w + S_CACHED_BYTES] -= sizeOf(header(m, block));
	m[w + S_CACHED_BLOCKS]--;
	return block;
}

/** Puts block `block` of `size` bytes (class `c`) in slot `w`'s cache; returns the list's new count. */
export function cachePush(m: Uint32Array, w: number, c: number, block: number, size: number): number {
	const hi = w + S_HEADS + 2 * c;
	m[(block + CACHE_NEXT) >>> 2] = m[hi];
	m[hi] = block;
	m[w + S_CACHED_BYTES] += size;
	m[w + S_CACHED_BLOCKS]++;
	return ++m[hi + 1];
}

/** Whether `b` can be a cached block of class `c` in a region whose blocks lie in `[lo, hi)`. */
function isCacheEntry(m: Uint32Array, b: number, c: number, lo: number, hi: number): boolean {
	if (b < lo || b + MIN_BLOCK > hi || (b & 7) !== 4) return false;
	const size = sizeOf(header(m, b));
	return size >= MIN_BLOCK && size <= CACHE_MAX_BLOCK && cacheClassDown(size) === c;
}

/**
 * Every block in slot `w`'s caches, list by list, stopping a list at the
 * first entry that cannot be a cached block of its class (a block outside
 * `[lo, hi)`, the wrong size, or more entries than COUNT says). Used by
 * check() and by recover(), which must not trust a dead thread's lists.
 */
export function* cachedList(m: Uint32Array, w: number, lo: number, hi: number): IterableIterator<{ block: number; c: number; ok: boolean }> {
	for (let c = 0; c < CACHE_CLASSES; c++) {
		let n = cacheCount(m, w, c);
		for (let b = m[w + S_HEADS + 2 * c]; b !== 0; b = m[(b + CACHE_NEXT) >>> 2]) {
			const ok = n > 0 && isCacheEntry(m, b, c, lo, hi);
			yield { block: b, c, ok };
			if (!ok) break;
			n--;
		}
	}
}

/**
 * Cuts each list of slot `w` before its first entry that cannot be a cached
 * block of its class or is already in `kept` (a cycle, or a block linked
 * twice), adds the blocks it keeps to `kept`, and sets COUNT, CACHED_BYTES
 * and CACHED_BLOCKS to what remains (recover: a list a dead thread was
 * changing may have lost its tail).
 */
export function cutLists(m: Uint32Array, w: number, lo: number, hi: number, kept: Set<number>): void {
	let bytes = 0;
	let blocks = 0;
	for (let c = 0; c < CACHE_CLASSES; c++) {
		const hi2 = w + S_HEADS + 2 * c;
		let last = 0;
		let n = 0;
		for (let b = m[hi2]; b !== 0 && n < m[hi2 + 1] && !kept.has(b) && isCacheEntry(m, b, c, lo, hi); b = m[(b + CACHE_NEXT) >>> 2]) {
			kept.add(b);
			last = b;
			n++;
			bytes += sizeOf(header(m, b));
		}
		if (last === 0) m[hi2] = 0;
		else m[(last + CACHE_NEXT) >>> 2] = 0;
		m[hi2 + 1] = n;
		blocks += n;
	}
	m[w + S_CACHED_BYTES] = bytes;
	m[w + S_CACHED_BLOCKS] = blocks;
}

/**
 * Whether list `c` of slot `w` holds `block`, looking at no more than
 * min(COUNT, 4 × cacheLimit) entries and stopping at a link outside
 * `[lo, hi)` (another thread may be changing the list: the answer may then
 * be wrong, but the walk always ends).
 */
export function listHolds(m: Uint32Array, w: number, c: number, block: number, lo: number, hi: number): boolean {
	let b = m[w + S_HEADS + 2 * c];
	for (let n = Math.min(cacheCount(m, w, c), 4 * cacheLimit(c)); b !== 0 && n > 0; n--) {
		if (b === block) return true;
		if (b < lo || b >= hi) return false;
		b = m[(b + CACHE_NEXT) >>> 2];
	}
	return false;
}

/** Counts one block split off without the heap lock in slot `w`. */
export function addSplit(m: Uint32Array, w: number): void {
	m[w + S_SPLITS]++;
}
/** Splits counted in slot `w` since the last call; resets the count. */
export function takeSplits(m: Uint32Array, w: number): number {
	const n = m[w + S_SPLITS];
	m[w + S_SPLITS] = 0;
	return n;
}

/** Empties every list of slot `w` (the blocks must be accounted for by the caller). */
export function clearSlot(m: Uint32Array, w: number): void {
	m.fill(0, w + S_CACHED_BYTES, w + SLOT_WORDS);
}
