/**
 * layout.ts: the single source of truth for every byte and bit heapfit
 * writes into its region. No other file contains a raw offset literal; they
 * all use the names below.
 *
 * A region is `[regionStart, regionEnd)` of a buffer. Every address stored or
 * returned is an absolute byte offset from the start of the buffer, so a
 * payload pointer is directly usable as a WebAssembly pointer.
 *
 * ## The region
 *
 * ```
 *  regionStart                                                       regionEnd
 *  ┌──────────┬─────────────────┬───────────────┬────┬─────────────┬──────┬───┐
 *  │   root   │  TLSF tables    │ payload-start │pad │ block block │ ...  │END│
 *  │ 20 words │ FL/SL bitmaps + │ bitmap: 1 bit │    │ (headers +  │      │ 4B│
 *  │          │ free-list heads │ per 8 B       │    │  payloads)  │      │   │
 *  └──────────┴─────────────────┴───────────────┴────┴─────────────┴──────┴───┘
 *                                                    ^ blocksStart ≡ 4 (mod 8)
 * ```
 * `END` is the sentinel: a 4-byte header of size 0 that is never free, so a
 * walk stops there and the last block never coalesces past it. Its
 * PREV_FREE bit tells whether the last real block is free.
 *
 * ## The root (u32 words from regionStart)
 *
 * ```
 *  word  field          meaning
 *  ────  ─────────────  ─────────────────────────────────────────────────────
 *   0    MAGIC          0x54465048 ("HPFT" in little-endian bytes)
 *   1    VERSION        bits 0-7 layout version, 8-15 SL_BITS, 16-23 ALIGN_BITS
 *   2    REGION_START   absolute offset of the region (= of this root)
 *   3    REGION_END     absolute offset one past the region
 *   4    LOCK           the heap lock of a shared heap (sync.ts): 0 = free,
 *                       else holder slot + 1 in bits 1-30, bit 0 = waiters
 *   5    FLAGS          reserved, 0
 *   6    BLOCKS_START   address of the first block header
 *   7    SENTINEL       address of the END sentinel header
 *   8    BITMAP_START   address of the payload-start bitmap (inline after
 *                       the tables, or the payload of an internal block
 *                       once a growing heap has outgrown the inline one)
 *   9    USED_BYTES     Σ payload bytes (blockSize − 4) of allocated blocks
 *  10    FREE_BYTES     Σ blockSize of free blocks (headers included)
 *  11    LIVE_BLOCKS    number of allocated blocks
 *  12    FREE_BLOCKS    number of free blocks
 *  13    PEAK_USED      highest USED_BYTES ever seen
 *  14    META_BYTES     bytes before blocksStart, the sentinel's 4 bytes, and
 *                       the internal bitmap block if there is one
 *  15    BITMAP_WORDS   capacity of the bitmap in u32 words
 *  16    MAX_END        highest REGION_END growth may reach; 0 = fixed region
 *  17    GROWTHS        times the region has grown
 *  18    THREADS        payload address of the thread table (0 = none:
 *                       the heap is not shared or has no caches)
 *  19    THREAD_SLOTS   slots in the thread table
 * ```
 *
 * ## The TLSF tables (u32 words, directly after the root)
 *
 * ```
 *  word                 field
 *  ───────────────────  ──────────────────────────────────────────────────
 *  20                   FL_BITMAP          bit fl set iff SL_BITMAP[fl] ≠ 0
 *  21 .. 21+FL_COUNT-1  SL_BITMAP[fl]      bit sl set iff HEAD[fl][sl] ≠ 0
 *  then FL_COUNT×SL_COUNT words HEAD[fl][sl]  first free block of the list, 0 = empty
 * ```
 *
 * ## A block
 *
 * Payloads are 8-byte aligned and headers are 4 bytes, so every block header
 * sits at an address ≡ 4 (mod 8) and every block size is a multiple of 8.
 *
 * ```
 *  allocated block                          free block
 *  ┌─────────────────────────┐ block+0      ┌─────────────────────────┐
 *  │ header: size | flags     │              │ header: size | F | P?   │
 *  ├─────────────────────────┤ block+4 = ptr├─────────────────────────┤
 *  │ payload                  │              │ next free (0 = none)    │
 *  │ (blockSize − 4 bytes,    │ block+8      │ prev free (0 = none)    │
 *  │  all of it usable)       │              │ ... unused ...          │
 *  │                          │ block+size−4 │ footer: blockSize       │
 *  └─────────────────────────┘              └─────────────────────────┘
 * ```
 * An allocated block has no footer: its last word is payload. Only a free
 * block writes a footer, and the block after it has PREV_FREE set, which is
 * the only time anyone reads that footer. Overhead per allocated block: 4 B.
 *
 * ## The header word
 *
 * ```
 *   31                                          3    2    1    0
 *  ┌─────────────────────────────────────────────┬────┬────┬────┐
 *  │ blockSize (bytes, header included, ×8)       │ A  │ P  │ F  │
 *  └─────────────────────────────────────────────┴────┴────┴────┘
 * ```
 * - F (FREE): this block is free. Iff set, the block is in exactly one free
 *   list, has a footer, and its payload-start bit is clear.
 * - P (PREV_FREE): the physically previous block is free. Iff set, the word
 *   just before this header is that block's footer. The first block never
 *   has P set. Meaningful on allocated blocks, free blocks (always 0 there,
 *   since two free blocks are never adjacent) and the sentinel.
 * - A (ALIGNED): the block was allocated with an alignment above 8. Its
 *   last word is then the align trailer: the alignment asked for, in bytes,
 *   which a moving realloc keeps. Its usable size is blockSize − 8.
 *   Never set with F.
 *
 * After `free`, the header keeps F set even when the block is merged into
 * its left neighbour; that stale header is what lets a double free be named
 * DOUBLE_FREE rather than INVALID_POINTER (see heap.ts).
 *
 * ## The payload-start bitmap
 *
 * One bit per 8-byte granule from `blocksStart + 4` to the sentinel: bit g
 * is set iff an allocated block's payload starts at `blocksStart + 4 + 8g`.
 * It makes `free` check any pointer exactly in O(1): a pointer is a live
 * block iff its bit is set. Cost: 1/64 of the region (1.6 %).
 *
 * A growing heap (region.ts, grow.ts `growRegion`) starts with the bitmap inline
 * after the tables. When growth needs more bits than it holds, a new bitmap
 * is allocated as an internal block inside the region, the bits are copied
 * and BITMAP_START moves there; the old inline words stay unused. The
 * internal block is allocated but its own bit is clear, so no `free` can
 * release it, and it is counted in META_BYTES, not in USED_BYTES.
 */

