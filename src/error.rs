//! Diagnostics: every problem found in a plan is reported as `file:line:col: message`.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One source file (a plan, or a CSV it imports) kept so byte offsets can be
/// turned into line and column numbers when an error is printed.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: String) -> Arc<Self> {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Arc::new(SourceFile {
            path: path.into(),
            text,
            line_starts,
        })
    }

    /// 1-based line and column (counted in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }
}

/// Where a value came from: a byte range in one source file.
#[derive(Clone, Debug)]
pub struct Span {
    pub file: Arc<SourceFile>,
    pub range: Range<usize>,
}

impl Span {
    pub fn new(file: &Arc<SourceFile>, range: Range<usize>) -> Self {
        Span {
            file: Arc::clone(file),
            range,
        }
    }

    pub fn location(&self) -> String {
        let (line, col) = self.file.line_col(self.range.start);
        let path = display_path(&self.file.path);
        if path.starts_with("--set ") {
            // A value typed on the command line: one line, point at the column.
            return format!("{path} (column {col})");
        }
        format!("{}:{}:{}", path, line, col)
    }
}

fn display_path(path: &Path) -> String {
    path.display().to_string()
}

/// One problem with a plan, located where possible.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub span: Option<Span>,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.span {
            Some(span) => write!(f, "{}: {}", span.location(), self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

/// Everything that can stop a command before or after the solver runs.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The plan (or a file it imports) is invalid; one diagnostic per problem.
    #[error("{}", format_diagnostics(.0))]
    Plan(Vec<Diagnostic>),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
    #[error("solver failure: {0}")]
    Solver(String),
    /// A report, chart, model file or standard output could not be written
    /// (exit code 1, like any other I/O error).
    #[error("{0}")]
    Output(String),
    /// An input other than the plan (e.g. a shard given to `merge`) is
    /// missing, unreadable or malformed (exit code 1).
    #[error("{0}")]
    Input(String),
}

/// Characters that must not reach a terminal or a document raw: control
/// characters (ESC, NUL, BEL, line breaks) and the invisible Unicode
/// controls that reorder or break displayed text (bidirectional overrides
/// and isolates, the line and paragraph separators).
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{2028}' | '\u{2029}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// What an error says of a string holding an [`is_unsafe_char`].
pub const UNSAFE_CHARS: &str =
    "control characters (such as ESC, NUL, a tab or a line break) are not allowed";

/// `text` with every [`is_unsafe_char`] written as `\u{..}`.
pub fn escape_controls(text: &str) -> String {
    if !text.chars().any(is_unsafe_char) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if is_unsafe_char(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn format_diagnostics(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&d.to_string());
    }
    out
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
