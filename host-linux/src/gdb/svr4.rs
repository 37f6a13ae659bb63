//! `qXfer:libraries-svr4:read`: the guest's list of loaded shared
//! objects, read from the dynamic linker's `r_debug` as gdbserver does,
//! so gdb learns the libraries (name, load bias, dynamic section, link
//! map) in one packet instead of walking the link map through `m` reads.
//!
//! The program's dynamic section is found from the auxv (`AT_PHDR`,
//! `AT_PHNUM`: its `PT_PHDR` gives the load bias, its `PT_DYNAMIC` the
//! section), the `DT_DEBUG` entry there points to `r_debug` once the
//! dynamic linker has filled it in, and `r_map` starts the `link_map`
//! chain. The first entry is the program itself (`main-lm`); a program
//! with no `DT_DEBUG` yet (at the first instruction, or a static one)
//! has the empty list. Each library's `lmid` (its link-map namespace,
//! which gdb 13 requires) is the address of the `r_debug` it hangs from:
//! pvm's guests have the one namespace of the program's `DT_DEBUG`.

use vm_core::abi::{AT_PHDR, AT_PHENT, AT_PHNUM};

const PT_DYNAMIC: u64 = 2;
const PT_PHDR: u64 = 6;
const DT_DEBUG: u64 = 21;
/// Bounds against a corrupt or hostile guest: entries walked.
const MAX_PHDRS: u64 = 256;
const MAX_DYN: u64 = 4096;
const MAX_LIBS: usize = 4096;
const MAX_NAME: usize = 4096;

/// The `<library-list-svr4>` document. `auxv` is the raw auxv (pairs of
/// little-endian u64), `rd` reads a guest u64 (`None` outside the
/// guest), `rd_str` a NUL-terminated string.
pub fn library_list(
    auxv: &[u8],
    rd: impl Fn(u64) -> Option<u64>,
    rd_str: impl Fn(u64) -> Option<Vec<u8>>,
) -> String {
    let mut doc = String::from("<library-list-svr4 version=\"1.0\"");
    let Some((r_debug, mut lm)) = r_map(auxv, &rd).filter(|&(_, a)| a != 0) else {
        doc.push_str("/>");
        return doc;
    };
    doc.push_str(&format!(" main-lm=\"{lm:#x}\">"));
    let mut seen = 0;
    // The program's own entry is skipped (its name is empty).
    let mut prev = lm;
    lm = rd(lm + 24).unwrap_or(0);
    while lm != 0 && seen < MAX_LIBS {
        seen += 1;
        let (Some(l_addr), Some(l_name), Some(l_ld), Some(l_next), Some(l_prev)) =
            (rd(lm), rd(lm + 8), rd(lm + 16), rd(lm + 24), rd(lm + 32))
        else {
            break;
        };
        // A broken chain (as gdbserver checks): stop.
        if l_prev != prev {
            break;
        }
        let name = rd_str(l_name).unwrap_or_default();
        if !name.is_empty() {
            doc.push_str(&format!(
                "<library name=\"{}\" lm=\"{lm:#x}\" l_addr=\"{l_addr:#x}\" \
                 l_ld=\"{l_ld:#x}\" lmid=\"{r_debug:#x}\"/>",
                xml_escape(&name)
            ));
        }
        prev = lm;
        lm = l_next;
    }
    doc.push_str("</library-list-svr4>");
    doc
}

/// The address of `r_debug`, through the program's `DT_DEBUG`, and its
/// `r_map`.
fn r_map(auxv: &[u8], rd: &impl Fn(u64) -> Option<u64>) -> Option<(u64, u64)> {
    let aux = |key: u64| {
        auxv.chunks_exact(16).find_map(|p| {
            let k = u64::from_le_bytes(p[..8].try_into().ok()?);
            (k == key).then(|| u64::from_le_bytes(p[8..].try_into().unwrap_or_default()))
        })
    };
    let phdr = aux(AT_PHDR)?;
    let phent = aux(AT_PHENT).unwrap_or(56);
    let phnum = aux(AT_PHNUM)?.min(MAX_PHDRS);
    if phent < 56 {
        return None;
    }
    let (mut bias, mut dynamic) = (None, None);
    for i in 0..phnum {
        let ph = phdr + i * phent;
        let p_type = rd(ph)? & 0xffff_ffff;
        let p_vaddr = rd(ph + 16)?;
        match p_type {
            PT_PHDR => bias = Some(phdr.wrapping_sub(p_vaddr)),
            PT_DYNAMIC => dynamic = Some(p_vaddr),
            _ => {}
        }
    }
    // Without PT_PHDR the bias is unknown (gdbserver gives up too; real
    // programs with a dynamic section have one).
    let mut d = dynamic?.wrapping_add(bias?);
    for _ in 0..MAX_DYN {
        let tag = rd(d)?;
        if tag == 0 {
            return None;
        }
        if tag == DT_DEBUG {
            let r_debug = rd(d + 8)?;
            return if r_debug == 0 {
                None
            } else {
                Some((r_debug, rd(r_debug + 8)?))
            };
        }
        d += 16;
    }
    None
}

