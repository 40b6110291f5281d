//! The terminal: raw mode and the alternate screen on entry, restored on every exit path
//! (normal quit, error, a panic unwinding through the guard, signals — `main` calls `restore`
//! once more at the very end, which is a no-op when already done). Frames go through one buffered writer so a
//! frame is one write. Also maps crossterm keys to the core's `Key`. Must not draw (that is
//! `ui`) nor decide what a key does (that is the core).

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::core::Key;

pub type Backend = CrosstermBackend<BufWriter<Stdout>>;

/// Whether the terminal is in raw mode / the alternate screen, so `restore` writes nothing
/// when it was never entered (snapshot, doctor, errors before the UI started).
static ENTERED: AtomicBool = AtomicBool::new(false);

/// Restores the terminal when dropped.
pub struct TerminalGuard {
    pub terminal: Terminal<Backend>,
}

impl TerminalGuard {
    pub fn enter() -> io::Result<TerminalGuard> {
        terminal::enable_raw_mode()?;
        ENTERED.store(true, Ordering::SeqCst);
        let mut out = io::stdout();
        if let Err(e) = execute!(out, terminal::EnterAlternateScreen, cursor::Hide) {
            restore();
            return Err(e);
        }
        // 256 KiB: a full 250x70 frame with styles fits, so each frame is one write().
        let backend = CrosstermBackend::new(BufWriter::with_capacity(256 * 1024, io::stdout()));
        let terminal = match Terminal::new(backend) {
            Ok(t) => t,
            Err(e) => {
                restore();
                return Err(e);
            }
        };
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = self.terminal.backend_mut().flush();
        restore();
    }
}

/// Leave the alternate screen, show the cursor, leave raw mode. Safe to call twice, and a
/// no-op when the terminal was never entered.
pub fn restore() {
    if !ENTERED.swap(false, Ordering::SeqCst) {
        return;
    }
    let mut out = io::stdout();
    let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
    let _ = terminal::disable_raw_mode();
    let _ = out.flush();
}

/// Standard base64 (RFC 4648, padded), for OSC 52.
fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ABC[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The OSC 52 sequence that puts `text` on the terminal's clipboard: `ESC ] 52 ; c ;
/// <base64> BEL`. `text` is escaped once more (`text::escape`): even a caller that forgot
/// the boundary cannot smuggle control bytes into the clipboard; base64 keeps the sequence
/// itself free of them.
pub fn osc52(text: &str) -> Vec<u8> {
    let clean = crate::core::text::escape(text);
    format!("\x1b]52;c;{}\x07", base64(clean.as_bytes())).into_bytes()
}

/// Write a copy the core asked for, once: `last` is the `seq` already written.
pub fn write_clip(
    out: &mut impl Write,
    clip: Option<&crate::core::copy::Clip>,
    last: &mut u64,
) -> io::Result<()> {
    if let Some(c) = clip
        && c.seq > *last
    {
        *last = c.seq;
        out.write_all(&osc52(&c.text))?;
        out.flush()?;
    }
    Ok(())
}

/// A crossterm key event as a core key; None for releases and keys the console ignores.
pub fn key_of(ev: KeyEvent) -> Option<Key> {
    if ev.kind == KeyEventKind::Release {
        return None;
    }
    if ev.modifiers.contains(KeyModifiers::CONTROL) {
        return match ev.code {
            KeyCode::Char(c) => Some(Key::Ctrl(c.to_ascii_lowercase())),
            _ => None,
        };
    }
    Some(match ev.code {
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Tab => Key::Tab,
        KeyCode::BackTab => Key::BackTab,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::Left => Key::Left,
        KeyCode::Right => Key::Right,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Delete => Key::Delete,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_is_the_exact_clipboard_sequence() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(
            osc52("prod-eu/shop/web"),
            b"\x1b]52;c;cHJvZC1ldS9zaG9wL3dlYg==\x07".to_vec()
        );
        // Control bytes never reach the clipboard: escaped, then encoded.
        assert_eq!(osc52("a\x07b"), b"\x1b]52;c;YVx4MDdi\x07".to_vec());
    }

    #[test]
    fn a_copy_is_written_once() {
        let clip = crate::core::copy::Clip {
            seq: 3,
            text: "kubectl --context a -n shop get rollouts.argoproj.io web".into(),
        };
        let mut out = Vec::new();
        let mut last = 2;
        write_clip(&mut out, Some(&clip), &mut last).unwrap_or_default();
        assert_eq!(out, osc52(&clip.text));
        assert_eq!(last, 3);
        write_clip(&mut out, Some(&clip), &mut last).unwrap_or_default();
        assert_eq!(out, osc52(&clip.text), "written twice");
    }

    #[test]
    fn keys_map_to_core_keys() {
        let k = |code, m| key_of(KeyEvent::new(code, m));
        assert_eq!(
            k(KeyCode::Char('p'), KeyModifiers::NONE),
            Some(Key::Char('p'))
        );
        assert_eq!(
            k(KeyCode::Char('P'), KeyModifiers::SHIFT),
            Some(Key::Char('P'))
        );
        assert_eq!(
            k(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Key::Ctrl('c'))
        );
        assert_eq!(k(KeyCode::Esc, KeyModifiers::NONE), Some(Key::Esc));
        assert_eq!(k(KeyCode::F(1), KeyModifiers::NONE), None);
    }
}
