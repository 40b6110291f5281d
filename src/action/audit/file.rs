//! The audit log's file on disk: opened append-only with `O_NOFOLLOW` (a symbolic link at
//! the path is refused, never followed), a regular file only, mode 0600, the parent
//! directory fsynced when the file is created, and reopened when the path no longer names
//! the open file (rotated away or removed).

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The open file and the inode it is.
pub(super) struct Opened {
    file: File,
    inode: (u64, u64),
}

impl Opened {
    /// Open `path` for appending, creating it (and its directory) if needed.
    pub(super) fn open(path: &Path) -> io::Result<Opened> {
        if let Some(dir) = parent(path) {
            std::fs::create_dir_all(dir)?;
        }
        let (file, created) = open_nofollow(path)?;
        let meta = file.metadata()?;
        if !meta.is_file() {
            return Err(io::Error::new(
                ErrorKind::InvalidInput,
                "not a regular file: refused",
            ));
        }
        // An existing file keeps its old mode on open: tighten it.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        if created {
            sync_parent(path)?;
        }
        Ok(Opened {
            file,
            inode: (meta.dev(), meta.ino()),
        })
    }

    /// Does `path` still name this file? False once it was rotated away or removed (or a
    /// link was put in its place).
    pub(super) fn is_current(&self, path: &Path) -> bool {
        std::fs::symlink_metadata(path).is_ok_and(|m| (m.dev(), m.ino()) == self.inode)
    }

    /// Append one whole line and fsync it.
    pub(super) fn append(&mut self, line: &[u8]) -> io::Result<()> {
        self.file.write_all(line)?;
        self.file.sync_data()
    }
}

fn parent(path: &Path) -> Option<&Path> {
    path.parent().filter(|d| !d.as_os_str().is_empty())
}

/// Open without following a link at the last component; true when the file was created.
/// `O_NONBLOCK` keeps a FIFO planted at the path from blocking the open (it is then refused
/// as no regular file).
fn open_nofollow(path: &Path) -> io::Result<(File, bool)> {
    let mut options = OpenOptions::new();
    options
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    let created = options.clone().create_new(true).open(path);
    let result = match created {
        Ok(file) => Ok((file, true)),
        Err(e) if e.kind() == ErrorKind::AlreadyExists => options.open(path).map(|f| (f, false)),
        Err(e) => Err(e),
    };
    result.map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            io::Error::new(
                ErrorKind::InvalidInput,
                "is a symbolic link: refused (the audit log must be a regular file; \
                 point audit_log or SHIPDECK_AUDIT_LOG at the file itself)",
            )
        } else {
            e
        }
    })
}

/// Make a newly created file's directory entry durable.
pub(super) fn sync_parent(path: &Path) -> io::Result<()> {
    let dir = parent(path).unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}
