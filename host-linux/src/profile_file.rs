//! The `--profile` file and `pvm report`: what a profiled run learned
//! (`vm_core::sampling`'s samples, the translator's profile database,
//! system call counts and times), with guest pcs resolved to symbols,
//! written as one JSON object ([`Profile`]) at exit, and read back and
//! printed as tables in the style of `perf report` ([`render`]).
//!
//! Symbols are resolved once, at exit (never while the guest runs): a
//! guest pc's mapped file (the loader's and `mmap`'s record of which file
//! backs which range, the one `/proc/self/maps` shows) gives a file
//! offset, the file's `PT_LOAD` headers turn it into an ELF address, and
//! its `.symtab` (else `.dynsym`) names the function there. So the file is
//! self-contained: `pvm report` needs neither the program nor the sysroot.
//! A library unmapped before the exit (`dlclose`) is not resolved.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::PathBuf;
use vm_core::launch::Ended;

/// The `format` field of every profile.
pub const FORMAT: &str = "pvm-profile";
/// The version this pvm writes and reads.
pub const VERSION: u32 = 1;

/// A profile, as written to the file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    pub format: String,
    pub version: u32,
    pub program: String,
    /// `jit` or `interp`.
    pub engine: String,
    /// CPU time between two samples of a thread.
    pub interval_ns: u64,
    /// Wall time of the whole run, and guest instructions the first
    /// thread retired.
    pub wall_ns: u64,
    pub guest_insts: u64,
    /// CPU time pvm used (user and system, every thread).
    pub cpu_ns: u64,
    pub samples: Totals,
    /// The engine's `--stats` counters (translations, host code bytes,
    /// flushes, retranslations, cold blocks interpreted, ...).
    pub engine_stats: BTreeMap<String, u64>,
    /// Samples by guest pc.
    pub pcs: Vec<PcSamples>,
    /// Every translation made, with the samples taken inside it.
    pub blocks: Vec<Block>,
    /// Blocks interpreted while cold, and how many times.
    pub cold: Vec<Cold>,
    pub syscalls: Vec<Syscall>,
    /// Samples by host thread id (one per guest thread).
    pub threads: Vec<ThreadSamples>,
    /// Samples outside translated code, by pvm's own function (the
    /// engine's overhead: dispatcher, interpreter, helpers, translator,
    /// system call emulation).
    pub runtime: Vec<HostFunction>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFunction {
    pub name: String,
    pub samples: u32,
}

/// Sample totals (see `vm_core::sampling::Totals`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub translated: u64,
    pub runtime: u64,
    pub no_pc: u64,
    pub dropped: u64,
}

impl Totals {
    pub fn all(&self) -> u64 {
        self.translated + self.runtime + self.no_pc
    }
}

/// Where a guest pc falls: `name+offset` in `object` (the file's base
/// name); `name` empty when the object has no symbol there (`offset` is
/// then the ELF address).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Symbol {
    pub name: String,
    pub offset: u64,
    pub object: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PcSamples {
    pub pc: u64,
    pub samples: u32,
    /// Taken outside translated code, charged to the thread's last known
    /// pc (see `vm_core::sampling`).
    pub runtime: bool,
    pub symbol: Option<Symbol>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// Guest entry pc, and the end of the last instruction translated.
    pub pc: u64,
    pub end: u64,
    /// `region` or `block`.
    pub kind: String,
    /// Times translated (more than 1: retranslated after a flush).
    pub times: u32,
    pub guest_insts: u32,
    pub host_bytes: u64,
    pub translate_ns: u64,
    /// Samples taken in this translation's code.
    pub samples: u32,
    pub symbol: Option<Symbol>,
    /// For the hottest translations ([`CODE_BLOCKS`]): the guest
    /// instructions of `[pc, end)` and the host code they became, one
    /// disassembled instruction per line (`pvm report --block`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guest_code: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_code: Vec<String>,
}

