#!/usr/bin/env python3
"""Reference vectors from Berkeley SoftFloat, a second implementation.

`vectors.bin` (made by `gen.c`) holds results of RISC-V F/D instructions as
qemu-riscv64 computes them, with QEMU's softfloat. A bug QEMU and pvm share
would pass unnoticed, so this script computes results with Berkeley SoftFloat
3 (its RISC-V specialization, through the PyPI binding `softfloatpy`):

  softfloat_gen.py write   writes softfloat.bin: fresh random operand
                           choices (seeded, so the file is reproducible) from
                           vectors.bin's operand pools, every op and rounding
                           mode of gen.c, results and flags from SoftFloat.
                           vm-core's fpu tests check pvm against it.
  softfloat_gen.py check   recomputes every record of vectors.bin with
                           SoftFloat (QEMU and SoftFloat must agree), and
                           regenerates softfloat.bin in memory: it must be
                           byte-identical to the committed file.
                           `cargo xtask test` runs this (`fpu.softfloat`).

The file format is gen.c's ("RVFPVEC1", the three operand pools, then
sections of records). RISC-V semantics SoftFloat has no operation for are
written here from the ISA manual: fmin/fmax (IEEE 754-2019 minimumNumber /
maximumNumber, -0 < +0, canonical NaN when both are NaN, NV for a signaling
NaN), fclass, and the fused multiply-add sign variants (fmsub = a*b-c,
fnmsub = -(a*b)+c, fnmadd = -(a*b)-c, by flipping operand signs, which is
exact). Tininess is detected after rounding, as RISC-V specifies.
"""

import os
import random
import struct
import sys

import softfloatpy as sf

HERE = os.path.dirname(os.path.abspath(__file__))
QEMU_VECTORS = os.path.join(HERE, "vectors.bin")
OUT = os.path.join(HERE, "softfloat.bin")
SEED = 20261202
# Random records per (op, rounding mode) section.
PER_SECTION = 400

RM = [
    sf.RoundingMode.NEAR_EVEN,  # rne
    sf.RoundingMode.MIN_MAG,  # rtz
    sf.RoundingMode.MIN,  # rdn
    sf.RoundingMode.MAX,  # rup
    sf.RoundingMode.NEAR_MAX_MAG,  # rmm
]

S32, S64 = 1 << 31, 1 << 63
QNAN32, QNAN64 = 0x7FC00000, 0x7FF8000000000000


def f32(v):
    return sf.Float32.from_bytes((v & 0xFFFFFFFF).to_bytes(4, "big"))


def f64(v):
    return sf.Float64.from_bytes((v & (2**64 - 1)).to_bytes(8, "big"))


def bits(x):
    return int.from_bytes(x.to_bytes(), "big")


def is_nan(v, w):
    if w == 32:
        return (v >> 23) & 0xFF == 0xFF and v & 0x7FFFFF != 0
    return (v >> 52) & 0x7FF == 0x7FF and v & ((1 << 52) - 1) != 0


def is_snan(v, w):
    quiet = 1 << (22 if w == 32 else 51)
    return is_nan(v, w) and not v & quiet


def minmax(a, b, w, is_max):
    """RISC-V fmin/fmax: (result, flags)."""
    fl = 0x10 if is_snan(a, w) or is_snan(b, w) else 0
    na, nb = is_nan(a, w), is_nan(b, w)
    if na and nb:
        return (QNAN32 if w == 32 else QNAN64), fl
    if na:
        return b, fl
    if nb:
        return a, fl
    sign = S32 if w == 32 else S64
    mk = f32 if w == 32 else f64
    lt = sf.f32_lt_quiet if w == 32 else sf.f64_lt_quiet
    eq = sf.f32_eq if w == 32 else sf.f64_eq
    if eq(mk(a), mk(b)):
        # Only +0 and -0 differ among equal operands: -0 is the smaller.
        neg_a = bool(a & sign)
        pick_a = neg_a != is_max
        return (a if pick_a else b), fl
    a_less = lt(mk(a), mk(b))
    return (a if a_less != is_max else b), fl


