//! How the process ends. The one panic hook (any thread, any task) and the signals (SIGHUP,
//! SIGTERM, SIGINT, SIGQUIT) become an [`Exit`] reason that the console loop and `main` wait
//! on ([`requested`]), so every way out takes the same orderly path: the executor's
//! `shutdown` (each action in flight recorded once as outcome unknown), the terminal
//! restored, then the exit code of the reason. The panic message is kept, escaped, for
//! `main` to print after the terminal is restored ([`finish`]), and goes to the log.
//! Also the debug-build fault trigger the exit tests use ([`debug_fault_trigger`]).
//! The hook must not restore the terminal nor print: the UI may still be drawing, and the
//! exit path does both, once.

use std::process::ExitCode;
use std::sync::OnceLock;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

use crate::core::text;

/// A signal that ends the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Hangup,
    Interrupt,
    Quit,
    Terminate,
}

impl Signal {
    /// The signal's number on Linux (and every Unix shipdeck runs on).
    pub fn number(self) -> u8 {
        match self {
            Signal::Hangup => 1,
            Signal::Interrupt => 2,
            Signal::Quit => 3,
            Signal::Terminate => 15,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Hangup => "SIGHUP",
            Signal::Interrupt => "SIGINT",
            Signal::Quit => "SIGQUIT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// Why the process ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `q` / Ctrl-c.
    Quit,
    /// The terminal's input went away (SSH drop without a SIGHUP, stdin closed).
    TerminalLost,
    Signal(Signal),
    /// A panic anywhere (its message: [`panic_message`]).
    Panic,
}

/// Exit code of a panic (as Rust's own).
pub const EXIT_PANIC: u8 = 101;

impl Exit {
    /// The process's exit code: 0 on quit, 128 + the number for a signal (as a shell
    /// reports a process killed by it), 101 for a panic, 1 when the terminal went away.
    pub fn code(self) -> u8 {
        match self {
            Exit::Quit => 0,
            Exit::TerminalLost => 1,
            Exit::Signal(s) => 128 + s.number(),
            Exit::Panic => EXIT_PANIC,
        }
    }
}

static REASON: OnceLock<Exit> = OnceLock::new();
static WAKE: Notify = Notify::const_new();
static PANIC: OnceLock<String> = OnceLock::new();

/// Ask every waiter of [`requested`] to exit; the first reason given wins.
pub fn request(reason: Exit) {
    let _ = REASON.set(reason);
    WAKE.notify_waiters();
}

/// Resolves once an exit was requested (a signal or a panic), with the reason.
pub async fn requested() -> Exit {
    loop {
        let notified = WAKE.notified();
        tokio::pin!(notified);
        // Registered before the check, so a request between the two is not missed.
        notified.as_mut().enable();
        if let Some(reason) = REASON.get() {
            return *reason;
        }
        notified.await;
    }
}

/// The first panic's message, escaped (no raw control characters), if one happened.
pub fn panic_message() -> Option<&'static str> {
    PANIC.get().map(String::as_str)
}

/// A panic's text for stderr and the log: where and what, escaped.
pub fn describe(location: Option<String>, payload: Option<&str>) -> String {
    let what = payload.unwrap_or("(no message)");
    let text = match location {
        Some(at) => format!("panicked at {at}: {what}"),
        None => format!("panicked: {what}"),
    };
    text::escape(&text).into_owned()
}

/// Install the one panic hook: log the panic (escaped, with a backtrace when
/// `RUST_BACKTRACE` asks for one), keep its message, and request [`Exit::Panic`].
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info.location().map(ToString::to_string);
        let text = describe(location, info.payload_as_str());
        let backtrace = std::backtrace::Backtrace::capture();
        tracing::error!("{text}\n{backtrace}");
        let _ = PANIC.set(text);
        request(Exit::Panic);
    }));
}

/// Turn SIGHUP, SIGTERM, SIGINT and SIGQUIT into exit requests (from now on they no longer
/// kill the process on their own). Call once, inside the runtime, before anything starts.
pub fn listen_for_signals() -> std::io::Result<()> {
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            let got = tokio::select! {
                Some(()) = hangup.recv() => Signal::Hangup,
                Some(()) = interrupt.recv() => Signal::Interrupt,
                Some(()) = quit.recv() => Signal::Quit,
                Some(()) = terminate.recv() => Signal::Terminate,
                else => return,
            };
            tracing::info!("{}: exiting", got.name());
            request(Exit::Signal(got));
        }
    });
    Ok(())
}

/// After the runtime is gone and the terminal restored: print the panic's message (escaped)
/// to stderr and exit 101 if there was one, else exit with `code` (101 when the command
/// itself unwound without a message).
pub fn finish(code: Option<ExitCode>) -> ExitCode {
    match panic_message() {
        Some(message) => {
            eprintln!("shipdeck: {message}");
            ExitCode::from(EXIT_PANIC)
        }
        None => code.unwrap_or(ExitCode::from(EXIT_PANIC)),
    }
}

/// The variable that arms the fault trigger in debug builds: `task` or `thread`.
pub const DEBUG_PANIC_VAR: &str = "SHIPDECK_DEBUG_PANIC";

/// The message the fault trigger panics with: hostile on purpose (an escape sequence, a bell,
/// a bidi override), so the exit tests see it printed escaped.
pub const DEBUG_PANIC_MESSAGE: &str = "injected panic \u{1b}[2J\u{7}\u{202e}";

/// Debug builds only: with `SHIPDECK_DEBUG_PANIC=task` (or `thread`), each SIGUSR1 makes a
/// new tokio task (or a new OS thread) panic, so a test can crash a running console on cue.
/// Release builds compile it out and ignore the variable; unset, it does nothing.
pub fn debug_fault_trigger() {
    #[cfg(debug_assertions)]
    {
        let Some(place) = std::env::var_os(DEBUG_PANIC_VAR) else {
            return;
        };
        let in_thread = place == "thread";
        let Ok(mut usr1) = signal(SignalKind::user_defined1()) else {
            return;
        };
        tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                if in_thread {
                    std::thread::spawn(|| panic!("{DEBUG_PANIC_MESSAGE} (thread)"));
                } else {
                    tokio::spawn(async { panic!("{DEBUG_PANIC_MESSAGE} (task)") });
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_shell_convention() {
        assert_eq!(Exit::Quit.code(), 0);
        assert_eq!(Exit::Signal(Signal::Hangup).code(), 129);
        assert_eq!(Exit::Signal(Signal::Interrupt).code(), 130);
        assert_eq!(Exit::Signal(Signal::Quit).code(), 131);
        assert_eq!(Exit::Signal(Signal::Terminate).code(), 143);
        assert_eq!(Exit::Panic.code(), 101);
        assert_eq!(Exit::TerminalLost.code(), 1);
    }

    #[test]
    fn panic_text_is_escaped() {
        let text = describe(Some("src/x.rs:1:2".into()), Some(DEBUG_PANIC_MESSAGE));
        assert_eq!(
            text,
            "panicked at src/x.rs:1:2: injected panic \\x1b[2J\\x07\\u{202e}"
        );
        assert!(!text.chars().any(char::is_control), "{text:?}");
        assert_eq!(
            describe(None, Some("multi\nline")),
            "panicked: multi\\x0aline"
        );
        assert_eq!(describe(None, None), "panicked: (no message)");
    }
}