/*
 * ## Constants in hot code
 *
 * The modules on the malloc/free path copy what they use from here into
 * module-local consts (`import * as layout …; const { FREE } = layout;`).
 * Node's optimising compiler embeds a module's own consts in the machine
 * code, but loads an imported binding from its module cell on every use:
 * measured on a loop of mallocs that split the last free block, 42 ns
 * per malloc with imported names and 28 ns with the local copies.
 */

/** log2 of the payload alignment every block gets (8 bytes). */
export const ALIGN_BITS = 3;
/** Payload alignment in bytes. */
export const ALIGN = 1 << ALIGN_BITS;
/** Mask of the bits of an address below ALIGN. */
export const ALIGN_MASK = ALIGN - 1;

/** log2 of the number of second-level lists per first-level class. */
export const SL_BITS = 5;
/** Second-level lists per first-level class. */
export const SL_COUNT = 1 << SL_BITS;
/**
 * Block sizes below this are "small": first level 0, one list per multiple
 * of 8 (exact size classes). At and above it, first level fl covers
 * [2^(fl+FL_SHIFT-1), 2^(fl+FL_SHIFT)) in SL_COUNT equal steps.
 */
export const SB_BITS = SL_BITS + ALIGN_BITS;
export const SMALL_BLOCK = 1 << SB_BITS;
/** floor(log2(size)) − FL_SHIFT is the first level of a non-small size. */
export const FL_SHIFT = SB_BITS - 1;
/** First-level classes: sizes up to 2^32 − 8 give fl ≤ 31 − FL_SHIFT. */
export const FL_COUNT = 32 - FL_SHIFT;

