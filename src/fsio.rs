//! Files in and out, safely (docs/reliability.md).
//!
//! Inputs (plans and the CSV files they import) are regular files of at most
//! [`MAX_INPUT_BYTES`], in UTF-8; a bad byte is reported at its line and
//! column. Every input read is remembered, so that no output of the same
//! run can overwrite it.
//!
//! Outputs are written to a temporary file in the target's own directory,
//! synced, then renamed into place, so a file appears whole or not at all.
//! Only regular files are ever replaced; the target's directory must exist
//! (a typo in a path is an error, not a new directory tree). Temporary files
//! are registered while they exist, and the SIGINT/SIGTERM handler
//! ([`install_signal_handler`]) removes them before the process exits. A set
//! of report files written into one directory ([`write_set`]) is written
//! under an exclusive lock of that directory, so concurrent runs never mix
//! their files.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// The largest plan or CSV file reeplan reads: 64 MiB.
pub const MAX_INPUT_BYTES: u64 = 64 << 20;
/// The most a sweep shard may hold for `merge`: a whole sweep of the most
/// points (1,000,000) at up to 2 KiB a row (world-2030's rows are 558 bytes).
pub const MAX_SHARD_BYTES: u64 = 2 << 30;

/// Files read by this run (plans, CSVs), by identity.
static INPUTS: Mutex<Vec<FileId>> = Mutex::new(Vec::new());
/// Temporary files that exist right now (removed on SIGINT).
static TEMPS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

#[derive(Clone, PartialEq, Eq, Debug)]
enum FileId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[cfg(not(unix))]
    Path(PathBuf),
}

fn file_id(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileId::Inode(m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        std::fs::canonicalize(path).ok().map(FileId::Path)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why an input file cannot be read; the text names the file (and the line
/// and column of a bad byte).
pub fn read_input(path: &Path) -> std::result::Result<String, String> {
    read_input_up_to(path, MAX_INPUT_BYTES)
}

/// [`read_input`] with another size limit (`merge`'s shards, which `sweep`
/// writes up to [`MAX_SHARD_BYTES`]).
pub fn read_input_up_to(path: &Path, max: u64) -> std::result::Result<String, String> {
    let shown = path.display();
    // stat before open: opening a FIFO would block until someone writes.
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{shown}: not a regular file (reeplan reads plans and CSV files only from regular files)"
        ));
    }
    let mut options = File::options();
    options.read(true);
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NONBLOCK, in case the path was swapped for a FIFO since.
        options.custom_flags(0o4000);
    }
    let file = options.open(path).map_err(|e| format!("{shown}: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("{shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!(
            "{shown}: not a regular file (reeplan reads plans and CSV files only from regular files)"
        ));
    }
    if meta.len() > max {
        return Err(too_big(path, meta.len(), max));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // Read at most one byte more than allowed, in case the file grows.
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{shown}: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(too_big(path, bytes.len() as u64, max));
    }
    if let Some(id) = file_id(path) {
        lock(&INPUTS).push(id);
    }
    decode(path, bytes)
}

fn too_big(path: &Path, len: u64, max: u64) -> String {
    format!(
        "{}: {} bytes is larger than the {} MiB reeplan reads",
        path.display(),
        len,
        max >> 20
    )
}

/// UTF-8 text, or where the first byte that is not UTF-8 is.
pub fn decode(path: &Path, bytes: Vec<u8>) -> std::result::Result<String, String> {
    let shown = path.display();
    for (bom, name) in [
        (&[0xFF, 0xFE][..], "UTF-16 (little-endian)"),
        (&[0xFE, 0xFF][..], "UTF-16 (big-endian)"),
    ] {
        if bytes.starts_with(bom) {
            return Err(format!(
                "{shown}:1:1: the file is {name} text (it starts with a byte order mark); save it as UTF-8"
            ));
        }
    }
    match String::from_utf8(bytes) {
        Ok(mut text) => {
            // A UTF-8 byte order mark is allowed and ignored; a space keeps
            // the columns of line 1 where they were.
            if text.starts_with('\u{FEFF}') {
                text.replace_range(0..3, " ");
            }
            Ok(text)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bytes = e.as_bytes();
            // The prefix up to `at` is valid UTF-8 by definition.
            let good = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
            let line = good.matches('\n').count() + 1;
            let line_start = good.rfind('\n').map_or(0, |i| i + 1);
            let col = good[line_start..].chars().count() + 1;
            Err(format!(
                "{shown}:{line}:{col}: invalid UTF-8 (byte 0x{:02X}); plans and CSV files must be UTF-8 text",
                bytes[at]
            ))
        }
    }
}

