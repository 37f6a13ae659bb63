#!/usr/bin/env python3
"""Generate decode_vectors.txt: reference encodings for the decoder tests.

Every line of the output is `WORD<TAB>TEXT`: an instruction word as GNU as
encodes it and the text `objdump -d -M no-aliases` prints for it, with
branch/jump targets rewritten pc-relative (`.+8`) and tabs turned into
single spaces. Compressed words (4 hex digits) come from assembling the same
source with RVC enabled; their text is the objdump text of the 32-bit
encoding of that source line, i.e. of the expansion.

Run from this directory: python3 gen_decode_vectors.py > decode_vectors.txt
Needs riscv64-linux-gnu-as and riscv64-linux-gnu-objdump (binutils).
"""
import random
import re
import subprocess
import sys
import tempfile
import os

random.seed(1)
X = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3",
     "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
     "t3", "t4", "t5", "t6"]
F = ["ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1",
     "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7",
     "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"]
RM = ["rne", "rtz", "rdn", "rup", "rmm", None]


def x(): return random.choice(X)
def f(): return random.choice(F)
def rm():
    r = random.choice(RM)
    return "" if r is None else "," + r


def simm(bits): return random.randint(-(1 << (bits - 1)), (1 << (bits - 1)) - 1)


lines = []
N = 6
for _ in range(N):
    lines.append(f"lui {x()},{hex(random.randint(0, 0xfffff))}")
    lines.append(f"auipc {x()},{hex(random.randint(0, 0xfffff))}")
    lines.append(f"jal {x()},.{simm(21) & ~1:+d}")
    lines.append(f"jalr {x()},{simm(12)}({x()})")
    for b in ["beq", "bne", "blt", "bge", "bltu", "bgeu"]:
        lines.append(f"{b} {x()},{x()},.{simm(13) & ~1:+d}")
    for l in ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"]:
        lines.append(f"{l} {x()},{simm(12)}({x()})")
    for s in ["sb", "sh", "sw", "sd"]:
        lines.append(f"{s} {x()},{simm(12)}({x()})")
    for o in ["addi", "slti", "sltiu", "xori", "ori", "andi", "addiw"]:
        lines.append(f"{o} {x()},{x()},{simm(12)}")
    for o in ["slli", "srli", "srai"]:
        lines.append(f"{o} {x()},{x()},{random.randint(0, 63)}")
    for o in ["slliw", "srliw", "sraiw"]:
        lines.append(f"{o} {x()},{x()},{random.randint(0, 31)}")
    for o in ["add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
              "addw", "subw", "sllw", "srlw", "sraw", "mul", "mulh", "mulhsu", "mulhu",
              "div", "divu", "rem", "remu", "mulw", "divw", "divuw", "remw", "remuw"]:
        lines.append(f"{o} {x()},{x()},{x()}")
    for w in ["w", "d"]:
        for o in ["", ".aq", ".rl", ".aqrl"]:
            lines.append(f"lr.{w}{o} {x()},({x()})")
            lines.append(f"sc.{w}{o} {x()},{x()},({x()})")
            for a in ["amoswap", "amoadd", "amoxor", "amoand", "amoor", "amomin", "amomax",
                      "amominu", "amomaxu"]:
                lines.append(f"{a}.{w}{o} {x()},{x()},({x()})")
    for p in ["s", "d"]:
        ld = "flw" if p == "s" else "fld"
        st = "fsw" if p == "s" else "fsd"
        lines.append(f"{ld} {f()},{simm(12)}({x()})")
        lines.append(f"{st} {f()},{simm(12)}({x()})")
        for o in ["fmadd", "fmsub", "fnmsub", "fnmadd"]:
            lines.append(f"{o}.{p} {f()},{f()},{f()},{f()}{rm()}")
        for o in ["fadd", "fsub", "fmul", "fdiv"]:
            lines.append(f"{o}.{p} {f()},{f()},{f()}{rm()}")
        lines.append(f"fsqrt.{p} {f()},{f()}{rm()}")
        for o in ["fsgnj", "fsgnjn", "fsgnjx", "fmin", "fmax"]:
            lines.append(f"{o}.{p} {f()},{f()},{f()}")
        for o in ["feq", "flt", "fle"]:
            lines.append(f"{o}.{p} {x()},{f()},{f()}")
        lines.append(f"fclass.{p} {x()},{f()}")
        for i in ["w", "wu", "l", "lu"]:
            lines.append(f"fcvt.{i}.{p} {x()},{f()}{rm()}")
            if p == "d" and i in ("w", "wu"):
                lines.append(f"fcvt.{p}.{i} {f()},{x()}")
            else:
                lines.append(f"fcvt.{p}.{i} {f()},{x()}{rm()}")
    lines.append(f"fcvt.s.d {f()},{f()}{rm()}")
    lines.append(f"fcvt.d.s {f()},{f()}")
    lines.append(f"fmv.x.w {x()},{f()}")
    lines.append(f"fmv.w.x {f()},{x()}")
    lines.append(f"fmv.x.d {x()},{f()}")
    lines.append(f"fmv.d.x {f()},{x()}")
    for c in ["fflags", "frm", "fcsr", "cycle", "time", "instret", "0x7c0"]:
        for o in ["csrrw", "csrrs", "csrrc"]:
            lines.append(f"{o} {x()},{c},{x()}")
        for o in ["csrrwi", "csrrsi", "csrrci"]:
            lines.append(f"{o} {x()},{c},{random.randint(0, 31)}")