def fclass(v, w):
    m, e = (23, 8) if w == 32 else (52, 11)
    sign = v >> (m + e) & 1
    exp = v >> m & ((1 << e) - 1)
    frac = v & ((1 << m) - 1)
    emax = (1 << e) - 1
    if exp == emax:
        if frac == 0:
            return 1 << (7 if not sign else 0)
        return 1 << (9 if frac >> (m - 1) else 8)
    if exp == 0:
        if frac == 0:
            return 1 << (4 if not sign else 3)
        return 1 << (5 if not sign else 2)
    return 1 << (6 if not sign else 1)


def to_int(x, rm, fn):
    return fn(x, RM[rm], True).to_int()


def compute(op, rm, x):
    """Result bits (unmasked) of gen.c's op `op` in mode `rm`; flags are
    read by the caller."""
    a, b, c = x
    if op < 32:
        A, B, C = f32(a), f32(b), f32(c)
        w, nan = 32, 0
    else:
        A, B, C = f64(a), f64(b), f64(c)
        w = 64
    if op in (0, 32):
        return bits((sf.f32_add if w == 32 else sf.f64_add)(A, B))
    if op in (1, 33):
        return bits((sf.f32_sub if w == 32 else sf.f64_sub)(A, B))
    if op in (2, 34):
        return bits((sf.f32_mul if w == 32 else sf.f64_mul)(A, B))
    if op in (3, 35):
        return bits((sf.f32_div if w == 32 else sf.f64_div)(A, B))
    if op in (4, 36):
        return bits((sf.f32_sqrt if w == 32 else sf.f64_sqrt)(A))
    if op in (5, 21, 22, 23, 37, 53, 54, 55):
        sign = S32 if w == 32 else S64
        mk = f32 if w == 32 else f64
        neg_prod = op in (22, 23, 54, 55)
        neg_add = op in (21, 23, 53, 55)
        fma = sf.f32_mul_add if w == 32 else sf.f64_mul_add
        return bits(fma(mk(a ^ sign if neg_prod else a), B, mk(c ^ sign if neg_add else c)))
    if op in (8, 40):
        return int((sf.f32_eq if w == 32 else sf.f64_eq)(A, B))
    if op in (9, 41):
        return int((sf.f32_lt if w == 32 else sf.f64_lt)(A, B))
    if op in (10, 42):
        return int((sf.f32_le if w == 32 else sf.f64_le)(A, B))
    conv = {
        12: sf.f32_to_i32, 13: sf.f32_to_ui32, 14: sf.f32_to_i64, 15: sf.f32_to_ui64,
        44: sf.f64_to_i32, 45: sf.f64_to_ui32, 46: sf.f64_to_i64, 47: sf.f64_to_ui64,
    }
    if op in conv:
        return to_int(A, rm, conv[op]) & (2**64 - 1)
    i32 = a & 0xFFFFFFFF
    i32 = i32 - (1 << 32) if i32 >> 31 else i32
    i64 = a - (1 << 64) if a >> 63 else a
    if op == 16:
        return bits(sf.i32_to_f32(sf.Int32.from_int(i32)))
    if op == 17:
        return bits(sf.ui32_to_f32(sf.UInt32.from_int(a & 0xFFFFFFFF)))
    if op == 18:
        return bits(sf.i64_to_f32(sf.Int64.from_int(i64)))
    if op == 19:
        return bits(sf.ui64_to_f32(sf.UInt64.from_int(a)))
    if op == 48:
        return bits(sf.i32_to_f64(sf.Int32.from_int(i32)))
    if op == 49:
        return bits(sf.ui32_to_f64(sf.UInt32.from_int(a & 0xFFFFFFFF)))
    if op == 50:
        return bits(sf.i64_to_f64(sf.Int64.from_int(i64)))
    if op == 51:
        return bits(sf.ui64_to_f64(sf.UInt64.from_int(a)))
    if op == 20:
        return bits(sf.f32_to_f64(A))
    if op == 52:
        return bits(sf.f64_to_f32(A))
    raise ValueError(f"op {op}")


def run(op, rm, x):
    """(result, fflags) of one record, as RISC-V defines it."""
    w = 32 if op < 32 else 64
    if op in (6, 7, 38, 39):
        return minmax(x[0], x[1], w, op in (7, 39))
    if op in (11, 43):
        return fclass(x[0], w), 0
    sf.set_rounding_mode(RM[rm])
    sf.set_exception_flags(0)
    r = compute(op, rm, x)
    return r, int(sf.get_exception_flags())


