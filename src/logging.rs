//! Diagnostic logging: `tracing` to `<cache dir>/shipdeck.log`, filtered by `SHIPDECK_LOG`
//! (default "info"). Logs go to a file, never to the terminal the console draws on, and each
//! record goes through `core::text` on its way there: a hostile value logged (a cluster's
//! error message, an object name) cannot put escape sequences in the file someone later
//! `cat`s or `tail -f`s, nor forge a second record with a newline. Owns only the subscriber
//! set-up; must not log secrets nor be read by the core.

use std::io::{self, Write};
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
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("shipdeck.log"))
    else {
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