/// Directories besides a plan's own from which its `[data]` CSV files may
/// be read (`--data-root DIR`).
static DATA_ROOTS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Allow plans to read CSV files below `dir` too (`--data-root DIR`).
pub fn allow_data_root(dir: &Path) -> Result<()> {
    let canonical = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    if !canonical.is_dir() {
        return Err(Error::Usage(format!(
            "--data-root {}: not a directory",
            dir.display()
        )));
    }
    lock(&DATA_ROOTS).push(canonical);
    Ok(())
}

/// The file a `[data]` path of a plan in `plan_dir` names, if the plan may
/// read it: a relative path that stays below the plan's directory (no `..`
/// leading out, no symlink leading out), or below a `--data-root`
/// directory, where absolute paths are allowed too. Nothing outside is
/// opened, so an error cannot reveal another file's content.
pub fn data_path(plan_dir: &Path, rel: &str) -> std::result::Result<PathBuf, String> {
    use std::path::Component;
    let roots = lock(&DATA_ROOTS).clone();
    let hint = "a plan reads CSV files only below its own directory; \
                allow another directory with --data-root DIR";
    if rel.is_empty() {
        return Err("the path is empty".into());
    }
    let given = Path::new(rel);
    let mut depth: i64 = 0;
    let mut escapes = false;
    for c in given.components() {
        match c {
            Component::ParentDir => {
                depth -= 1;
                escapes |= depth < 0;
            }
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    if (given.is_absolute() || given.has_root() || escapes) && roots.is_empty() {
        return Err(if escapes {
            format!("the path leads out of the plan's directory ({hint})")
        } else {
            format!("an absolute path is not allowed ({hint})")
        });
    }
    let dir = if plan_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        plan_dir
    };
    let path = dir.join(given);
    let canonical_dir =
        std::fs::canonicalize(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut allowed = vec![canonical_dir];
    allowed.extend(roots);
    match std::fs::canonicalize(&path) {
        Ok(real) => {
            if allowed.iter().any(|root| real.starts_with(root)) {
                Ok(path)
            } else {
                Err(format!(
                    "the file is outside the plan's directory (through a symbolic link or ..); {hint}"
                ))
            }
        }
        // Not there (or unreadable): the read reports it, inside the allowed
        // directories only.
        Err(_) => {
            let lexical_ok = !given.is_absolute() && !escapes;
            let under_root = allowed.iter().any(|root| path.starts_with(root));
            if lexical_ok || under_root {
                Ok(path)
            } else {
                Err(format!(
                    "the file is outside the allowed directories ({hint})"
                ))
            }
        }
    }
}

/// Whether `path` is a file this run has read as input.
fn is_input(path: &Path) -> bool {
    match file_id(path) {
        Some(id) => lock(&INPUTS).contains(&id),
        None => false,
    }
}

fn output_error(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::Output(format!("cannot write {}: {why}", path.display()))
}

/// Check that `path` may be written as an output of this run: its directory
/// exists, and it is not an input of the run nor anything but a regular file.
pub fn check_target(path: &Path) -> Result<()> {
    if path.file_name().is_none() {
        return Err(output_error(path, "not a file name"));
    }
    let dir = parent(path);
    if !dir.is_dir() {
        return Err(output_error(
            path,
            format!("the directory {} does not exist", dir.display()),
        ));
    }
    check_replaceable(path)
}

fn check_replaceable(path: &Path) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => Err(output_error(
            path,
            "it exists and is not a regular file (reeplan only replaces regular files)",
        )),
        Ok(_) if is_input(path) => Err(output_error(
            path,
            "it is an input of this run (the plan or one of its CSV files)",
        )),
        _ => Ok(()),
    }
}

fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A registered temporary file: removed when dropped unless kept.
struct Temp {
    path: PathBuf,
    file: Option<File>,
    /// Its entry in the signal handler's list, if there was room.
    slot: Option<usize>,
}

impl Temp {
    fn new(dir: &Path, name: &str, suffix: &str) -> std::io::Result<Temp> {
        let (file, path) = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(suffix)
            .tempfile_in(dir)?
            .keep()
            .map_err(|e| e.error)?;
        lock(&TEMPS).push(path.clone());
        let slot = signal_slot(&path);
        Ok(Temp {
            path,
            file: Some(file),
            slot,
        })
    }

    /// Write, make it an ordinary readable file, sync.
    fn fill(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let Some(file) = self.file.as_mut() else {
            return Ok(());
        };
        file.write_all(bytes)?;
        ordinary_mode(file)?;
        file.sync_all()
    }

    fn persist(mut self, target: &Path) -> std::io::Result<()> {
        self.file = None;
        std::fs::rename(&self.path, target)?;
        unregister(&self.path, self.slot.take());
        Ok(())
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
        unregister(&self.path, self.slot.take());
    }
}

fn unregister(path: &Path, slot: Option<usize>) {
    if let Some(i) = slot {
        signals::release(i);
    }
    lock(&TEMPS).retain(|p| p != path);
}

fn signal_slot(path: &Path) -> Option<usize> {
    signals::register(path)
}

/// tempfile makes files only the owner may read; a report is an ordinary
/// file (mode 0644 less the umask).
fn ordinary_mode(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mask = current_umask();
        file.set_permissions(std::fs::Permissions::from_mode(0o644 & !mask))?;
    }
    let _ = file;
    Ok(())
}

#[cfg(unix)]
fn current_umask() -> u32 {
    // Read from /proc where available; otherwise assume 022.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Umask:"))
                .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
        })
        .unwrap_or(0o022)
}

/// Write one file atomically where its path says (its directory must exist).
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    check_target(path)?;
    let dir = parent(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = Temp::new(&dir, &name, ".tmp").map_err(|e| output_error(path, e))?;
    tmp.fill(bytes).map_err(|e| output_error(path, e))?;
    tmp.persist(path).map_err(|e| output_error(path, e))
}

