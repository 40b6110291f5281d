//! The YAML view (`o`, issue 12 item 6): the selected release's object, fetched on open
//! (`Effect::FetchObject`, a GET), shown as YAML with `metadata.managedFields` dropped, every
//! line through the sanitising boundary (`core::text`), scrollable and searchable (`/`,
//! `n`/`N`). Pure: the JSON arrives in `Msg::Object`, and is turned into lines here.

use serde_json::Value;
use tui_input::InputRequest;

use super::effect::Effect;
use super::keys::{Command, Context};
use super::kinds;
use super::msg::Key;
use super::state::{Screen, State, YamlView};
use super::text::Untrusted;

/// Open the YAML view of the selected release and ask for its object.
pub fn open(state: &mut State) -> Vec<Effect> {
    let Some(r) = state.selected_release() else {
        state.dirty = false;
        return Vec::new();
    };
    let resource = kinds::request::resource(r.key.kind.kind(), None);
    let view = YamlView {
        title: format!(
            "{} {}/{} on {}",
            r.key.kind.name(),
            r.key.namespace,
            r.key.name,
            r.key.cluster
        ),
        cluster: r.key.cluster.clone(),
        resource: resource.clone(),
        namespace: r.key.namespace.clone(),
        name: r.key.name.clone(),
        lines: None,
        offset: 0,
        query: Default::default(),
        searching: false,
    };
    let effect = Effect::FetchObject {
        cluster: view.cluster.clone(),
        resource,
        namespace: view.namespace.clone(),
        name: view.name.clone(),
    };
    state.view.yaml = Some(view);
    if state.view.screen != Screen::Yaml {
        state.view.previous = state.view.screen;
        state.view.screen = Screen::Yaml;
    }
    vec![effect]
}

/// The GET's answer: shown if it is for the open view.
pub fn on_object(
    state: &mut State,
    cluster: &str,
    namespace: &str,
    name: &str,
    result: Result<Value, String>,
) {
    let Some(y) = state.view.yaml.as_mut() else {
        return;
    };
    if y.cluster != cluster || y.namespace != namespace || y.name != name {
        return;
    }
    y.lines = Some(result.map(|mut v| {
        if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
        }
        to_yaml(&v)
    }));
    state.dirty = true;
}

/// Lines that match the search (case-insensitive), in order.
pub fn matches(y: &YamlView) -> Vec<usize> {
    let q = y.query.value().to_lowercase();
    if q.is_empty() {
        return Vec::new();
    }
    match &y.lines {
        Some(Ok(lines)) => lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.raw().to_lowercase().contains(&q))
            .map(|(i, _)| i)
            .collect(),
        _ => Vec::new(),
    }
}

/// Rows of YAML on screen (the screen minus header, title and footer).
pub fn page(state: &State) -> usize {
    usize::from(state.view.height).saturating_sub(5).max(1)
}

pub fn on_key(state: &mut State, ctx: Context, key: Key, cmd: Option<Command>) -> Vec<Effect> {
    let page = page(state);
    let Some(y) = state.view.yaml.as_mut() else {
        super::input::back(state);
        return Vec::new();
    };
    let len = match &y.lines {
        Some(Ok(l)) => l.len(),
        _ => 0,
    };
    let last = len.saturating_sub(page);
    if ctx == Context::YamlSearch {
        match cmd {
            Some(Command::KeepFilter) => {
                y.searching = false;
                if let Some(first) = matches(y).into_iter().find(|i| *i >= y.offset) {
                    y.offset = first.min(last);
                }
            }
            Some(Command::ClearFilter) => {
                y.searching = false;
                y.query.reset();
            }
            _ => {
                let req = match key {
                    Key::Char(c) => InputRequest::InsertChar(c),
                    Key::Backspace => InputRequest::DeletePrevChar,
                    Key::Left => InputRequest::GoToPrevChar,
                    Key::Right => InputRequest::GoToNextChar,
                    _ => return Vec::new(),
                };
                y.query.handle(req);
            }
        }
        return Vec::new();
    }
    let at = y.offset.min(last);
    y.offset = match cmd {
        Some(Command::Back) => {
            state.view.yaml = None;
            super::input::back(state);
            return Vec::new();
        }
        Some(Command::Down) => (at + 1).min(last),
        Some(Command::Up) => at.saturating_sub(1),
        Some(Command::PageDown) => (at + page).min(last),
        Some(Command::PageUp) => at.saturating_sub(page),
        Some(Command::First) => 0,
        Some(Command::Last) => last,
        Some(Command::Filter) => {
            y.searching = true;
            y.query.reset();
            at
        }
        Some(Command::NextMatch) => {
            let m = matches(y);
            m.iter()
                .copied()
                .find(|i| *i > at)
                .or(m.first().copied())
                .unwrap_or(at)
                .min(last.max(at))
        }
        Some(Command::PrevMatch) => {
            let m = matches(y);
            m.iter()
                .rev()
                .copied()
                .find(|i| *i < at)
                .or(m.last().copied())
                .unwrap_or(at)
        }
        _ => {
            state.dirty = false;
            at
        }
    };
    Vec::new()
}

