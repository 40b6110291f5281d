//! Diagnostic logging: `tracing` to `<cache dir>/shipdeck.log`, filtered by `SHIPDECK_LOG`
//! (default "info"). Logs go to a file, never to the terminal the console draws on. Owns
//! only the subscriber set-up; must not log secrets nor be read by the core.

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
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}