/// How many of the hottest translations keep their code in the file.
pub const CODE_BLOCKS: usize = 32;

/// The guest instructions of `[pc, end)`, disassembled (at most 512).
fn guest_code(mem: &vm_core::memory::GuestMemory, pc: u64, end: u64) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = pc;
    while at < end && out.len() < 512 {
        let Ok(bits) = vm_core::translate::fetch(mem, at) else {
            break;
        };
        let (inst, len) = vm_core::decode::decode(bits);
        out.push(format!("{at:#x}:  {inst}"));
        at += len as u64;
    }
    out
}

/// `code`, which ran at host address `addr`, in Intel syntax.
fn host_code(addr: u64, code: &[u8]) -> Vec<String> {
    use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};
    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut fmt = IntelFormatter::new();
    let mut inst = Instruction::default();
    let mut out = Vec::new();
    while decoder.can_decode() {
        decoder.decode_out(&mut inst);
        let mut text = String::new();
        fmt.format(&inst, &mut text);
        out.push(format!("{:#x}:  {text}", inst.ip()));
    }
    out
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cold {
    pub pc: u64,
    pub runs: u32,
    pub symbol: Option<Symbol>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Syscall {
    pub nr: u64,
    pub name: String,
    pub calls: u64,
    pub ns: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ThreadSamples {
    pub tid: i32,
    pub samples: u32,
}

/// An ELF file's symbols, as far as a profile needs them.
struct ElfSyms {
    /// `PT_LOAD`s: (file offset, file size, ELF address).
    loads: Vec<(u64, u64, u64)>,
    /// Functions and objects: (address, size, name), by address.
    syms: Vec<(u64, u64, String)>,
}

impl ElfSyms {
    fn read(path: &std::path::Path) -> Option<ElfSyms> {
        use xmas_elf::program::Type;
        use xmas_elf::sections::SectionData;
        use xmas_elf::symbol_table::{Entry, Type as SymType};
        let data = std::fs::read(path).ok()?;
        let elf = xmas_elf::ElfFile::new(&data).ok()?;
        let loads = elf
            .program_iter()
            .filter(|p| p.get_type() == Ok(Type::Load))
            .map(|p| (p.offset(), p.file_size(), p.virtual_addr()))
            .collect();
        let mut syms = Vec::new();
        let add = |syms: &mut Vec<(u64, u64, String)>,
                   value: u64,
                   size: u64,
                   ty: Result<SymType, &str>,
                   name: Result<&str, &str>| {
            if value != 0
                && matches!(ty, Ok(SymType::Func) | Ok(SymType::Object))
                && let Ok(n) = name
                && !n.is_empty()
            {
                syms.push((value, size, n.to_string()));
            }
        };
        for want_dyn in [false, true] {
            for s in elf.section_iter() {
                match s.get_data(&elf) {
                    Ok(SectionData::SymbolTable64(t)) if !want_dyn => {
                        for e in t {
                            add(
                                &mut syms,
                                e.value(),
                                e.size(),
                                e.get_type(),
                                e.get_name(&elf),
                            );
                        }
                    }
                    Ok(SectionData::DynSymbolTable64(t)) if want_dyn => {
                        for e in t {
                            add(
                                &mut syms,
                                e.value(),
                                e.size(),
                                e.get_type(),
                                e.get_name(&elf),
                            );
                        }
                    }
                    _ => {}
                }
            }
            if !syms.is_empty() {
                break;
            }
        }
        // Sized symbols first at an address, so a lookup prefers them.
        syms.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        syms.dedup_by_key(|s| s.0);
        Some(ElfSyms { loads, syms })
    }

    /// The ELF address of file offset `off`.
    fn addr_of(&self, off: u64) -> Option<u64> {
        self.loads
            .iter()
            .find(|&&(o, n, _)| (o..o + n.max(1)).contains(&off))
            .map(|&(o, _, v)| off - o + v)
    }

    /// The symbol containing ELF address `a`: (name, offset).
    fn at(&self, a: u64) -> Option<(&str, u64)> {
        let i = self.syms.partition_point(|s| s.0 <= a);
        let (v, size, name) = self.syms.get(i.checked_sub(1)?)?;
        // An unsized symbol (hand-written assembly) covers up to the next.
        (*size == 0 || a < v + size).then(|| (name.as_str(), a - v))
    }
}

/// Guest pc to symbol, over the files mapped at exit.
pub struct Symbolizer<'a> {
    /// (start, end, path, file offset of start), by start.
    maps: Vec<(u64, u64, Vec<u8>, u64)>,
    /// Where a guest path is on this host (the sysroot rule).
    host_path: &'a dyn Fn(&[u8]) -> PathBuf,
    files: HashMap<Vec<u8>, Option<ElfSyms>>,
}

impl<'a> Symbolizer<'a> {
    /// Mapped files `(start, end, guest path, file offset)`.
    pub fn new(
        mut maps: Vec<(u64, u64, Vec<u8>, u64)>,
        host_path: &'a dyn Fn(&[u8]) -> PathBuf,
    ) -> Symbolizer<'a> {
        maps.sort_by_key(|m| m.0);
        Symbolizer {
            maps,
            host_path,
            files: HashMap::new(),
        }
    }

    pub fn lookup(&mut self, pc: u64) -> Option<Symbol> {
        let i = self.maps.partition_point(|m| m.0 <= pc);
        let (start, end, path, offset) = self.maps.get(i.checked_sub(1)?)?;
        if pc >= *end {
            return None;
        }
        let off = pc - start + offset;
        let object = String::from_utf8_lossy(path.rsplit(|&c| c == b'/').next().unwrap_or(path))
            .into_owned();
        let host_path = self.host_path;
        let elf = self
            .files
            .entry(path.clone())
            .or_insert_with(|| ElfSyms::read(&host_path(path)))
            .as_ref();
        let addr = elf.and_then(|e| e.addr_of(off)).unwrap_or(off);
        match elf.and_then(|e| e.at(addr)) {
            Some((name, o)) => Some(Symbol {
                name: name.to_string(),
                offset: o,
                object,
            }),
            None => Some(Symbol {
                name: String::new(),
                offset: addr,
                object,
            }),
        }
    }
}