/** Bytes in the block header word. */
export const HEADER_BYTES = 4;
/** Bytes in the footer word of a free block. */
export const FOOTER_BYTES = 4;
/** Bytes of the align trailer at the end of an ALIGNED block. */
export const ALIGN_TRAILER_BYTES = 4;
/** Smallest block: header + next + prev + footer. */
export const MIN_BLOCK = 16;
/** Largest block size a header can hold. */
export const MAX_BLOCK = 0x1_0000_0000 - ALIGN;
/** Largest payload one block can have. */
export const MAX_PAYLOAD = MAX_BLOCK - HEADER_BYTES;
/** Offsets inside a block, from the header address. */
export const BLOCK_NEXT_FREE = 4;
export const BLOCK_PREV_FREE = 8;

/** Header bits. The size is `header & SIZE_MASK`. */
export const FREE = 1 << 0;
export const PREV_FREE = 1 << 1;
export const ALIGNED = 1 << 2;
export const FLAG_MASK = ALIGN_MASK;
export const SIZE_MASK = ~FLAG_MASK >>> 0;

/** Root word indexes (u32 words from regionStart). */
export const R_MAGIC = 0;
export const R_VERSION = 1;
export const R_REGION_START = 2;
export const R_REGION_END = 3;
export const R_LOCK = 4;
export const R_FLAGS = 5;
export const R_BLOCKS_START = 6;
export const R_SENTINEL = 7;
export const R_BITMAP_START = 8;
export const R_USED_BYTES = 9;
export const R_FREE_BYTES = 10;
export const R_LIVE_BLOCKS = 11;
export const R_FREE_BLOCKS = 12;
export const R_PEAK_USED = 13;
export const R_META_BYTES = 14;
export const R_BITMAP_WORDS = 15;
export const R_MAX_END = 16;
export const R_GROWTHS = 17;
export const R_THREADS = 18;
export const R_THREAD_SLOTS = 19;
export const ROOT_WORDS = 20;

/** TLSF table word indexes (u32 words from regionStart). */
export const T_FL_BITMAP = ROOT_WORDS;
export const T_SL_BITMAP = T_FL_BITMAP + 1;
export const T_HEADS = T_SL_BITMAP + FL_COUNT;
export const TABLE_END_WORDS = T_HEADS + FL_COUNT * SL_COUNT;
/** Bytes from regionStart to the payload-start bitmap. */
export const TABLES_BYTES = TABLE_END_WORDS * 4;

export const MAGIC = 0x54465048;
export const LAYOUT_VERSION = 1;
/** The VERSION word a heap of this build writes and accepts. */
export const VERSION_WORD = LAYOUT_VERSION | (SL_BITS << 8) | (ALIGN_BITS << 16);

/** Bits per payload-start bitmap granule shift: one bit per 8 bytes. */
export const BITMAP_GRANULE_BITS = ALIGN_BITS;

/** Largest alignment `alignedAlloc` accepts (2 GiB). */
export const MAX_ALIGN = 0x8000_0000;

/** Smallest region that holds the root, tables, bitmap and one block. */
export const MIN_REGION = TABLES_BYTES + 64;
/** Regions must end at or below this, so every address fits a u32 word. */
export const MAX_REGION_END = 0x1_0000_0000 - ALIGN;

/** `n` rounded up to a multiple of ALIGN (for any non-negative number, beyond 2^32 too). */
export function roundUp8(n: number): number {
	return Math.ceil(n / ALIGN) * ALIGN;
}
/** `n` rounded down to a multiple of ALIGN. */
export function roundDown8(n: number): number {
	return Math.floor(n / ALIGN) * ALIGN;
}

/**
 * Block size (header included) that serves a payload of `size` bytes.
 * `size` must be at most MAX_BLOCK − HEADER_BYTES.
 */
