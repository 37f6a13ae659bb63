//! `fpu.softfloat`: the FPU reference vectors against a second
//! implementation. Re-runs `vm-core/src/fpu/testdata/softfloat_gen.py
//! check`, which recomputes every qemu-made vector (`vectors.bin`) with
//! Berkeley SoftFloat and regenerates `softfloat.bin` (which vm-core's fpu
//! tests check pvm against): both must agree with what is committed.
//!
//! SoftFloat comes from PyPI (`softfloatpy`), installed into a virtual
//! environment under `target/`. Without python3's venv or PyPI the case is
//! skipped, naming what is missing.

use crate::util::root;
use std::path::Path;
use std::process::{Command, Stdio};

/// The binding's version the committed vectors were made with.
const SOFTFLOATPY: &str = "softfloatpy==1.2.3.post1";

fn quiet(cmd: &mut Command) -> Result<String, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{} ({})", text.trim_end(), out.status))
    }
}

/// Ok(None) passed, Ok(Some(why)) skipped (a tool is missing), Err failed.
pub fn check() -> Result<Option<String>, String> {
    let venv = root().join("target/softfloat-venv");
    let python = venv.join("bin/python");
    if !python.is_file()
        && let Err(e) = quiet(Command::new("python3").arg("-m").arg("venv").arg(&venv))
    {
        return Ok(Some(format!("no python3 venv for softfloatpy: {e}")));
    }
    let has = |p: &Path| quiet(Command::new(p).args(["-c", "import softfloatpy"])).is_ok();
    if !has(&python)
        && let Err(e) =
            quiet(Command::new(venv.join("bin/pip")).args(["install", "-q", SOFTFLOATPY]))
    {
        return Ok(Some(format!(
            "softfloatpy (PyPI) could not be installed: {e}"
        )));
    }
    let script = root().join("vm-core/src/fpu/testdata/softfloat_gen.py");
    quiet(Command::new(&python).arg(&script).arg("check")).map(|_| None)
}
