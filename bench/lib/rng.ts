/**
 * rng.ts: a small seeded PRNG (sfc32, seeded through splitmix32) so that
 * every benchmark draws the same numbers for a given seed, in every process.
 */

/** 2^-32. */
const INV_2_32 = 1 / 4294967296;

/** Seeded pseudo-random numbers: `u32()`, `int(lo, hi)`, `below(n)`. */
export class Rng {
	private a: number;
	private b: number;
	private c: number;
	private d: number;

	constructor(seed: number) {
		let s = seed >>> 0;
		const next = (): number => {
			s = (s + 0x9e3779b9) >>> 0;
			let z = s;
			z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
			z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
			return (z ^ (z >>> 16)) >>> 0;
		};
		this.a = next();
		this.b = next();
		this.c = next();
		this.d = next();
		for (let i = 0; i < 16; i++) this.u32();
	}

	/** A uniform integer in [0, 2^32). */
	u32(): number {
		const t = (((this.a + this.b) | 0) + this.d) | 0;
		this.d = (this.d + 1) | 0;
		this.a = this.b ^ (this.b >>> 9);
		this.b = (this.c + (this.c << 3)) | 0;
		this.c = (this.c << 21) | (this.c >>> 11);
		this.c = (this.c + t) | 0;
		return t >>> 0;
	}

	/** A uniform integer in [0, n), for n ≤ 2^32. */
	below(n: number): number {
		return Math.floor(this.u32() * INV_2_32 * n);
	}

	/** A uniform integer in [lo, hi) (Rust's `fastrand::usize(lo..hi)`). */
	int(lo: number, hi: number): number {
		return lo + this.below(hi - lo);
	}
}

/** Index in [0, len) from a precomputed u32 draw `r`. */
export function pick(r: number, len: number): number {
	return Math.floor(r * INV_2_32 * len);
}
