//! Parse errors.

/// Why a script could not be parsed.
///
/// `Syntax` is a malformed script; `Unsupported` is a well-formed construct
/// of packetdrill's language that this harness does not implement, so the
/// runner can report the two separately.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The script is malformed.
    #[error("{path}:{line}:{col}: expected {expected}, found {found}")]
    Syntax {
        /// The script's path.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        col: usize,
        /// What the parser wanted there.
        expected: String,
        /// What it found (`` `text` ``, `end of line` or `end of input`).
        found: String,
    },
    /// The script uses a construct this harness does not support.
    #[error("{path}:{line}:{col}: unsupported: {construct}")]
    Unsupported {
        /// The script's path.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column (characters).
        col: usize,
        /// What was found, e.g. `` TCP option `FO` (fast open) ``.
        construct: String,
    },
    /// The script file could not be read.
    #[error("{path}: cannot read script: {message}")]
    Io {
        /// The script's path.
        path: String,
        /// The I/O error, as text.
        message: String,
    },
}

impl ParseError {
    /// The 1-based (line, column) of the error, if it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            ParseError::Syntax { line, col, .. } | ParseError::Unsupported { line, col, .. } => {
                Some((*line, *col))
            }
            ParseError::Io { .. } => None,
        }
    }

    /// True for [`ParseError::Unsupported`].
    pub fn is_unsupported(&self) -> bool {
        matches!(self, ParseError::Unsupported { .. })
    }
}