/// JSON as block YAML, one `Untrusted` per line (strings quoted when YAML would read them
/// otherwise; multi-line strings as literal blocks).
pub fn to_yaml(v: &Value) -> Vec<Untrusted> {
    let mut out = Vec::new();
    node(&mut out, v, 0);
    out.into_iter().map(Untrusted::new).collect()
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s),
        Value::Array(a) if a.is_empty() => "[]".into(),
        Value::Object(_) => "{}".into(),
        Value::Array(_) => String::new(),
    }
}

fn string(s: &str) -> String {
    let plain = !s.is_empty()
        && !s.starts_with(|c: char| {
            c.is_whitespace() || "-?:,[]{}#&*!|>'\"%@`".contains(c) || c.is_ascii_digit()
        })
        && !s.ends_with(char::is_whitespace)
        && !s.contains(": ")
        && !s.contains(" #")
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "~"
        );
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn is_block(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => s.contains('\n'),
        _ => false,
    }
}

fn node(out: &mut Vec<String>, v: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        Value::Object(m) if !m.is_empty() => {
            for (k, val) in m {
                let key = string(k);
                match val {
                    Value::String(s) if s.contains('\n') => {
                        out.push(format!("{pad}{key}: |"));
                        for l in s.lines() {
                            out.push(format!("{pad}  {l}"));
                        }
                    }
                    Value::Array(_) if is_block(val) => {
                        out.push(format!("{pad}{key}:"));
                        node(out, val, indent);
                    }
                    _ if is_block(val) => {
                        out.push(format!("{pad}{key}:"));
                        node(out, val, indent + 2);
                    }
                    _ => out.push(format!("{pad}{key}: {}", scalar(val))),
                }
            }
        }
        Value::Array(a) if !a.is_empty() => {
            for item in a {
                if is_block(item) && !matches!(item, Value::String(_)) {
                    let mut inner = Vec::new();
                    node(&mut inner, item, indent + 2);
                    for (i, l) in inner.into_iter().enumerate() {
                        if i == 0 {
                            out.push(format!("{pad}- {}", l.trim_start()));
                        } else {
                            out.push(l);
                        }
                    }
                } else if let Value::String(s) = item
                    && s.contains('\n')
                {
                    out.push(format!("{pad}- |"));
                    for l in s.lines() {
                        out.push(format!("{pad}  {l}"));
                    }
                } else {
                    out.push(format!("{pad}- {}", scalar(item)));
                }
            }
        }
        _ => out.push(format!("{pad}{}", scalar(v))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(v: &Value) -> String {
        to_yaml(v)
            .iter()
            .map(|l| l.raw().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn json_becomes_block_yaml() {
        let v = json!({
            "kind": "Rollout",
            "metadata": {"name": "web", "labels": {"app": "web"}},
            "spec": {"replicas": 3, "paused": false, "containers": [
                {"name": "web", "image": "web:1", "args": ["--port", "8080"]}
            ], "empty": [], "none": null, "version": "1.0", "yes": "true"},
            "note": "two\nlines"
        });
        assert_eq!(
            text(&v),
            [
                "kind: Rollout",
                "metadata:",
                "  labels:",
                "    app: web",
                "  name: web",
                "note: |",
                "  two",
                "  lines",
                "spec:",
                "  containers:",
                "  - args:",
                "    - \"--port\"",
                "    - \"8080\"",
                "    image: web:1",
                "    name: web",
                "  empty: []",
                "  none: null",
                "  paused: false",
                "  replicas: 3",
                "  version: \"1.0\"",
                "  \"yes\": \"true\"",
            ]
            .join("\n")
        );
    }
}