/// Write a file through a writer that only takes a path (HiGHS): `write`
/// writes a temporary file whose name ends in `suffix` (the extension the
/// writer reads the format from); `complete` checks the bytes written are
/// whole (a writer that does not report a full disk leaves a short file);
/// then it is synced and renamed into place.
pub fn write_through(
    path: &Path,
    suffix: &str,
    write: impl FnOnce(&Path) -> Result<()>,
    complete: impl FnOnce(&[u8]) -> bool,
) -> Result<()> {
    check_target(path)?;
    let dir = parent(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = Temp::new(&dir, &name, suffix).map_err(|e| output_error(path, e))?;
    write(&tmp.path)?;
    let written = std::fs::read(&tmp.path).map_err(|e| output_error(path, e))?;
    if !complete(&written) {
        return Err(output_error(
            path,
            "the file came out incomplete (is the disk full?)",
        ));
    }
    let file = File::options()
        .append(true)
        .open(&tmp.path)
        .map_err(|e| output_error(path, e))?;
    ordinary_mode(&file).map_err(|e| output_error(path, e))?;
    file.sync_all().map_err(|e| output_error(path, e))?;
    drop(file);
    tmp.persist(path).map_err(|e| output_error(path, e))
}

/// Write a set of files into `dir` (created if missing, but not its parent)
/// so that no reader sees a half-written file and the set comes from one
/// run: every file is written to a temporary name first, and the directory
/// is locked (flock) while they are renamed into place. Leftover temporary
/// files of an earlier run that was killed are removed under the lock.
pub fn write_set(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) if dir.is_dir() => {}
        Ok(_) => {
            return Err(Error::Output(format!(
                "cannot write into {}: it exists and is not a directory",
                dir.display()
            )))
        }
        Err(_) => {
            let up = parent(dir);
            if !up.is_dir() {
                return Err(Error::Output(format!(
                    "cannot create {}: the directory {} does not exist",
                    dir.display(),
                    up.display()
                )));
            }
            match std::fs::create_dir(dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(Error::Output(format!(
                        "cannot create {}: {e}",
                        dir.display()
                    )))
                }
            }
        }
    }
    for (name, _) in files {
        check_replaceable(&dir.join(name))?;
    }
    let mut temps = Vec::new();
    for (name, bytes) in files {
        let target = dir.join(name);
        let mut tmp = Temp::new(dir, name, ".tmp").map_err(|e| output_error(&target, e))?;
        tmp.fill(bytes).map_err(|e| output_error(&target, e))?;
        temps.push((tmp, target));
    }
    let lock_file = File::open(dir).map_err(|e| output_error(dir, e))?;
    lock_file.lock().map_err(|e| output_error(dir, e))?;
    remove_stale_temps(dir, files, &temps);
    let mut written = Vec::new();
    for (tmp, target) in temps {
        tmp.persist(&target).map_err(|e| output_error(&target, e))?;
        written.push(target);
    }
    // Sync the directory so the renames are on disk too (best effort).
    let _ = lock_file.sync_all();
    drop(lock_file);
    Ok(written)
}

