//! Diagnostic logging: `tracing` to `<cache dir>/shipdeck.log`, filtered by `SHIPDECK_LOG`
//! (default "info"). Logs go to a file, never to the terminal the console draws on, and each
//! record goes through `core::text` on its way there: a hostile value logged (a cluster's
//! error message, an object name) cannot put escape sequences in the file someone later
//! `cat`s or `tail -f`s, nor forge a second record with a newline. The file is rotated by
//! size (`shipdeck.log` → `shipdeck.log.1` … `.{LOG_KEEP}`), so a shift-long session (or a
//! year of them) holds at most `(LOG_KEEP + 1) × MAX_LOG_BYTES` of logs. Owns only the
//! subscriber set-up; must not log secrets nor be read by the core.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use tracing_subscriber::fmt::MakeWriter;

use crate::core::text;

/// Install the file logger; silently does nothing when there is no cache directory.
pub fn init() {
    let Some(dirs) = directories::ProjectDirs::from("dev", "shipdeck", "shipdeck") else {
        return;
    };
    let dir = dirs.cache_dir();
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let Ok(file) = Rotating::open(dir.join("shipdeck.log"), MAX_LOG_BYTES, LOG_KEEP) else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SHIPDECK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Escaping::new(file))
        .try_init();
}

/// Size at which the log file is rotated.
pub const MAX_LOG_BYTES: u64 = 10 << 20;

/// Rotated files kept besides the current one (`shipdeck.log.1` is the newest).
pub const LOG_KEEP: usize = 3;

/// An append-only file that, once it holds `max` bytes, is renamed to `<path>.1` (older ones
/// moving up to `.keep`, the oldest deleted) and started afresh. A record is never split.
pub struct Rotating {
    path: PathBuf,
    file: Option<File>,
    size: u64,
    max: u64,
    keep: usize,
}

impl Rotating {
    pub fn open(path: PathBuf, max: u64, keep: usize) -> io::Result<Rotating> {
        let file = append(&path)?;
        let size = file.metadata()?.len();
        Ok(Rotating {
            path,
            file: Some(file),
            size,
            max,
            keep,
        })
    }

    /// The name of rotated file `n` (1 is the newest).
    pub fn rotated(path: &Path, n: usize) -> PathBuf {
        let mut name = path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(Self::rotated(&self.path, self.keep));
            for n in (1..self.keep).rev() {
                let from = Self::rotated(&self.path, n);
                if from.exists() {
                    std::fs::rename(&from, Self::rotated(&self.path, n + 1))?;
                }
            }
            std::fs::rename(&self.path, Self::rotated(&self.path, 1))?;
        }
        self.file = Some(append(&self.path)?);
        self.size = 0;
        Ok(())
    }
}

fn append(path: &Path) -> io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

impl Write for Rotating {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > self.max || self.file.is_none() {
            self.rotate()?;
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("log file not open"))?;
        file.write_all(buf)?;
        self.size += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

/// One record as it is written: escaped, one line, the record's own final newline kept.
pub fn escape_record(record: &[u8]) -> String {
    let (body, newline) = match record.strip_suffix(b"\n") {
        Some(body) => (body, "\n"),
        None => (record, ""),
    };
    let body = String::from_utf8_lossy(body);
    format!("{}{newline}", text::escape(&body))
}

/// A writer (any `Write`, the log file in production) behind a lock that escapes each record.
pub struct Escaping<W>(Mutex<W>);

impl<W: Write> Escaping<W> {
    pub fn new(inner: W) -> Self {
        Escaping(Mutex::new(inner))
    }
}

/// The locked writer for one record.
pub struct Record<'a, W>(MutexGuard<'a, W>);

impl<W: Write> Write for Record<'_, W> {
    /// `tracing_subscriber` formats a whole record and hands it over in one `write_all`.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_all(escape_record(buf).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl<'a, W: Write + 'a> MakeWriter<'a> for Escaping<W> {
    type Writer = Record<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        Record(
            self.0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_rotates_at_its_size_and_keeps_log_keep_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shipdeck.log");
        let max = 1000;
        let mut log = Rotating::open(path.clone(), max, LOG_KEEP).unwrap();
        let record = |i: usize| format!("INFO record {i:05} {}\n", "x".repeat(80));
        let each = record(0).len() as u64;
        // Exactly at the bound: no rotation yet.
        let fit = (max / each) as usize;
        for i in 0..fit {
            log.write_all(record(i).as_bytes()).unwrap();
        }
        assert!(!Rotating::rotated(&path, 1).exists());
        assert_eq!(std::fs::metadata(&path).unwrap().len(), fit as u64 * each);
        // Many times the bound: LOG_KEEP rotated files at most, the oldest records gone.
        let total = fit * 20;
        for i in fit..total {
            log.write_all(record(i).as_bytes()).unwrap();
        }
        log.flush().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "shipdeck.log",
                "shipdeck.log.1",
                "shipdeck.log.2",
                "shipdeck.log.3"
            ]
        );
        for name in &names {
            let text = std::fs::read_to_string(dir.path().join(name)).unwrap();
            assert!(text.len() as u64 <= max, "{name}: {}", text.len());
            assert!(text.ends_with('\n') && text.lines().all(|l| l.len() as u64 + 1 == each));
        }
        let newest = std::fs::read_to_string(&path).unwrap();
        assert!(newest.contains(&record(total - 1)));
        let oldest = std::fs::read_to_string(Rotating::rotated(&path, 3)).unwrap();
        assert!(!oldest.contains(&record(0)));
        // Reopened (the next session): appends to the current file and keeps counting it.
        let size = newest.len() as u64;
        let mut again = Rotating::open(path.clone(), max, LOG_KEEP).unwrap();
        again.write_all(b"next\n").unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len == size + 5 || len == 5, "{len}");
    }

    #[test]
    fn records_are_escaped_and_stay_one_line() {
        let record =
            b"WARN list failed: \x1b]0;pwned\x07 line\nforged INFO ok\xc2\x9b\xe2\x80\xae\n";
        let out = escape_record(record);
        assert_eq!(
            out,
            "WARN list failed: \\x1b]0;pwned\\x07 line\\x0aforged INFO ok\\u{9b}\\u{202e}\n"
        );
    }

    #[test]
    fn the_writer_escapes_what_the_subscriber_logs() {
        #[derive(Clone, Default)]
        struct Shared(std::sync::Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let file = Shared::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(Escaping::new(file.clone()))
            .finish();
        let hostile = "evil\u{1b}[2J\u{202e}na\nme";
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(object = hostile, "cannot list {hostile}");
            tracing::info!("second");
        });
        let written = String::from_utf8(file.0.lock().unwrap().clone()).unwrap();
        assert!(
            !written.contains('\u{1b}') && !written.contains('\u{202e}'),
            "{written:?}"
        );
        assert!(
            written.contains("cannot list evil\\x1b[2J\\u{202e}na\\x0ame"),
            "{written}"
        );
        assert_eq!(written.lines().count(), 2, "{written}");
    }
}
