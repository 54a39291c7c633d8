/**
 * targets.ts: every JavaScript-side peer as a `ReplayTarget` over a fixed
 * arena. Main entry point: `makeTarget(peer, arenaBytes, wasmPath)`.
 *
 * | peer      | arena                                   | notes                                          |
 * |-----------|-----------------------------------------|------------------------------------------------|
 * | heapfit   | `new Heap({ size: arena })`              | the whole region, metadata included            |
 * | thing     | `new MemPool({ buf: ArrayBuffer(arena) })` | realloc patched (see ThingPool)              |
 * | as        | imported WebAssembly.Memory, initial = maximum = arena pages | TLSF sees it all on its first alloc |
 * | bump      | a counter; never frees                  | the replay loop's own cost                     |
 *
 * The C library's malloc is not here: it runs natively (native/replay.c).
 */
import { readFileSync } from 'node:fs';
import { MemPool } from '@thi.ng/malloc';
import { Heap } from '../../src/index.js';
import type { ReplayTarget } from '../../src/trace/index.js';

/** Every peer the suite knows, in table order. */
export const PEERS = ['heapfit', 'native', 'as', 'thing', 'bump'] as const;
export type Peer = (typeof PEERS)[number];

/** Peers that run in JavaScript (or wasm called from JavaScript) in a worker process. */
export type JsPeer = Exclude<Peer, 'native'>;

/** Display names. */
export const PEER_NAMES: Record<Peer, string> = {
	heapfit: 'heapfit',
	native: 'C malloc (glibc, native)',
	as: 'AssemblyScript TLSF',
	thing: '@thi.ng/malloc',
	bump: 'bump (JS, never frees)',
};

/** Short names for table headers and chart legends. */
export const PEER_SHORT: Record<Peer, string> = {
	heapfit: 'heapfit',
	native: 'C malloc',
	as: 'AS TLSF',
	thing: 'thi.ng',
	bump: 'bump',
};

/** A target and the arena it manages. */
export interface BenchTarget {
	target: ReplayTarget;
	/** Bytes the allocator may use (the denominator of heap efficiency). */
	arenaBytes: number;
	/** Runs the allocator's own consistency check, if it has one: the number of problems. */
	check?: () => number;
}

const WASM_PAGE = 65536;

/**
 * @thi.ng/malloc's MemPool with `realloc` fixed. Its own realloc, when the
 * block has to move, calls `free` with the block's header address instead
 * of its data address, which frees nothing (the old block leaks); and when
 * the new `malloc` fails it copies to address −8 + 8 = 0 over its own state.
 * So: when the library would resize in place (the same test it makes), its
 * realloc is called; otherwise this does malloc, copy, free, which is what
 * the library means to do. `malloc(0)` returns 0 in MemPool, so 0 is passed
 * as 1 (the trace format allows treating 0 as 1).
 */
class ThingPool extends MemPool {
	reallocFixed(ptr: number, bytes: number): number {
		if (ptr === 0) return this.malloc(bytes === 0 ? 1 : bytes);
		if (bytes === 0) bytes = 1;
		const block = ptr - 8;
		const blockSize = this.u32[block >>> 2];
		const align = this.align;
		const padded = Math.ceil((bytes + 8) / align) * align;
		const isTop = block + blockSize >= this.top;
		if (padded <= blockSize || (isTop && block + padded < this.end)) return this.realloc(ptr, bytes);
		const q = this.malloc(bytes);
		if (q === 0) return 0;
		this.u8.copyWithin(q, ptr, ptr + Math.min(blockSize - 8, bytes));
		this.free(ptr);
		return q;
	}
}

class ThingTarget implements ReplayTarget {
	constructor(readonly pool: ThingPool) {}
	malloc(size: number): number {
		return this.pool.malloc(size === 0 ? 1 : size);
	}
	calloc(count: number, size: number): number {
		const n = count * size;
		return this.pool.calloc(n === 0 ? 1 : n);
	}
	free(ptr: number): void {
		if (ptr !== 0) this.pool.free(ptr);
	}
	realloc(ptr: number, size: number): number {
		return this.pool.reallocFixed(ptr, size);
	}
}

