/**
 * errors.ts: every error heapfit throws, made by one factory.
 *
 * - `HeapError` is misuse: a bad size, alignment, pointer, option or buffer.
 *   It carries a machine-readable `code`, the name of the function that
 *   raised it (`op`) and, for pointers, a `reason`. The heap is left exactly
 *   as it was before the call.
 * - `AllocError` is exhaustion in the `Allocator` API (the C-style API
 *   returns 0 instead). It is not misuse: the heap is fine, it is full.
 */

/** Machine-readable error codes. */
export type HeapErrorCode =
	/** A size that is not a non-negative safe integer (or overflows). */
	| 'INVALID_SIZE'
	/** An alignment that is not a power of two, or is too large. */
	| 'INVALID_ALIGN'
	/** A pointer that is not a live block of this heap (see `reason`). */
	| 'INVALID_POINTER'
	/** A pointer to a block that has already been freed. */
	| 'DOUBLE_FREE'
	/** A `Layout` that disagrees with the block it describes. */
	| 'LAYOUT_MISMATCH'
	/** Options or region bounds that cannot make a heap. */
	| 'INVALID_OPTIONS'
	/** `Heap.attach` found no heap at that offset. */
	| 'NO_HEAP'
	/** `Heap.attach` found a heap written by an incompatible layout. */
	| 'INCOMPATIBLE_HEAP'
	/** A typed array that does not view this heap's buffer. */
	| 'FOREIGN_BUFFER'
	/** An unknown typed-array type name. */
	| 'INVALID_TYPE'
	/** The heap's buffer was detached and the heap cannot follow it. */
	| 'DETACHED_BUFFER'
	/** A debug-level check found the heap's invariants broken. */
	| 'CORRUPT_HEAP'
	/** A shared heap's lock stayed held past `lockTimeout` (see `Heap.recover`). */
	| 'LOCK_TIMEOUT';

/** Why a pointer was rejected, for `INVALID_POINTER` and `DOUBLE_FREE`. */
export type PointerReason =
	| 'not-integer'
	| 'negative'
	| 'out-of-range'
	| 'misaligned'
	| 'not-block-start'
	| 'freed';

/** Misuse of the heap. The heap is unchanged by the call that threw it. */
export class HeapError extends Error {
	override name = 'HeapError';
	constructor(
		/** What went wrong, as a stable code. */
		readonly code: HeapErrorCode,
		/** The API function that raised it, e.g. `'free'`. */
		readonly op: string,
		message: string,
		/** For pointer errors: the specific reason. */
		readonly reason?: PointerReason,
		/** The offending value, when there is one. */
		readonly received?: unknown,
	) {
		super(`${op}: ${message}`);
	}
}

/** Out of memory in the `Allocator` API. */
export class AllocError extends Error {
	override name = 'AllocError';
	constructor(
		readonly op: string,
		/** The size that could not be allocated, in bytes. */
		readonly size: number,
		/** The alignment that was asked for. */
		readonly align: number,
	) {
		super(`${op}: out of memory allocating ${size} bytes (align ${align})`);
	}
}

/** The one error factory: builds a HeapError. */
export function heapError(
	code: HeapErrorCode,
	op: string,
	message: string,
	reason?: PointerReason,
	received?: unknown,
): HeapError {
	return new HeapError(code, op, message, reason, received);
}

/** HeapError INVALID_OPTIONS raised by `op`. */
export function invalidOptions(op: string, message: string, received?: unknown): HeapError {
	return heapError('INVALID_OPTIONS', op, message, undefined, received);
}

/**
 * Throws INVALID_OPTIONS (raised by `op`) unless option `name`'s `value` is
 * a positive number, and an integer when `integer`.
 */
export function checkPositive(op: string, name: string, value: number, integer: boolean): void {
	if (!(typeof value === 'number' && value > 0 && Number.isFinite(value)) || (integer && !Number.isSafeInteger(value))) {
		throw invalidOptions(op, `${name} must be a positive ${integer ? 'integer' : 'number'}, got ${String(value)}`, value);
	}
}

/** Throws INVALID_SIZE unless `size` is a non-negative safe integer. */
export function checkSize(op: string, size: number): void {
	if (!Number.isSafeInteger(size) || size < 0) {
		throw heapError('INVALID_SIZE', op, `size must be a non-negative safe integer, got ${String(size)}`, undefined, size);
	}
}

/** Throws INVALID_ALIGN unless `align` is a power of two no larger than `max`. */
export function checkAlign(op: string, align: number, max: number): void {
	if (!Number.isSafeInteger(align) || align <= 0 || (align & (align - 1)) !== 0 || align > max) {
		throw heapError(
			'INVALID_ALIGN',
			op,
			`alignment must be a power of two between 1 and ${max}, got ${String(align)}`,
			undefined,
			align,
		);
	}
}