/// CPU time this process used so far (user and system, all threads).
fn cpu_ns() -> u64 {
    // SAFETY: getrusage writes the struct it is given.
    let ru = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        ru
    };
    let t = |tv: libc::timeval| tv.tv_sec as u64 * 1_000_000_000 + tv.tv_usec as u64 * 1000;
    t(ru.ru_utime) + t(ru.ru_stime)
}

/// pvm's own functions: (address, size, demangled name), by address,
/// at their run-time addresses.
fn host_symbols() -> Vec<(u64, u64, String)> {
    let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
        return Vec::new();
    };
    // The load address: the start of the executable's mapping at file
    // offset 0 (its first PT_LOAD's address is 0 in a PIE).
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let start = maps.lines().find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        (f.len() >= 6 && f[2] == "00000000" && std::path::Path::new(f[5]) == exe)
            .then(|| u64::from_str_radix(f[0].split('-').next()?, 16).ok())
            .flatten()
    });
    let Some(e) = ElfSyms::read(&exe) else {
        return Vec::new();
    };
    let first = e.loads.iter().map(|l| l.2).min().unwrap_or(0);
    let bias = start.unwrap_or(first).wrapping_sub(first);
    e.syms
        .into_iter()
        .map(|(v, size, name)| {
            let name = format!("{:#}", rustc_demangle::demangle(&name));
            (v.wrapping_add(bias), size, name)
        })
        .collect()
}