class Reader:
    def __init__(self, data):
        self.d, self.pos = data, 0

    def take(self, n):
        v = int.from_bytes(self.d[self.pos : self.pos + n], "little")
        self.pos += n
        return v

    def pool(self, width):
        return [self.take(width) for _ in range(self.take(4))]


def pool_of(op):
    if op in (16, 17, 18, 19, 48, 49, 50, 51):
        return 2
    return 0 if op <= 23 else 1


def read(data):
    """(pools, sections): sections are (op, rm, arity, width, records),
    records (indices, result, flags)."""
    assert data[:8] == b"RVFPVEC1"
    r = Reader(data)
    r.pos = 8
    pools = (r.pool(4), r.pool(8), r.pool(8))
    sections = []
    while r.pos < len(data):
        op, rm, arity, width, count = r.take(1), r.take(1), r.take(1), r.take(1), r.take(4)
        recs = []
        for _ in range(count):
            idx = [r.take(2) for _ in range(arity)]
            recs.append((idx, r.take(width), r.take(1)))
        sections.append((op, rm, arity, width, recs))
    return pools, sections


def encode(pools, sections):
    out = bytearray(b"RVFPVEC1")
    for pool, width in zip(pools, (4, 8, 8)):
        out += struct.pack("<I", len(pool))
        for v in pool:
            out += v.to_bytes(width, "little")
    for op, rm, arity, width, recs in sections:
        out += struct.pack("<BBBBI", op, rm, arity, width, len(recs))
        for idx, res, fl in recs:
            for i in idx:
                out += struct.pack("<H", i)
            out += (res & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
            out += struct.pack("<B", fl)
    return bytes(out)


def operands(pools, op, idx):
    pool = pools[pool_of(op)]
    x = [pool[i] for i in idx] + [0] * (3 - len(idx))
    return x


def generate(pools, qemu_sections):
    """Fresh sections: the same ops, modes, arities and widths as gen.c's,
    with PER_SECTION random operand choices each."""
    rng = random.Random(SEED)
    sf.set_tininess_mode(sf.TininessMode.AFTER_ROUNDING)
    sections = []
    for op, rm, arity, width, _ in qemu_sections:
        n = len(pools[pool_of(op)])
        recs = []
        for _ in range(PER_SECTION):
            idx = [rng.randrange(n) for _ in range(arity)]
            res, fl = run(op, rm, operands(pools, op, idx))
            recs.append((idx, res, fl))
        sections.append((op, rm, arity, width, recs))
    return encode(pools, sections)


def check_qemu(pools, sections):
    """Recompute every qemu record; the number of records and mismatches."""
    sf.set_tininess_mode(sf.TininessMode.AFTER_ROUNDING)
    n, bad = 0, []
    for op, rm, arity, width, recs in sections:
        mask = (1 << (8 * width)) - 1
        for idx, res, fl in recs:
            x = operands(pools, op, idx)
            got, gfl = run(op, rm, x)
            n += 1
            if (got & mask, gfl) != (res, fl):
                bad.append(f"op {op} rm {rm} {[hex(v) for v in x[:arity]]}: "
                           f"qemu {res:#x}/{fl:#x}, softfloat {got & mask:#x}/{gfl:#x}")
    return n, bad


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    with open(QEMU_VECTORS, "rb") as f:
        pools, sections = read(f.read())
    if mode == "write":
        data = generate(pools, sections)
        with open(OUT, "wb") as f:
            f.write(data)
        print(f"wrote {OUT}: {len(data)} bytes")
    elif mode == "check":
        n, bad = check_qemu(pools, sections)
        print(f"vectors.bin: {n} records, {len(bad)} differ between QEMU and SoftFloat")
        for b in bad[:20]:
            print("  " + b)
        with open(OUT, "rb") as f:
            committed = f.read()
        same = generate(pools, sections) == committed
        print(f"softfloat.bin regenerated: {'identical' if same else 'DIFFERS'}")
        sys.exit(0 if same and not bad else 1)
    else:
        print(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