export function blockSizeFor(size: number): number {
	const s = ((size + HEADER_BYTES + ALIGN_MASK) & ~ALIGN_MASK) >>> 0;
	return s < MIN_BLOCK ? MIN_BLOCK : s;
}

/**
 * ## The thread table (threads.ts, cache.ts, shared.ts)
 *
 * A heap with a small-block cache gets an internal block (allocated,
 * payload-start bit clear, counted in META_BYTES, the first block of the
 * region) holding THREAD_SLOTS slots of SLOT_WORDS u32 words.
 * - On a SharedArrayBuffer, each Heap object attached to the region claims
 *   one slot; the slot is its cache of small freed blocks, which it can
 *   reuse without taking the heap lock.
 * - On an ArrayBuffer (HeapOptions.cache), the table has one slot, claimed
 *   for good (STATE 1), which every Heap object on the region uses in turn:
 *   the heap's cache. LOCK, OWNER and SPLITS stay 0.
 *
 * ```
 *  slot word  field          meaning
 *  ─────────  ─────────────  ────────────────────────────────────────────────
 *   0         STATE          0 = free slot, 1 = claimed
 *   1         LOCK           the slot lock (sync.ts encoding, as root LOCK)
 *   2         OWNER          the tag given to attach (0 = none), for recover()
 *   3         CACHED_BYTES   Σ block sizes of the cached blocks
 *   4         CACHED_BLOCKS  number of cached blocks
 *   5         SPLITS         blocks this slot's owner split in two without the
 *                            heap lock (a shrinking realloc): the root's
 *                            LIVE_BLOCKS is that many short and USED_BYTES
 *                            4 bytes a split too high, until the next time
 *                            the slot and the heap lock are held together
 *   6-7       reserved, 0
 *   8 + 2c    HEAD[c]        first cached block of class c (0 = empty)
 *   9 + 2c    COUNT[c]       blocks in list c
 *   8 + 2·CACHE_CLASSES, +1  reserved, 0
 * ```
 * Cache classes (CACHE_CLASSES of them) cover block sizes up to
 * CACHE_MAX_BLOCK:
 *
 * ```
 *  class c        block size              step
 *  0 .. 30        16, 24, ..., 256        8      exact sizes
 *  31 .. 46       272, 288, ..., 512      16     ┐ 16 steps per power of
 *  47 .. 62       544, 576, ..., 1024     32     │ two: a cached malloc
 *  63 .. 78       1088, ..., 2048         64     │ rounds its block up to
 *  79 .. 94       2176, ..., 4096         128    ┘ the class (≤ 6.25 %)
 * ```
 * List c holds blocks of at least classSize(c) bytes and less than the next
 * class's: a malloc takes its block from the class its size rounds UP to
 * (`cacheClassUp`), a free files the block under the class its size rounds
 * DOWN to (`cacheClassDown`), so every block in a list fits every request
 * that list serves.
 *
 * A cached block keeps the header of an allocated block (F clear, so its
 * neighbours never merge with it), its payload-start bit is clear (so
 * a second `free` of it is rejected; finding it in its list names the error
 * DOUBLE_FREE), and its first payload word (block + 4,
 * CACHE_NEXT) links to the next block of its list. The root's USED_BYTES and
 * LIVE_BLOCKS still count cached blocks; stats() subtracts the slots'
 * CACHED_* counters.
 */
export const S_STATE = 0;
export const S_LOCK = 1;
export const S_OWNER = 2;
export const S_CACHED_BYTES = 3;
export const S_CACHED_BLOCKS = 4;
export const S_SPLITS = 5;
export const S_HEADS = 8;
/** Largest block size with an exact cache class. */
export const CACHE_EXACT_MAX = 256;
/** Largest block size a thread cache keeps. */
export const CACHE_MAX_BLOCK = 4096;
/** log2 of the classes per power of two above CACHE_EXACT_MAX. */
const CACHE_SUB_BITS = 4;
const EXACT_CLASSES = CACHE_EXACT_MAX / ALIGN - 1;
/** Cache classes (see the table above). */
export const CACHE_CLASSES = EXACT_CLASSES + (Math.log2(CACHE_MAX_BLOCK / CACHE_EXACT_MAX) << CACHE_SUB_BITS);
/** u32 words per slot. */
export const SLOT_WORDS = S_HEADS + 2 * CACHE_CLASSES + 2;
/** Bytes per slot (800). */
export const SLOT_BYTES = SLOT_WORDS * 4;
/** Offset of the cache link in a cached block (its first payload word). */
export const CACHE_NEXT = 4;
/** Bytes of one size class a cache list holds before half of it goes back. */
const CACHE_LIST_BYTES = 32768;

