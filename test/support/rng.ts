/** mulberry32: a small seeded PRNG giving floats in [0, 1); shared by the tests. */
export function mulberry32(seed: number): () => number {
	let a = seed >>> 0;
	return () => {
		a = (a + 0x6d2b79f5) >>> 0;
		let t = a;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** `length` pseudo-random bytes from a xorshift32 seeded with `seed` (stamp patterns). */
export function patternBytes(length: number, seed: number): Uint8Array {
	const p = new Uint8Array(length);
	let x = seed | 0;
	for (let i = 0; i < p.length; i++) {
		x ^= x << 13;
		x ^= x >>> 17;
		x ^= x << 5;
		p[i] = x & 0xff;
	}
	return p;
}

/**
 * The 32-bit LCG of the older randomized tests (glibc's constants
 * 1103515245, 12345): each call returns the next state, an integer in [0, 2^32).
 */
export function lcg(seed: number): () => number {
	let s = seed >>> 0;
	return () => {
		s = (Math.imul(s, 1103515245) + 12345) >>> 0;
		return s;
	};
}

/** `lcg(seed)` as `rand(n)`: an integer in [0, n) from the top 24 bits of the next state. */
export function lcgBelow(seed: number): (n: number) => number {
	const next = lcg(seed);
	return (n) => (next() >>> 8) % n;
}