lines += ["fence", "fence.tso", "fence r,w", "fence iorw,o", "fence.i", "ecall", "ebreak"]

# Lines GNU as compresses when RVC is on (RV64C), with operands in range.
C = ["s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5"]
CF = ["fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5"]
NZ = X[1:]
def c(): return random.choice(C)
def nz(): return random.choice(NZ)
clines = []
for _ in range(12):
    clines.append(f"addi {c()},sp,{random.randint(1, 255) * 4}")
    clines.append(f"fld {random.choice(CF)},{random.randint(0, 31) * 8}({c()})")
    clines.append(f"lw {c()},{random.randint(0, 31) * 4}({c()})")
    clines.append(f"ld {c()},{random.randint(0, 31) * 8}({c()})")
    clines.append(f"fsd {random.choice(CF)},{random.randint(0, 31) * 8}({c()})")
    clines.append(f"sw {c()},{random.randint(0, 31) * 4}({c()})")
    clines.append(f"sd {c()},{random.randint(0, 31) * 8}({c()})")
    r = nz(); clines.append(f"addi {r},{r},{random.choice([i for i in range(-32, 32) if i])}")
    r = nz(); clines.append(f"addiw {r},{r},{random.randint(-32, 31)}")
    clines.append(f"addi {nz()},zero,{random.randint(-32, 31)}")
    clines.append(f"addi sp,sp,{random.choice([i for i in range(-32, 32) if i]) * 16}")
    r = random.choice([q for q in NZ if q != "sp"])
    clines.append(f"lui {r},{hex(random.choice(list(range(1, 32)) + list(range(0xfffe0, 0x100000))))}")
    r = c(); clines.append(f"srli {r},{r},{random.randint(1, 63)}")
    r = c(); clines.append(f"srai {r},{r},{random.randint(1, 63)}")
    r = c(); clines.append(f"andi {r},{r},{random.randint(-32, 31)}")
    for o in ["sub", "xor", "or", "and", "subw", "addw"]:
        r = c(); clines.append(f"{o} {r},{r},{c()}")
    clines.append(f"jal zero,.{random.randint(-1024, 1023) * 2:+d}")
    clines.append(f"beq {c()},zero,.{random.randint(-128, 127) * 2:+d}")
    clines.append(f"bne {c()},zero,.{random.randint(-128, 127) * 2:+d}")
    r = nz(); clines.append(f"slli {r},{r},{random.randint(1, 63)}")
    clines.append(f"fld {f()},{random.randint(0, 63) * 8}(sp)")
    clines.append(f"lw {nz()},{random.randint(0, 63) * 4}(sp)")
    clines.append(f"ld {nz()},{random.randint(0, 63) * 8}(sp)")
    clines.append(f"jalr zero,0({nz()})")
    clines.append(f"add {nz()},zero,{nz()}")
    clines.append(f"jalr ra,0({nz()})")
    r = nz(); clines.append(f"add {r},{r},{nz()}")
    clines.append(f"fsd {f()},{random.randint(0, 63) * 8}(sp)")
    clines.append(f"sw {x()},{random.randint(0, 63) * 4}(sp)")
    clines.append(f"sd {x()},{random.randint(0, 63) * 8}(sp)")
clines.append("ebreak")


def objdump(src, march, norvc):
    with tempfile.TemporaryDirectory() as d:
        s = os.path.join(d, "t.s")
        o = os.path.join(d, "t.o")
        with open(s, "w") as fh:
            if norvc:
                fh.write(".option norvc\n")
            fh.write("\n".join(src) + "\n")
        subprocess.run(["riscv64-linux-gnu-as", "-march=" + march, "-o", o, s], check=True)
        out = subprocess.run(["riscv64-linux-gnu-objdump", "-d", "-M", "no-aliases", o],
                             check=True, capture_output=True, text=True).stdout
    res = []
    for line in out.splitlines():
        m = re.match(r"^\s*([0-9a-f]+):\t([0-9a-f]+)\s+\t(.*)$", line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        word = m.group(2)
        text = re.sub(r"\s*#.*$", "", m.group(3))
        text = re.sub(r"\s*<[^>]*>", "", text).strip()
        text = re.sub(r"\s+", " ", text, count=1)
        mn = text.split(" ")[0]
        if mn in ("jal", "beq", "bne", "blt", "bge", "bltu", "bgeu"):
            ops = text.split(" ", 1)[1].split(",")
            off = ((int(ops[-1], 16) - addr + (1 << 63)) % (1 << 64)) - (1 << 63)
            ops[-1] = f".{off:+d}"
            text = mn + " " + ",".join(ops)
        res.append((word, text))
    return res


out = objdump(lines, "rv64gc", True)
assert len(out) == len(lines), (len(out), len(lines))
comp = objdump(clines, "rv64gc", False)
full = objdump(clines, "rv64gc", True)
assert len(comp) == len(full) == len(clines)
ncomp = 0
for (w, _), (_, t) in zip(comp, full):
    # A few lines (jumps to `.+N`) stay 32-bit: as only relaxes label targets.
    ncomp += len(w) == 4
    out.append((w, t))
assert ncomp > len(clines) * 9 // 10, ncomp
sys.stdout.write("# generated by gen_decode_vectors.py: WORD<TAB>objdump -M no-aliases text\n")
for w, t in out:
    sys.stdout.write(f"{w}\t{t}\n")