/** The exports of the AssemblyScript module (see as.ts). */
interface AsExports {
	alloc(n: number): number;
	free(p: number): void;
	realloc(p: number, n: number): number;
	calloc(n: number): number;
}

/**
 * AssemblyScript's TLSF through its exported wrappers. A failed allocation
 * traps (`unreachable` when memory cannot grow, or `abort` for a size above
 * its block limit): that is caught and returned as 0. Pointers are u32 in
 * the module's own memory.
 */
class AsTarget implements ReplayTarget {
	constructor(readonly ex: AsExports) {}
	malloc(size: number): number {
		try {
			return this.ex.alloc(size) >>> 0;
		} catch {
			return 0;
		}
	}
	calloc(count: number, size: number): number {
		try {
			return this.ex.calloc(count * size) >>> 0;
		} catch {
			return 0;
		}
	}
	free(ptr: number): void {
		if (ptr !== 0) this.ex.free(ptr);
	}
	realloc(ptr: number, size: number): number {
		try {
			return (ptr === 0 ? this.ex.alloc(size) : this.ex.realloc(ptr, size)) >>> 0;
		} catch {
			return 0;
		}
	}
}

/**
 * Never frees: each allocation takes the next 8-aligned bytes. With a limit
 * (the heap-efficiency workload) it fails once the arena is used up.
 */
class BumpTarget implements ReplayTarget {
	private top = 8;
	constructor(readonly limit: number) {}
	malloc(size: number): number {
		const p = this.top;
		const next = p + (size <= 8 ? 8 : size + 7 - ((size + 7) % 8));
		if (next > this.limit) return 0;
		this.top = next;
		return p;
	}
	calloc(count: number, size: number): number {
		return this.malloc(count * size);
	}
	alignedAlloc(align: number, size: number): number {
		const a = Math.max(align, 8);
		this.top = Math.ceil(this.top / a) * a;
		return this.malloc(size);
	}
	free(_ptr: number): void {}
	realloc(_ptr: number, size: number): number {
		return this.malloc(size);
	}
}

/** Instantiates the compiled AssemblyScript module over a fixed memory of `arenaBytes`. */
function instantiateAs(wasmPath: string, arenaBytes: number): AsExports {
	const pages = Math.ceil(arenaBytes / WASM_PAGE);
	const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
	const mod = new WebAssembly.Module(readFileSync(wasmPath));
	const abort = (_msg: number, _file: number, line: number, col: number): never => {
		throw new Error(`AssemblyScript abort at ${line}:${col}`);
	};
	const inst = new WebAssembly.Instance(mod, { env: { memory, abort } });
	return inst.exports as unknown as AsExports;
}

/**
 * Makes a fresh allocator of `peer` over `arenaBytes`. For `bump`, `limited`
 * says whether the arena bounds it (efficiency) or not (replays).
 */
export function makeTarget(peer: JsPeer, arenaBytes: number, wasmPath: string | null, limited = true): BenchTarget {
	switch (peer) {
		case 'heapfit': {
			const heap = new Heap({ size: arenaBytes });
			return { target: heap, arenaBytes, check: () => heap.check().length };
		}
		case 'thing': {
			const pool = new ThingPool({ buf: new ArrayBuffer(arenaBytes) });
			return { target: new ThingTarget(pool), arenaBytes };
		}
		case 'as': {
			if (wasmPath === null) throw new Error('the AssemblyScript module was not compiled');
			return { target: new AsTarget(instantiateAs(wasmPath, arenaBytes)), arenaBytes: Math.ceil(arenaBytes / WASM_PAGE) * WASM_PAGE };
		}
		case 'bump':
			return { target: new BumpTarget(limited ? arenaBytes : Number.POSITIVE_INFINITY), arenaBytes };
	}
}