/// Runtime samples by pvm function, hottest first.
fn runtime_functions(by_host: &[(u64, u32)]) -> Vec<HostFunction> {
    let syms = host_symbols();
    let mut by: HashMap<String, u32> = HashMap::new();
    for &(rip, n) in by_host {
        let i = syms.partition_point(|s| s.0 <= rip);
        let name = match i.checked_sub(1).map(|i| &syms[i]) {
            Some((v, size, name)) if *size == 0 || rip < v + size => name.clone(),
            _ => "[outside pvm: the C library, the kernel's vDSO]".to_string(),
        };
        *by.entry(name).or_default() += n;
    }
    let mut v: Vec<HostFunction> = by
        .into_iter()
        .map(|(name, samples)| HostFunction { name, samples })
        .collect();
    v.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.name.cmp(&b.name)));
    v
}

/// What a profiled run learned, at its end.
pub fn collect(
    ended: &Ended,
    program: &str,
    engine: &str,
    host_path: &dyn Fn(&[u8]) -> PathBuf,
) -> Profile {
    let s = vm_core::sampling::samples();
    let maps = {
        let m = ended.process.mem.maps.lock();
        m.names
            .iter()
            .map(|(&start, n)| (start, n.end, n.path.to_vec(), n.offset))
            .collect()
    };
    let mut sym = Symbolizer::new(maps, host_path);
    let snap = ended.engine.profile().unwrap_or_default();
    let by_tr: HashMap<u64, u32> = s.by_translation.iter().copied().collect();
    let mut blocks: Vec<Block> = snap
        .translations
        .iter()
        .map(|t| Block {
            pc: t.pc,
            end: t.end,
            kind: if t.region { "region" } else { "block" }.into(),
            times: t.times,
            guest_insts: t.guest_insts,
            host_bytes: t.host_bytes,
            translate_ns: t.ns,
            samples: 0,
            symbol: None,
            guest_code: Vec::new(),
            host_code: Vec::new(),
        })
        .collect();
    // A pc translated as a block and later as a region: its samples are
    // the region's (the block's entry jumps to it once promoted).
    blocks.sort_by_key(|b| (b.pc, b.kind != "region"));
    let mut last = None;
    for b in &mut blocks {
        if last != Some(b.pc) {
            b.samples = by_tr.get(&b.pc).copied().unwrap_or(0);
        }
        last = Some(b.pc);
        b.symbol = sym.lookup(b.pc);
    }
    // The hottest translations' code, guest and host (the live
    // translation at that pc: the last one made there).
    let mut hot: Vec<usize> = (0..blocks.len())
        .filter(|&i| blocks[i].samples > 0)
        .collect();
    hot.sort_by_key(|&i| std::cmp::Reverse(blocks[i].samples));
    for &i in hot.iter().take(CODE_BLOCKS) {
        let b = &mut blocks[i];
        b.guest_code = guest_code(&ended.process.mem, b.pc, b.end);
        if let Some((addr, code)) = ended.engine.host_code(b.pc) {
            b.host_code = host_code(addr, &code);
        }
    }
    let pcs = s
        .by_pc
        .iter()
        .map(|&(pc, runtime, samples)| PcSamples {
            pc,
            samples,
            runtime,
            symbol: sym.lookup(pc),
        })
        .collect();
    let cold = snap
        .cold
        .iter()
        .map(|&(pc, runs)| Cold {
            pc,
            runs,
            symbol: sym.lookup(pc),
        })
        .collect();
    let syscalls = vm_core::sampling::syscalls()
        .into_iter()
        .map(|(nr, calls, ns)| Syscall {
            nr,
            name: vm_core::syscall::nr::name(nr).unwrap_or("?").into(),
            calls,
            ns,
        })
        .collect();
    Profile {
        format: FORMAT.into(),
        version: VERSION,
        program: program.into(),
        engine: engine.into(),
        interval_ns: crate::profiler::INTERVAL_NS,
        wall_ns: ended.wall_ns,
        guest_insts: ended.thread.cpu.instret,
        cpu_ns: cpu_ns(),
        samples: Totals {
            translated: s.totals.translated,
            runtime: s.totals.runtime,
            no_pc: s.totals.no_pc,
            dropped: s.totals.dropped,
        },
        engine_stats: ended
            .engine
            .stats()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        pcs,
        blocks,
        cold,
        syscalls,
        threads: s
            .by_thread
            .iter()
            .map(|&(tid, samples)| ThreadSamples { tid, samples })
            .collect(),
        runtime: runtime_functions(&s.by_host),
    }
}

