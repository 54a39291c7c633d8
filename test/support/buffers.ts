/** ES2024 growable buffers (Node 20 has them; the TS lib here is ES2022, so the options argument needs a cast). */

/** A resizable ArrayBuffer of `length` bytes that can grow to `maxByteLength`. */
export function resizable(length: number, maxByteLength: number): ArrayBuffer {
	return new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(length, { maxByteLength });
}

/** A growable SharedArrayBuffer of `length` bytes that can grow to `maxByteLength`. */
export function growableShared(length: number, maxByteLength: number): SharedArrayBuffer {
	return new (SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer)(length, { maxByteLength });
}

/** Grows growable SharedArrayBuffer `sab` to `length` bytes. */
export function growShared(sab: SharedArrayBuffer, length: number): void {
	(sab as unknown as { grow(n: number): void }).grow(length);
}
