//! Where pvm's diagnostic lines go (`--strace`, `-d ITEMS`): stderr, or
//! the `-D FILE` log file; and the `out_asm` disassembly of translated
//! host code (iced-x86).

use std::io::Write;
use std::sync::OnceLock;

/// The `-D` file, once opened.
static FILE: OnceLock<std::fs::File> = OnceLock::new();

/// Send log lines to `path` (created or truncated) from now on. A pvm
/// started for a guest's `execve` appends to the same file.
pub fn set_file(path: &std::path::Path, append: bool) -> std::io::Result<()> {
    if !append {
        std::fs::File::create(path)?;
    }
    // Always appending, so the lines of this pvm and of those it starts
    // for the guest's execve all land at the end.
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    let _ = FILE.set(f);
    Ok(())
}

/// Write one line (with its newline) in one write, so lines from several
/// threads never mix.
pub fn line(mut line: String) {
    line.push('\n');
    match FILE.get() {
        Some(mut f) => {
            let _ = f.write_all(line.as_bytes());
        }
        None => {
            let _ = std::io::stderr().lock().write_all(line.as_bytes());
        }
    }
}

/// `out_asm`: `code`, which runs at host address `addr`, in Intel syntax.
pub fn host_code(addr: u64, code: &[u8]) {
    use iced_x86::{Decoder, DecoderOptions, Formatter, Instruction, IntelFormatter};
    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let mut fmt = IntelFormatter::new();
    let mut text = String::new();
    let mut inst = Instruction::default();
    while decoder.can_decode() {
        decoder.decode_out(&mut inst);
        text.clear();
        fmt.format(&inst, &mut text);
        let start = (inst.ip() - addr) as usize;
        let bytes: String = code[start..start + inst.len()]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        line(format!("  {:#x}:  {bytes:<24} {text}", inst.ip()));
    }
}