impl Profile {
    /// The file's text.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a profile serialises")
    }

    /// Read a profile file's text: one line saying what is wrong when it
    /// is not a profile this pvm can read.
    pub fn from_json(text: &str) -> Result<Profile, String> {
        let p: Profile =
            serde_json::from_str(text).map_err(|e| format!("not a pvm profile ({e})"))?;
        if p.format != FORMAT {
            return Err(format!("not a pvm profile (format {:?})", p.format));
        }
        if p.version != VERSION {
            return Err(format!(
                "profile version {} (this pvm reads version {VERSION})",
                p.version
            ));
        }
        Ok(p)
    }
}

fn pct(n: u64, of: u64) -> f64 {
    if of == 0 {
        0.0
    } else {
        n as f64 * 100.0 / of as f64
    }
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// How a symbol prints: `name`, `name+0x10`, or `[object+0xaddr]`.
fn sym_text(s: &Option<Symbol>, with_offset: bool) -> String {
    match s {
        None => "[anonymous memory]".into(),
        Some(s) if s.name.is_empty() => format!("[{}+{:#x}]", s.object, s.offset),
        Some(s) if with_offset && s.offset != 0 => format!("{}+{:#x}", s.name, s.offset),
        Some(s) => s.name.clone(),
    }
}

/// The hottest functions: (samples, of them in translated code, symbol
/// text, object), hottest first.
pub fn functions(p: &Profile) -> Vec<(u64, u64, String, String)> {
    let mut by: HashMap<(String, String), (u64, u64)> = HashMap::new();
    for s in &p.pcs {
        let (name, object) = match &s.symbol {
            Some(sym) if !sym.name.is_empty() => (sym.name.clone(), sym.object.clone()),
            Some(sym) => (format!("[{}]", sym.object), sym.object.clone()),
            None => ("[anonymous memory]".into(), String::new()),
        };
        let e = by.entry((name, object)).or_default();
        e.0 += s.samples as u64;
        if !s.runtime {
            e.1 += s.samples as u64;
        }
    }
    let mut v: Vec<_> = by
        .into_iter()
        .map(|((name, object), (n, t))| (n, t, name, object))
        .collect();
    v.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.2.cmp(&b.2)));
    v
}

/// `pvm report --block ADDR`: the translations entered at guest `addr`
/// (else those whose range holds it), with their guest instructions and
/// the host code they became.
pub fn render_block(p: &Profile, addr: u64) -> Result<String, String> {
    let mut found: Vec<&Block> = p.blocks.iter().filter(|b| b.pc == addr).collect();
    if found.is_empty() {
        found = p
            .blocks
            .iter()
            .filter(|b| (b.pc..b.end).contains(&addr))
            .collect();
    }
    if found.is_empty() {
        return Err(format!("no translation at {addr:#x} in the profile"));
    }
    let total = p.samples.all();
    let mut o = String::new();
    for b in found {
        let _ = writeln!(
            o,
            "{} {:#x}-{:#x} ({}): {} guest instructions, {} bytes of host code, translated {} time(s) in {:.3} ms, {} samples ({:.2}%)",
            b.kind,
            b.pc,
            b.end,
            sym_text(&b.symbol, true),
            b.guest_insts,
            b.host_bytes,
            b.times,
            ms(b.translate_ns),
            b.samples,
            pct(b.samples as u64, total)
        );
        if b.guest_code.is_empty() {
            let _ = writeln!(
                o,
                "  (code not kept: only the {CODE_BLOCKS} hottest translations keep theirs)"
            );
            continue;
        }
        let _ = writeln!(o, "guest:");
        for l in &b.guest_code {
            let _ = writeln!(o, "  {l}");
        }
        let _ = writeln!(o, "host:");
        for l in &b.host_code {
            let _ = writeln!(o, "  {l}");
        }
    }
    Ok(o)
}

