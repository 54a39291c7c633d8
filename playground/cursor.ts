/**
 * cursor.ts: a trace replayed one op at a time, so the page can play,
 * pause and scrub it. `replay()` (src/trace/replay.ts) runs a whole trace or
 * a prefix of it in one call; the page needs to stop after any op and go
 * on later, so this keeps replay's tables (pointer and size per object id)
 * between calls and applies the ops with replay's meaning:
 *
 * ```
 *  op            heap call                     then
 *  a id size     malloc(size)                  ptrOf[id] = p
 *  c id size     calloc(1, size)               ptrOf[id] = p
 *  m id al size  alignedAlloc(al, size)        ptrOf[id] = p
 *  r id size     realloc(ptrOf[id], size)      ptrOf[id] = p
 *  f id          free(ptrOf[id])               ptrOf[id] = 0
 * ```
 * A 0 return for a size above 0 stops the cursor (out of memory), as it
 * stops `replay()`. Seeking backwards starts again from a fresh heap.
 */
import { Heap } from '../src/index.js';
import { OP_CALLOC, OP_FREE, OP_MALLOC, OP_REALLOC, type Trace } from '../src/trace/index.js';

/**
 * The playground's heaps have no small-block cache: it shows splitting and
 * merging, and with a cache a freed small block would wait unmerged.
 */
export const PLAYGROUND_CACHE = false;

export class TraceCursor {
	heap: Heap;
	/** Ops applied so far. */
	pos = 0;
	/** Requested bytes of every live block, by ptr (what the heap map draws as payload). */
	readonly requested = new Map<number, number>();
	/** Set when an allocation returned 0: the op index. */
	failedAt = -1;
	private ptrOf: Float64Array;
	private idOf = new Map<number, number>();

	constructor(
		readonly trace: Trace,
		readonly heapSize: number,
	) {
		this.heap = new Heap({ size: heapSize, cache: PLAYGROUND_CACHE });
		this.ptrOf = new Float64Array(trace.maxId + 1);
	}

	/** Starts again from a fresh heap at op 0. */
	reset(): void {
		this.heap = new Heap({ size: this.heapSize, cache: PLAYGROUND_CACHE });
		this.ptrOf.fill(0);
		this.idOf.clear();
		this.requested.clear();
		this.pos = 0;
		this.failedAt = -1;
	}

	/** Applies ops until `target` ops are done (or an allocation fails); returns the ops applied. */
	advanceTo(target: number): number {
		const end = Math.min(target, this.trace.ops);
		const start = this.pos;
		while (this.pos < end && this.failedAt < 0) this.apply(this.pos);
		return this.pos - start;
	}

	/** Moves to exactly `target` ops done, replaying from the start when it lies behind. */
	seek(target: number): void {
		if (target < this.pos) this.reset();
		this.advanceTo(target);
	}

	/** Forgets a block the person freed by hand (its trace object then counts as freed). */
	forget(ptr: number): void {
		const id = this.idOf.get(ptr);
		if (id !== undefined) {
			this.ptrOf[id] = 0;
			this.idOf.delete(ptr);
		}
	}

	/** Follows a block the person moved by hand with realloc. */
	moved(from: number, to: number): void {
		const id = this.idOf.get(from);
		if (id === undefined || from === to) return;
		this.idOf.delete(from);
		this.ptrOf[id] = to;
		this.idOf.set(to, id);
	}

	/** Applies op `i` (which must be `pos`). */
	private apply(i: number): void {
		const t = this.trace;
		const k = t.kind[i];
		const id = t.id[i];
		const heap = this.heap;
		const old = this.ptrOf[id];
		if (k === OP_FREE) {
			heap.free(old);
			this.drop(old);
			this.ptrOf[id] = 0;
			this.pos++;
			return;
		}
		const size = t.size[i];
		let p: number;
		if (k === OP_MALLOC) p = heap.malloc(size);
		else if (k === OP_CALLOC) p = heap.calloc(1, size);
		else if (k === OP_REALLOC) p = heap.realloc(old, size);
		else p = heap.alignedAlloc((t.align as Uint32Array)[i], size);
		if (p === 0 && size !== 0) {
			this.failedAt = i;
			return;
		}
		if (k === OP_REALLOC) this.drop(old);
		this.ptrOf[id] = p;
		if (p !== 0) {
			this.requested.set(p, size);
			this.idOf.set(p, id);
		}
		this.pos++;
	}

	private drop(ptr: number): void {
		if (ptr === 0) return;
		this.requested.delete(ptr);
		this.idOf.delete(ptr);
	}
}