/// The bytes of a name as XML attribute text.
fn xml_escape(b: &[u8]) -> String {
    let s = String::from_utf8_lossy(&b[..b.len().min(MAX_NAME)]).into_owned();
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A fake guest: u64 words at addresses, and strings.
    struct Mem {
        words: HashMap<u64, u64>,
        strs: HashMap<u64, Vec<u8>>,
    }

    impl Mem {
        fn list(&self, auxv: &[u8]) -> String {
            library_list(
                auxv,
                |a| self.words.get(&a).copied(),
                |a| self.strs.get(&a).cloned(),
            )
        }
    }

    fn auxv(pairs: &[(u64, u64)]) -> Vec<u8> {
        pairs
            .iter()
            .flat_map(|(k, v)| k.to_le_bytes().into_iter().chain(v.to_le_bytes()))
            .collect()
    }

    #[test]
    fn walks_the_link_map() {
        let mut w = HashMap::new();
        // Two program headers at 0x10040 (bias 0x10000): PT_PHDR, PT_DYNAMIC.
        w.insert(0x10040, PT_PHDR);
        w.insert(0x10040 + 16, 0x40);
        w.insert(0x10040 + 56, PT_DYNAMIC | 6 << 32);
        w.insert(0x10040 + 56 + 16, 0x2000);
        // .dynamic at 0x12000: DT_NEEDED, DT_DEBUG -> r_debug at 0x9000.
        w.insert(0x12000, 1);
        w.insert(0x12008, 5);
        w.insert(0x12010, DT_DEBUG);
        w.insert(0x12018, 0x9000);
        w.insert(0x9008, 0x7000);
        // link_map: program (0x7000) -> libc (0x7100) -> ld.so (0x7200).
        let lm = |w: &mut HashMap<u64, u64>, at: u64, name, next, prev| {
            for (o, v) in [
                (0, at * 2),
                (8, name),
                (16, at + 0x50),
                (24, next),
                (32, prev),
            ] {
                w.insert(at + o, v);
            }
        };
        lm(&mut w, 0x7000, 0x8000, 0x7100, 0);
        lm(&mut w, 0x7100, 0x8100, 0x7200, 0x7000);
        lm(&mut w, 0x7200, 0x8200, 0, 0x7100);
        let strs = HashMap::from([
            (0x8000, vec![]),
            (0x8100, b"/lib/libc.so.6".to_vec()),
            (0x8200, b"/lib/ld-<&\">.so".to_vec()),
        ]);
        let mut m = Mem { words: w, strs };
        let av = auxv(&[(AT_PHDR, 0x10040), (AT_PHENT, 56), (AT_PHNUM, 2), (0, 0)]);
        assert_eq!(
            m.list(&av),
            "<library-list-svr4 version=\"1.0\" main-lm=\"0x7000\">\
             <library name=\"/lib/libc.so.6\" lm=\"0x7100\" l_addr=\"0xe200\" l_ld=\"0x7150\" lmid=\"0x9000\"/>\
             <library name=\"/lib/ld-&lt;&amp;&quot;&gt;.so\" lm=\"0x7200\" l_addr=\"0xe400\" l_ld=\"0x7250\" lmid=\"0x9000\"/>\
             </library-list-svr4>"
        );
        // A chain whose l_prev does not point back stops there.
        m.words.insert(0x7200 + 32, 0x1234);
        assert!(!m.list(&av).contains("ld-"));
        // Before the dynamic linker fills in DT_DEBUG: the empty list.
        m.words.insert(0x12018, 0);
        assert_eq!(m.list(&av), "<library-list-svr4 version=\"1.0\"/>");
        // No auxv (or a static program with no PT_DYNAMIC): empty too.
        assert_eq!(m.list(&[]), "<library-list-svr4 version=\"1.0\"/>");
    }
}