/// The report `pvm report` prints, with the `top` hottest rows per table.
pub fn render(p: &Profile, top: usize) -> String {
    let mut o = String::new();
    let total = p.samples.all();
    let st = |k: &str| p.engine_stats.get(k).copied().unwrap_or(0);
    let _ = writeln!(
        o,
        "# pvm profile of {} ({}): {:.3} s wall, {:.3} s CPU, {} guest instructions (first thread)",
        p.program,
        p.engine,
        p.wall_ns as f64 / 1e9,
        p.cpu_ns as f64 / 1e9,
        p.guest_insts
    );
    let _ = writeln!(
        o,
        "# {} samples of CPU time (a timer of {:.1} ms per thread, at the kernel's tick granularity): {:.1}% in translated code (exact pc), {:.1}% elsewhere in pvm (interpreter, dispatcher, helpers, system calls, translator; charged to the thread's last guest pc)",
        total,
        p.interval_ns as f64 / 1e6,
        pct(p.samples.translated, total),
        pct(p.samples.runtime, total)
    );
    if p.samples.dropped != 0 {
        let _ = writeln!(o, "# {} samples dropped (table full)", p.samples.dropped);
    }
    let _ = writeln!(o, "\nHottest functions (share of samples):");
    let _ = writeln!(
        o,
        "{:>7}  {:>8}  {:>7}  {:<40} object",
        "share", "samples", "in jit", "symbol"
    );
    for (n, t, name, object) in functions(p).iter().take(top) {
        let _ = writeln!(
            o,
            "{:>6.2}%  {:>8}  {:>6.1}%  {:<40} {}",
            pct(*n, total),
            n,
            pct(*t, *n),
            name,
            object
        );
    }
    let mut blocks: Vec<&Block> = p.blocks.iter().filter(|b| b.samples > 0).collect();
    blocks.sort_by(|a, b| b.samples.cmp(&a.samples).then(a.pc.cmp(&b.pc)));
    if !blocks.is_empty() {
        let _ = writeln!(o, "\nHottest translations (samples inside their code):");
        let _ = writeln!(
            o,
            "{:>7}  {:>8}  {:<37}  {:<6}  {:>5}  {:>5}  {:>6}  symbol",
            "share", "samples", "guest pc range", "kind", "insts", "times", "bytes"
        );
        for b in blocks.iter().take(top) {
            let _ = writeln!(
                o,
                "{:>6.2}%  {:>8}  {:#018x}-{:#018x}  {:<6}  {:>5}  {:>5}  {:>6}  {}",
                pct(b.samples as u64, total),
                b.samples,
                b.pc,
                b.end,
                b.kind,
                b.guest_insts,
                b.times,
                b.host_bytes,
                sym_text(&b.symbol, true)
            );
        }
    } else {
        let mut pcs: Vec<&PcSamples> = p.pcs.iter().collect();
        pcs.sort_by(|a, b| b.samples.cmp(&a.samples).then(a.pc.cmp(&b.pc)));
        let _ = writeln!(o, "\nHottest guest pcs:");
        let _ = writeln!(o, "{:>7}  {:>8}  {:<18}  symbol", "share", "samples", "pc");
        for s in pcs.iter().take(top) {
            let _ = writeln!(
                o,
                "{:>6.2}%  {:>8}  {:#018x}  {}",
                pct(s.samples as u64, total),
                s.samples,
                s.pc,
                sym_text(&s.symbol, true)
            );
        }
    }
    if p.engine == "jit" {
        let tns = st("jit_translate_ns");
        let _ = writeln!(
            o,
            "\nTranslation: {:.1} ms translating ({:.1}% of the wall time), {} translations ({} regions promoted), {} guest instructions translated, {} bytes of host code, {} cache flushes ({} avoided), {} retranslations",
            ms(tns),
            pct(tns, p.wall_ns),
            st("jit_translations"),
            st("jit_regions_promoted"),
            st("jit_guest_insts_translated"),
            st("jit_host_code_bytes"),
            st("jit_cache_flushes"),
            st("jit_flushes_avoided"),
            st("jit_retranslations")
        );
        let translated: std::collections::HashSet<u64> = p.blocks.iter().map(|b| b.pc).collect();
        let never = p
            .cold
            .iter()
            .filter(|c| !translated.contains(&c.pc))
            .count();
        let _ = writeln!(
            o,
            "Cold code: {} block runs interpreted before translation, in {} blocks ({} never translated)",
            st("jit_cold_blocks_interpreted"),
            p.cold.len(),
            never
        );
        let mut cold_fn: HashMap<String, u64> = HashMap::new();
        for c in &p.cold {
            *cold_fn.entry(sym_text(&c.symbol, false)).or_default() += c.runs as u64;
        }
        let mut cold_fn: Vec<_> = cold_fn.into_iter().collect();
        cold_fn.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if !cold_fn.is_empty() {
            let list: Vec<String> = cold_fn
                .iter()
                .take(5)
                .map(|(f, n)| format!("{f} ({n})"))
                .collect();
            let _ = writeln!(o, "  most interpreted: {}", list.join(", "));
        }
    }
    if !p.runtime.is_empty() {
        let _ = writeln!(
            o,
            "\nOutside translated code, by pvm function ({:.1}% of the samples):",
            pct(p.samples.runtime, total)
        );
        for f in p.runtime.iter().take(top.min(10)) {
            let _ = writeln!(
                o,
                "{:>6.2}%  {:>8}  {}",
                pct(f.samples as u64, total),
                f.samples,
                f.name
            );
        }
    }
    let mut sys: Vec<&Syscall> = p.syscalls.iter().collect();
    sys.sort_by(|a, b| b.ns.cmp(&a.ns).then(a.nr.cmp(&b.nr)));
    let calls: u64 = sys.iter().map(|s| s.calls).sum();
    let sns: u64 = sys.iter().map(|s| s.ns).sum();
    let _ = writeln!(
        o,
        "\nSystem calls: {calls}, {:.3} ms ({:.1}% of the wall time, waits included)",
        ms(sns),
        pct(sns, p.wall_ns)
    );
    for s in sys.iter().take(top) {
        let _ = writeln!(o, "{:>10}  {:>10.3} ms  {}", s.calls, ms(s.ns), s.name);
    }
    if p.threads.len() > 1 {
        let _ = writeln!(o, "\nThreads (samples = CPU time):");
        let mut th = p.threads.clone();
        th.sort_by(|a, b| b.samples.cmp(&a.samples).then(a.tid.cmp(&b.tid)));
        for t in th.iter().take(top) {
            let _ = writeln!(
                o,
                "{:>8} samples  {:>6.2}%  thread {}",
                t.samples,
                pct(t.samples as u64, total),
                t.tid
            );
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Profile {
        let sym = |n: &str, off| {
            Some(Symbol {
                name: n.into(),
                offset: off,
                object: "prog".into(),
            })
        };
        Profile {
            format: FORMAT.into(),
            version: VERSION,
            program: "prog \"quoted\" \u{e9}".into(),
            engine: "jit".into(),
            interval_ns: 1_000_000,
            wall_ns: 2_000_000_000,
            guest_insts: u64::MAX,
            cpu_ns: 1_900_000_000,
            samples: Totals {
                translated: 90,
                runtime: 10,
                no_pc: 0,
                dropped: 0,
            },
            engine_stats: [("jit_translations".to_string(), 12)].into(),
            pcs: vec![
                PcSamples {
                    pc: 0x10400,
                    samples: 80,
                    runtime: false,
                    symbol: sym("hot", 0x10),
                },
                PcSamples {
                    pc: 0x10404,
                    samples: 10,
                    runtime: false,
                    symbol: sym("hot", 0x14),
                },
                PcSamples {
                    pc: 0x10800,
                    samples: 10,
                    runtime: true,
                    symbol: sym("cold", 0),
                },
            ],
            blocks: vec![Block {
                pc: 0x103f0,
                end: 0x10420,
                kind: "region".into(),
                times: 1,
                guest_insts: 9,
                host_bytes: 200,
                translate_ns: 5000,
                samples: 90,
                symbol: sym("hot", 0),
                guest_code: vec!["0x103f0:  addi a0, a0, 1".into()],
                host_code: vec!["0x7f0000001000:  add rbx,1".into()],
            }],
            cold: vec![Cold {
                pc: 0x10800,
                runs: 16,
                symbol: sym("cold", 0),
            }],
            syscalls: vec![Syscall {
                nr: 64,
                name: "write".into(),
                calls: 3,
                ns: 12345,
            }],
            threads: vec![ThreadSamples {
                tid: 42,
                samples: 100,
            }],
            runtime: vec![HostFunction {
                name: "vm_core::translate::step::step".into(),
                samples: 10,
            }],
        }
    }

    #[test]
    fn round_trip() {
        let p = sample();
        let text = p.to_json();
        assert_eq!(Profile::from_json(&text).unwrap(), p);
    }

    #[test]
    fn bad_files_are_one_line_errors() {
        let text = sample().to_json();
        for bad in [
            String::new(),
            "{".into(),
            text[..text.len() / 2].to_string(),
            text.replace(FORMAT, "other"),
            text.replace("\"version\":1", "\"version\":99"),
            text.replace("\"pc\":66560", "\"pc\":-1"),
            "[1,2,3]".into(),
        ] {
            let e = Profile::from_json(&bad).unwrap_err();
            assert!(!e.contains('\n'), "{e}");
        }
    }

    #[test]
    fn report_names_the_hot_function_first() {
        let r = render(&sample(), 10);
        let funcs = functions(&sample());
        assert_eq!(funcs[0].2, "hot");
        assert_eq!(funcs[0].0, 90);
        let line = r
            .lines()
            .skip_while(|l| !l.starts_with("Hottest functions"))
            .nth(2)
            .unwrap();
        assert!(line.contains("90.00%") && line.contains("hot"), "{r}");
        assert!(r.contains("write"), "{r}");
    }

    #[test]
    fn block_listing() {
        let p = sample();
        let b = render_block(&p, 0x103f0).unwrap();
        assert!(
            b.contains("addi a0, a0, 1") && b.contains("add rbx,1"),
            "{b}"
        );
        assert_eq!(render_block(&p, 0x10400).unwrap(), b, "inside the range");
        assert!(render_block(&p, 0x20000).is_err());
    }

    #[test]
    fn elf_addresses_and_symbols() {
        let e = ElfSyms {
            loads: vec![(0, 0x1000, 0x10000), (0x1000, 0x200, 0x12000)],
            syms: vec![
                (0x10100, 0x20, "f".into()),
                (0x10200, 0, "asm".into()),
                (0x12000, 8, "data".into()),
            ],
        };
        assert_eq!(e.addr_of(0x110), Some(0x10110));
        assert_eq!(e.addr_of(0x1010), Some(0x12010));
        assert_eq!(e.addr_of(0x5000), None);
        assert_eq!(e.at(0x10110), Some(("f", 0x10)));
        assert_eq!(e.at(0x10130), None, "past f's size");
        assert_eq!(e.at(0x10300), Some(("asm", 0x100)));
        assert_eq!(e.at(0x100), None);
    }
}
