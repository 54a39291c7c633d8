/**
 * allocator.ts: `Layout` and the Rust-style `Allocator` API.
 *
 * It mirrors Rust's `core::alloc::Allocator`: every call names the layout
 * (size and alignment) of the memory it deals with, exhaustion throws
 * `AllocError`, and misuse (a layout that does not describe the block, a
 * grow that shrinks) throws `HeapError` and leaves the heap unchanged.
 */
import { AllocError, checkAlign, checkSize, heapError } from './errors.js';
import type { Heap } from './heap.js';
import * as layout from './layout.js';
// Module-local copies, so that optimised code has them as constants (layout.ts, "Constants in hot code").
const { ALIGN, MAX_ALIGN } = layout;

/** Size and alignment of a piece of memory. */
export class Layout {
	/** Bytes. */
	readonly size: number;
	/** Alignment in bytes, a power of two. */
	readonly align: number;
	/**
	 * Throws HeapError INVALID_SIZE unless `size` is a non-negative safe
	 * integer, INVALID_ALIGN unless `align` is a power of two ≤ 2 GiB.
	 * @param align @defaultValue 8
	 */
	constructor(size: number, align = ALIGN) {
		checkSize('Layout', size);
		checkAlign('Layout', align, MAX_ALIGN);
		this.size = size;
		this.align = align;
	}
	/** The layout of `length` elements of `elementSize` bytes, aligned to `align`. */
	static array(elementSize: number, length: number, align = elementSize): Layout {
		checkSize('Layout.array', elementSize);
		checkSize('Layout.array', length);
		return new Layout(elementSize * length, align);
	}
}

/** Common interface of heaps that allocate by Layout. */
export interface Allocator {
	allocate(layout: Layout): number;
	allocateZeroed(layout: Layout): number;
	deallocate(ptr: number, layout: Layout): void;
	grow(ptr: number, oldLayout: Layout, newLayout: Layout): number;
	growZeroed(ptr: number, oldLayout: Layout, newLayout: Layout): number;
	shrink(ptr: number, oldLayout: Layout, newLayout: Layout): number;
}

function checkLayout(op: string, layout: Layout): void {
	if (!(layout instanceof Layout)) throw heapError('INVALID_SIZE', op, 'expected a Layout', undefined, layout);
}

/** Validates that `layout` describes live block `ptr`; returns its usable size. */
function checkFits(heap: Heap, op: string, ptr: number, layout: Layout): number {
	checkLayout(op, layout);
	const usable = heap._usableSize(op, ptr);
	if (layout.size > usable || ptr % layout.align !== 0) {
		throw heapError(
			'LAYOUT_MISMATCH',
			op,
			`Layout(${layout.size}, ${layout.align}) does not describe block ${ptr} (usable ${usable})`,
			undefined,
			layout,
		);
	}
	return usable;
}

/** See `Heap.allocate`. */
export function allocate(heap: Heap, layout: Layout): number {
	checkLayout('allocate', layout);
	const ptr = heap.alignedAlloc(layout.align, layout.size);
	if (ptr === 0) throw new AllocError('allocate', layout.size, layout.align);
	return ptr;
}

/** See `Heap.allocateZeroed`. */
export function allocateZeroed(heap: Heap, layout: Layout): number {
	checkLayout('allocateZeroed', layout);
	const ptr = heap.alignedAlloc(layout.align, layout.size);
	if (ptr === 0) throw new AllocError('allocateZeroed', layout.size, layout.align);
	heap._u8.fill(0, ptr, ptr + layout.size);
	return ptr;
}

/** See `Heap.deallocate`. */
export function deallocate(heap: Heap, ptr: number, layout: Layout): void {
	checkFits(heap, 'deallocate', ptr, layout);
	heap.free(ptr);
}

/** Moves or resizes the block for grow/shrink; `keep` bytes survive. */
function resize(heap: Heap, op: string, ptr: number, newLayout: Layout, keep: number): number {
	const out = heap._resizeLive(op, ptr, newLayout.size, newLayout.align, keep);
	if (out === 0) throw new AllocError(op, newLayout.size, newLayout.align);
	return out;
}

/** See `Heap.grow`. `zero` clears the bytes past the old size. */
export function grow(heap: Heap, ptr: number, oldLayout: Layout, newLayout: Layout, zero: boolean): number {
	const op = zero ? 'growZeroed' : 'grow';
	checkFits(heap, op, ptr, oldLayout);
	checkLayout(op, newLayout);
	if (newLayout.size < oldLayout.size) {
		throw heapError('INVALID_SIZE', op, `new size ${newLayout.size} is below the old size ${oldLayout.size}`);
	}
	const out = resize(heap, op, ptr, newLayout, oldLayout.size);
	if (zero) heap._u8.fill(0, out + oldLayout.size, out + newLayout.size);
	return out;
}

/** See `Heap.growZeroed`. */
export function growZeroed(heap: Heap, ptr: number, oldLayout: Layout, newLayout: Layout): number {
	return grow(heap, ptr, oldLayout, newLayout, true);
}

/** See `Heap.shrink`. */
export function shrink(heap: Heap, ptr: number, oldLayout: Layout, newLayout: Layout): number {
	checkFits(heap, 'shrink', ptr, oldLayout);
	checkLayout('shrink', newLayout);
	if (newLayout.size > oldLayout.size) {
		throw heapError('INVALID_SIZE', 'shrink', `new size ${newLayout.size} is above the old size ${oldLayout.size}`);
	}
	return resize(heap, 'shrink', ptr, newLayout, newLayout.size);
}
