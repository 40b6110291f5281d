//! What can go wrong talking to Prometheus. Messages name the URL or file, never a token.

#[derive(Debug, thiserror::Error)]
pub enum PromError {
    #[error("bearer token file {path}: {message}")]
    Token { path: String, message: String },
    #[error("CA file {path}: {message}")]
    Ca { path: String, message: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("Prometheus at {url} is unreachable: {message}")]
    Unreachable { url: String, message: String },
    #[error("Prometheus at {url} did not answer within {seconds}s")]
    Timeout { url: String, seconds: u64 },
    #[error("Prometheus answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    #[error("Prometheus query failed (HTTP {status}, {error_type}): {message}")]
    Query {
        status: u16,
        error_type: String,
        message: String,
    },
    #[error("unexpected answer from Prometheus: {0}")]
    Decode(String),
}

impl PromError {
    /// The server could not be reached at all: the same would happen to every other query
    /// in this round, so the round stops asking.
    pub fn is_transport(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Timeout { .. })
    }
}
