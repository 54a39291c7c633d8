/**
 * cells.ts: the byte accounting behind every heap map. Main entry point:
 * `cellStates(heap, cells)`, which the text renderer (and any other
 * renderer) draws from.
 *
 * The blocks area `[blocksStart, sentinel)` is cut into cells of
 * `bytesPerCell = ⌈area / cells⌉` bytes; the last cell may be shorter.
 *
 * ```
 *  blocksStart                                                      sentinel
 *  │ hdr │ payload ……………… │ free block ………………………… │ hdr │ payload … │
 *  ├──────────┼──────────┼──────────┼──────────┼──────────┼──────────┼──┤
 *    cell 0     cell 1     cell 2     …                              last
 * ```
 * Each byte of the area is counted in exactly one cell and one state:
 * - `header`: the 4-byte header of an allocated block;
 * - `used`:   the payload of an allocated block (blockSize − 4 bytes);
 * - `free`:   every byte of a free block, its header, links and footer
 *             included (as `HeapStats.freeBytes` counts them);
 * - `cached`: every byte of a block waiting in the small-block cache (as
 *             `HeapStats.cachedBytes` counts them);
 * - `internal`: every byte of heapfit's own blocks (the cache's thread
 *             table, a grown heap's moved bitmap);
 * - `unknown`: bytes the walker never reached, which happens only when
 *             the heap is corrupt (the walk stops at an impossible size).
 * So Σ used = `usedBytes`, Σ header = 4 × `liveBlocks`, Σ free = `freeBytes`,
 * Σ cached = `cachedBytes`, and used + header + free + cached + internal +
 * unknown = end − start in every cell.
 *
 * The padding `alignedAlloc` leaves in front of a block is a free block like
 * any other (it is filed in the free lists and coalesces), so it counts as
 * free: nothing in the heap tells it apart from a block freed by `free`.
 *
 * Cost: O(blocks + cells). Each block adds two segments (header, payload) or
 * one (free); a segment touches the cells it overlaps, and since segments are
 * disjoint every cell is fully covered by at most one of them.
 */
import type { BlockInfo } from '../api.js';
import { checkPositive } from '../errors.js';
import type { Heap } from '../heap.js';
import { HEADER_BYTES } from '../layout.js';

/** Byte totals of one cell of a heap map, by state. */
export interface CellState {
	/** First address the cell covers (a byte offset into the buffer). */
	start: number;
	/** One past the last address the cell covers. */
	end: number;
	/** Payload bytes of allocated blocks. */
	used: number;
	/** Header bytes of allocated blocks. */
	header: number;
	/** Bytes of free blocks, their header, links and footer included. */
	free: number;
	/** Bytes of blocks in the small-block cache, headers included. */
	cached: number;
	/** Bytes of heapfit's own internal blocks, headers included. */
	internal: number;
	/** Bytes the walker never reached (only in a corrupt heap). */
	unknown: number;
}

/** Bytes each cell covers when `area` bytes are cut into at most `cells` cells. */
export function bytesPerCell(area: number, cells: number): number {
	return Math.max(1, Math.ceil(area / cells));
}

/**
 * The blocks area of `heap` cut into at most `cells` cells of
 * `bytesPerCell(area, cells)` bytes each, in address order, with the bytes
 * of each state counted per cell. Fewer cells come back when the area has
 * fewer bytes than `cells`, or when rounding the cell size up leaves some
 * over. `blocks` are the heap's blocks in address order as `heap.blocks()`
 * yields them (the default, walked after the argument check); a caller that
 * already walked them (e.g. the views of `blockViews`) passes them to save a
 * second walk. Throws HeapError INVALID_OPTIONS unless `cells` is a positive
 * integer.
 */
export function cellStates(heap: Heap, cells: number, blocks?: Iterable<BlockInfo>): CellState[] {
	checkPositive('cellStates', 'cells', cells, true);
	const start = heap._blocksStart;
	const end = heap._sentinel;
	const size = bytesPerCell(end - start, cells);
	const count = Math.ceil((end - start) / size);
	const used = new Float64Array(count);
	const header = new Float64Array(count);
	const free = new Float64Array(count);
	const cached = new Float64Array(count);
	const internal = new Float64Array(count);
	const unknown = new Float64Array(count);

	/** Adds the bytes of `[from, to)` to `totals`, cell by cell. */
	const add = (totals: Float64Array, from: number, to: number): void => {
		let c = Math.floor((from - start) / size);
		while (from < to) {
			const upto = Math.min(to, start + (c + 1) * size);
			totals[c] += upto - from;
			from = upto;
			c++;
		}
	};

	let reached = start;
	for (const b of blocks ?? heap.blocks()) {
		const blockEnd = Math.min(b.block + b.size, end);
		if (b.free) {
			add(free, b.block, blockEnd);
		} else if (b.cached) {
			add(cached, b.block, blockEnd);
		} else if (b.internal) {
			add(internal, b.block, blockEnd);
		} else {
			const ptr = Math.min(b.block + HEADER_BYTES, blockEnd);
			add(header, b.block, ptr);
			add(used, ptr, blockEnd);
		}
		reached = Math.max(reached, blockEnd);
	}
	add(unknown, reached, end);

	const out: CellState[] = new Array(count);
	for (let c = 0; c < count; c++) {
		const from = start + c * size;
		out[c] = {
			start: from,
			end: Math.min(from + size, end),
			used: used[c],
			header: header[c],
			free: free[c],
			cached: cached[c],
			internal: internal[c],
			unknown: unknown[c],
		};
	}
	return out;
}
