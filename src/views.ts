/**
 * views.ts: typed-array views over heap memory.
 *
 * A view made here indexes `heap.buffer` directly, so writes through it are
 * writes to the heap. Each element type gets its natural alignment.
 */
import type { ArrayType, ArrayTypeMap } from './api.js';
import { checkSize, heapError } from './errors.js';
import type { Heap } from './heap.js';

type Ctor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayTypeMap[ArrayType]; readonly BYTES_PER_ELEMENT: number };

const TYPES: Record<ArrayType, Ctor> = {
	u8: Uint8Array,
	i8: Int8Array,
	u16: Uint16Array,
	i16: Int16Array,
	u32: Uint32Array,
	i32: Int32Array,
	f32: Float32Array,
	f64: Float64Array,
	u64: BigUint64Array,
	i64: BigInt64Array,
};

function ctorOf(op: string, type: ArrayType): Ctor {
	const ctor = Object.hasOwn(TYPES, type) ? TYPES[type] : undefined;
	if (ctor === undefined) {
		throw heapError('INVALID_TYPE', op, `unknown type ${String(type)}; use one of ${Object.keys(TYPES).join(', ')}`, undefined, type);
	}
	return ctor;
}

/** See `Heap.allocArray`. */
export function allocArray<T extends ArrayType>(heap: Heap, type: T, length: number): ArrayTypeMap[T] | null {
	const ctor = ctorOf('allocArray', type);
	checkSize('allocArray', length);
	const bpe = ctor.BYTES_PER_ELEMENT;
	const bytes = length * bpe;
	if (!Number.isSafeInteger(bytes)) return null;
	const ptr = heap.alignedAlloc(bpe, bytes);
	if (ptr === 0) return null;
	heap._u8.fill(0, ptr, ptr + bytes);
	return new ctor(heap.buffer, ptr, length) as ArrayTypeMap[T];
}

/** See `Heap.view`. */
export function view<T extends ArrayType>(heap: Heap, ptr: number, type: T, length: number): ArrayTypeMap[T] {
	const ctor = ctorOf('view', type);
	checkSize('view', length);
	const bpe = ctor.BYTES_PER_ELEMENT;
	// Another worker may have grown a shared region since this object last looked.
	if (heap._sync !== null && Number.isSafeInteger(ptr) && ptr + length * bpe > heap._sentinel) heap.refresh();
	if (!Number.isSafeInteger(ptr) || ptr < heap._payloadBase || ptr + length * bpe > heap._sentinel) {
		throw heapError('INVALID_POINTER', 'view', `[${ptr}, +${length * bpe}) is not inside the heap's blocks`, 'out-of-range', ptr);
	}
	if (ptr % bpe !== 0) throw heapError('INVALID_POINTER', 'view', `${ptr} is not aligned to ${bpe}`, 'misaligned', ptr);
	return new ctor(heap.buffer, ptr, length) as ArrayTypeMap[T];
}

/**
 * A typed array over heap memory that stays usable when the region grows:
 * `array` re-creates the view whenever the heap's buffer has changed (a
 * grown WebAssembly.Memory detaches its old buffer, and views of it then
 * read as empty). Keep a LiveView, or the pointer, rather than the array.
 */
export class LiveView<T extends ArrayType> {
	private _array: ArrayTypeMap[T];
	constructor(
		private readonly heap: Heap,
		/** Address of the first element. */
		readonly ptr: number,
		/** Element type. */
		readonly type: T,
		/** Number of elements. */
		readonly length: number,
	) {
		this._array = view(heap, ptr, type, length);
	}
	/** The typed array over the heap's current buffer. */
	get array(): ArrayTypeMap[T] {
		if (this._array.buffer !== this.heap.buffer || this._array.length !== this.length) {
			this._array = view(this.heap, this.ptr, this.type, this.length);
		}
		return this._array;
	}
}

/** See `Heap.freeArray`. */
export function freeArray(heap: Heap, array: ArrayTypeMap[ArrayType]): void {
	if (!ArrayBuffer.isView(array) || array.buffer !== heap.buffer) {
		throw heapError('FOREIGN_BUFFER', 'freeArray', 'the array does not view this heap\'s buffer');
	}
	heap.free(array.byteOffset);
}