/// `.NAME.XXXXXX.tmp` files of the names being written, other than ours:
/// leftovers of a run killed with SIGKILL (a live run holds the lock while
/// its temporary files exist only before it takes the lock, so a leftover
/// may also be a concurrent run's file not yet renamed; that run then fails
/// to rename and reports it, so only remove files older than a minute).
fn remove_stale_temps(dir: &Path, files: &[(String, Vec<u8>)], ours: &[(Temp, PathBuf)]) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = std::time::SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale_name = name.ends_with(".tmp")
            && files
                .iter()
                .any(|(f, _)| name.starts_with(&format!(".{f}.")));
        if !stale_name || ours.iter().any(|(t, _)| t.path == entry.path()) {
            continue;
        }
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .is_some_and(|age| age.as_secs() >= 60);
        if old {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Remove every temporary file of this process (from the signal handler).
pub fn remove_temps() {
    let paths = std::mem::take(&mut *lock(&TEMPS));
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

/// On SIGINT, SIGTERM or SIGHUP: remove the temporary files, then exit with
/// 130 (interrupted). Installed once by the command line.
pub fn install_signal_handler() {
    signals::install();
}

/// The signal handler may only do async-signal-safe things: it walks a
/// fixed table of C strings (the temporary files' paths, leaked so that no
/// thread can free one under it), `unlink`s them and `_exit`s.
#[cfg(unix)]
mod signals {
    use std::ffi::{c_char, c_int, c_void, CString};
    use std::path::Path;
    use std::sync::atomic::{AtomicPtr, Ordering};

    const SLOTS: usize = 256;
    static PATHS: [AtomicPtr<c_char>; SLOTS] =
        [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

    extern "C" {
        fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
        fn unlink(path: *const c_char) -> c_int;
        fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
        fn _exit(status: c_int) -> !;
    }

    const SIGHUP: c_int = 1;
    const SIGINT: c_int = 2;
    const SIGTERM: c_int = 15;

    extern "C" fn on_signal(_: c_int) {
        for slot in &PATHS {
            let p = slot.load(Ordering::SeqCst);
            if !p.is_null() {
                // SAFETY: a leaked, NUL-terminated C string; unlink is
                // async-signal-safe.
                unsafe { unlink(p) };
            }
        }
        let msg = b"interrupted\n";
        // SAFETY: write(2) and _exit(2) are async-signal-safe.
        unsafe {
            write(2, msg.as_ptr().cast(), msg.len());
            _exit(130)
        }
    }

    pub fn install() {
        for sig in [SIGINT, SIGTERM, SIGHUP] {
            // SAFETY: installs a handler that only calls async-signal-safe
            // functions.
            unsafe { signal(sig, on_signal) };
        }
    }

    pub fn register(path: &Path) -> Option<usize> {
        use std::os::unix::ffi::OsStrExt;
        let c = CString::new(path.as_os_str().as_bytes()).ok()?;
        let p = c.into_raw();
        for (i, slot) in PATHS.iter().enumerate() {
            if slot
                .compare_exchange(std::ptr::null_mut(), p, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return Some(i);
            }
        }
        // No room: the file is still removed on normal exits and errors.
        // SAFETY: `p` came from `into_raw` above and was never shared.
        drop(unsafe { CString::from_raw(p) });
        None
    }

    /// The string is leaked: the handler may be reading it right now.
    pub fn release(i: usize) {
        PATHS[i].store(std::ptr::null_mut(), Ordering::SeqCst);
    }
}

#[cfg(not(unix))]
mod signals {
    pub fn install() {}
    pub fn register(_: &std::path::Path) -> Option<usize> {
        None
    }
    pub fn release(_: usize) {}
}

/// Write to standard output. A closed pipe (`reeplan … | head`) ends the
/// program quietly with exit code 0; any other failure is an error.
pub fn print(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            remove_temps();
            std::process::exit(0)
        }
        Err(e) => Err(Error::Output(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_files_are_registered_until_renamed_and_removed_on_signal() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let mut tmp = Temp::new(dir.path(), "r.txt", ".tmp").unwrap_or_else(|e| panic!("{e}"));
        tmp.fill(b"x").unwrap_or_else(|e| panic!("{e}"));
        let path = tmp.path.clone();
        assert!(lock(&TEMPS).contains(&path));
        std::mem::forget(tmp); // as if the process were interrupted here
        remove_temps(); // what the signal handler does
        assert!(!path.exists());
        assert!(!lock(&TEMPS).contains(&path));
        // A renamed file is no longer registered, and stays.
        write_file(&dir.path().join("r.txt"), b"y").unwrap_or_else(|e| panic!("{e}"));
        remove_temps();
        assert!(dir.path().join("r.txt").exists());
    }

    #[test]
    fn bad_bytes_are_located_by_line_and_column() {
        let p = Path::new("p.toml");
        assert_eq!(
            decode(p, b"ab\ncd\xFFe".to_vec()),
            Err(
                "p.toml:2:3: invalid UTF-8 (byte 0xFF); plans and CSV files must be UTF-8 text"
                    .into()
            )
        );
        // Columns count characters, not bytes.
        assert!(decode(
            p,
            "é\u{80}\n"
                .as_bytes()
                .iter()
                .copied()
                .chain([0xC0])
                .collect()
        )
        .is_err_and(|e| e.starts_with("p.toml:2:1:")));
        assert_eq!(
            decode(p, b"\xEF\xBB\xBFa = 1".to_vec()),
            Ok(" a = 1".into())
        );
        assert!(
            decode(p, vec![0xFE, 0xFF, 0, b'a']).is_err_and(|e| e.contains("UTF-16 (big-endian)"))
        );
    }

    #[test]
    fn data_paths_stay_below_the_plan() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert!(data_path(dir.path(), "a/b.csv").is_ok());
        assert!(data_path(dir.path(), "a/../b.csv").is_ok());
        assert!(data_path(dir.path(), "../b.csv").is_err());
        assert!(data_path(dir.path(), "a/../../b.csv").is_err());
        assert!(data_path(dir.path(), "/etc/passwd").is_err());
        assert!(data_path(dir.path(), "").is_err());
    }
}