/** Block size of cache class `c`: the smallest block its list holds. */
export function cacheClassSize(c: number): number {
	if (c < EXACT_CLASSES) return (c + 2) << ALIGN_BITS;
	const i = c - EXACT_CLASSES;
	const k = i >>> CACHE_SUB_BITS;
	return (CACHE_EXACT_MAX << k) + (((i & ((1 << CACHE_SUB_BITS) - 1)) + 1) << (k + CACHE_SUB_BITS));
}
/** The class whose blocks all fit a block size `need` ≤ CACHE_MAX_BLOCK (round up). */
export function cacheClassUp(need: number): number {
	if (need <= CACHE_EXACT_MAX) return (need >>> ALIGN_BITS) - 2;
	const k = 31 - Math.clz32((need - 1) >>> 8);
	const step = k + CACHE_SUB_BITS;
	return EXACT_CLASSES + (k << CACHE_SUB_BITS) + ((need - (CACHE_EXACT_MAX << k) + (1 << step) - 1) >>> step) - 1;
}
/** The class a block of `size` bytes (16 ≤ size ≤ CACHE_MAX_BLOCK) is filed in (round down). */
export function cacheClassDown(size: number): number {
	if (size <= CACHE_EXACT_MAX) return (size >>> ALIGN_BITS) - 2;
	const k = 31 - Math.clz32(size >>> 8);
	const j = (size - (CACHE_EXACT_MAX << k)) >>> (k + CACHE_SUB_BITS);
	return EXACT_CLASSES + (k << CACHE_SUB_BITS) + j - 1;
}
const CACHE_LIMITS = Uint8Array.from({ length: CACHE_CLASSES }, (_, c) => Math.max(8, Math.min(64, CACHE_LIST_BYTES / cacheClassSize(c))));
/** Blocks list `c` holds before half of it goes back to the heap (8 to 64). */
export function cacheLimit(c: number): number {
	return CACHE_LIMITS[c];
}
/**
 * An unshared heap's cache is much smaller: it takes no lock to reach the
 * free lists, so its lists only need to catch the block a program frees and
 * soon asks for again. Up to LOCAL_CACHE_MAX blocks and LOCAL_CACHE_LIST_BYTES
 * per list (at least one block); a free that finds its list full goes to
 * the free lists. Chosen on the real traces: larger lists bought no speed
 * and left more memory unmerged (fragmentation on sqlite 0.8 % with these,
 * 1.3 % with the shared limits).
 */
const LOCAL_CACHE_MAX = 8;
const LOCAL_CACHE_LIST_BYTES = 1024;
const LOCAL_CACHE_LIMITS = Uint8Array.from({ length: CACHE_CLASSES }, (_, c) =>
	Math.max(1, Math.min(LOCAL_CACHE_MAX, Math.floor(LOCAL_CACHE_LIST_BYTES / cacheClassSize(c)))),
);
/** Blocks list `c` of an unshared heap's cache holds (1 to 8). */
export function localCacheLimit(c: number): number {
	return LOCAL_CACHE_LIMITS[c];
}
/** Blocks a cache miss on class `c` takes from the heap at once, the caller's included. */
export function cacheBatch(c: number): number {
	return cacheLimit(c) >>> 2;
}
/** Default and largest slot count (HeapOptions.threads). */
export const DEFAULT_THREAD_SLOTS = 16;
export const MAX_THREAD_SLOTS = 1024;
