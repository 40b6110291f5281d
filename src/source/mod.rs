//! Sources: everything that feeds the core with `Msg` values. Each runs on its own task and
//! never touches UI state.

pub mod demo;
pub mod files;
pub mod kube;
pub mod logs;
pub mod prometheus;

/// An error and its causes on one line, outermost first ("error sending request: connection
/// refused"; "client error (SendRequest): connection closed before message completed"): the
/// libraries' own messages stop at the first level.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let part = c.to_string();
        if !s.contains(&part) {
            s.push_str(": ");
            s.push_str(&part);
        }
        cur = c.source();
    }
    s
}
