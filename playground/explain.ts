/**
 * explain.ts: one sentence or two on what a heap call just did, from the
 * changes `diffBlocks` found, and which concept paragraph of the page it
 * illustrates.
 */
import { ALIGN, ALIGN_TRAILER_BYTES, HEADER_BYTES, MIN_BLOCK, blockSizeFor } from '../src/layout.js';
import { formatInt, hex } from '../src/render/svgkit.js';
import type { Change } from './diff.js';

/** Ids of the concept paragraphs on the page. */
export type Concept = 'headers' | 'alignment' | 'splitting' | 'coalescing' | 'internal' | 'external' | 'bins';

export interface Explanation {
	text: string;
	concepts: Concept[];
}

/** 1234 → "1,234 B". */
export function bytes(n: number): string {
	return `${formatInt(n)} B`;
}

/** The block sizes of a change's after side, as "48 B + 4,016 B". */
function sizes(c: Change): string {
	return c.after.map((b) => `${bytes(b.size)}${b.free ? ' free' : ''}`).join(' + ');
}

/** Block size a `malloc(size)`, or an `alignedAlloc(align, size)` (its align trailer too), takes. */
export function requestBlockSize(size: number, align: number): number {
	return blockSizeFor(size + (align > ALIGN ? ALIGN_TRAILER_BYTES : 0));
}

/** What `malloc(size)` or `alignedAlloc(align, size)` returning `ptr` did. */
export function explainAlloc(size: number, align: number, ptr: number, changes: Change[], largestFree: number, freeBytes: number): Explanation {
	const call = align > ALIGN ? `alignedAlloc(${align}, ${size})` : `malloc(${size})`;
	if (ptr === 0) {
		const frag = freeBytes > size ? ` ${bytes(freeBytes)} are free in all, but in pieces: that is external fragmentation.` : '';
		return { text: `${call} returned 0: no free block is large enough (the largest is ${bytes(largestFree)}).${frag}`, concepts: ['external'] };
	}
	const need = requestBlockSize(size, align);
	const why =
		align > ALIGN
			? `a ${bytes(need)} block: ${size} B + 4 B header + a 4 B trailer that remembers the alignment, rounded up to 8`
			: `a ${bytes(need)} block: ${size} B + ${HEADER_BYTES} B header, rounded up to a multiple of 8${need === MIN_BLOCK && size + HEADER_BYTES < MIN_BLOCK ? ' and at least 16 B' : ''}`;
	const split = changes.find((c) => c.kind === 'split' || c.kind === 'reshape');
	const concepts: Concept[] = [align > ALIGN ? 'alignment' : 'headers', 'internal'];
	let how: string;
	if (split !== undefined) {
		how = ` It was cut from a ${bytes(split.before[0].size)} free block (split: ${sizes(split)}); the free part went back to a free list.`;
		if (align > ALIGN && split.after[0].free) how += ` The ${bytes(split.after[0].size)} in front of it is the alignment padding, kept as a free block.`;
		concepts.push('splitting', 'bins');
	} else {
		how = ' It took a whole free block: what was left over would have been under 16 B, too small to be a block of its own.';
		concepts.push('bins');
	}
	return { text: `${call} → ${hex(ptr)}: ${why}.${how}`, concepts };
}

/** What `free(ptr)` of a block of `size` bytes did. */
export function explainFree(ptr: number, size: number, changes: Change[]): Explanation {
	const merge = changes.find((c) => c.kind === 'merge');
	if (merge !== undefined) {
		const n = merge.before.length - 1;
		const merged = merge.after[0];
		return {
			text: `free(${hex(ptr)}): the ${bytes(size)} block merged with ${n === 1 ? 'its free neighbour' : 'both free neighbours'} into one free block of ${bytes(merged.size)} (coalescing).`,
			concepts: ['coalescing', 'bins'],
		};
	}
	return { text: `free(${hex(ptr)}): the ${bytes(size)} block is free now. Both neighbours are in use, so there is nothing to merge.`, concepts: ['bins'] };
}

/** What `realloc(ptr, size)` of a block of `oldSize` bytes returning `out` did. */
export function explainRealloc(ptr: number, size: number, out: number, oldSize: number, changes: Change[]): Explanation {
	const call = `realloc(${hex(ptr)}, ${size})`;
	if (out === 0) return { text: `${call} returned 0: it cannot grow there and no free block is large enough; the block is unchanged.`, concepts: ['external'] };
	if (out !== ptr) return { text: `${call} → ${hex(out)}: no room in place, so it allocated a new block, copied the contents and freed the old one.`, concepts: ['coalescing'] };
	const here = changes.flatMap((c) => c.after).find((b) => b.block === ptr - HEADER_BYTES);
	const newSize = here?.size ?? oldSize;
	if (newSize > oldSize) {
		return { text: `${call} grew in place from ${bytes(oldSize)} to ${bytes(newSize)} by absorbing the free block after it.`, concepts: ['coalescing', 'splitting'] };
	}
	if (newSize < oldSize) {
		const merged = changes.some((c) => c.before.length > 1) ? ', which merged with the free block after it' : '';
		return { text: `${call} shrank in place from ${bytes(oldSize)} to ${bytes(newSize)}: the tail was split off as a free block${merged}.`, concepts: ['splitting'] };
	}
	return { text: `${call} fits in the ${bytes(oldSize)} block it has: nothing moved.`, concepts: ['internal'] };
}
