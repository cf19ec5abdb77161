//! Resolving a reference against a base URL (RFC 3986 §5): where a redirect's
//! `Location` points.
//!
//! Why it exists: a `Location` header may be absolute (`http://b/x`), network-path
//! (`//b/x`), absolute-path (`/x`) or relative (`x`, `../x`, `?q`), and the client must
//! turn each into the one URL a browser would. Read RFC 3986 §5.2 first: the
//! algorithm below is its §5.2.2 (which parts of the base survive), §5.2.3 (merging a
//! relative path with the base's directory) and §5.2.4 (removing `.` and `..`
//! segments), in that order. §5.4's table of examples is the test suite
//! (`http/tests/url.rs`).
//!
//! [`Url::parse`] removes dot segments too, so that `parse(x)` equals `base.join(x)` for
//! an absolute `x`.

use std::sync::Arc;

use super::{Error, Url, check_characters, parse_path_and_query, split_scheme};

impl Url {
    /// Resolves `reference` (typically a `Location` header) against this URL, as RFC
    /// 3986 §5.2 says: an absolute URL replaces everything, `//host/p` keeps only the
    /// scheme, `/p` keeps the authority, `p` is merged with this path's directory
    /// (§5.2.3) and `?q` replaces only the query. Dot segments are removed (§5.2.4) and
    /// the fragment is dropped. A reference without an authority inherits this URL's
    /// credentials (same origin); one with an authority brings its own or none.
    ///
    /// # Errors
    ///
    /// As [`Url::parse`]. A redirect to `https:` gives [`Error::UnsupportedScheme`];
    /// the redirect layer reports it as [`Error::RedirectNotHttp`].
    pub fn join(&self, reference: &str) -> Result<Url, Error> {
        check_characters(reference)?;
        if split_scheme(reference).is_some() {
            return Url::parse(reference);
        }
        if reference.starts_with("//") {
            return Url::parse(&format!("{}:{reference}", self.0.scheme.as_str()));
        }
        let (path, query) = parse_path_and_query(reference)?;
        let mut target = (*self.0).clone();
        if path.is_empty() {
            // "", "#f" and "?q": same document; only a given query replaces ours.
            if query.is_some() {
                target.query = query.map(Into::into);
            }
        } else {
            let merged = if path.starts_with('/') {
                path
            } else {
                merge(&self.0.path, &path)
            };
            target.path = remove_dot_segments(&merged).into();
            target.query = query.map(Into::into);
        }
        Ok(Url(Arc::new(target)))
    }
}

/// RFC 3986 §5.2.3: a relative path replaces the last segment of the base path.
fn merge(base_path: &str, relative: &str) -> String {
    let directory = base_path.rfind('/').map_or("/", |slash| &base_path[..=slash]);
    format!("{directory}{relative}")
}

/// RFC 3986 §5.2.4, step by step: `.` and `..` segments are removed from an input
/// buffer while complete segments move to the output. An empty result (from an empty
/// path, or `/..`) is `/`: an origin-form target is never empty (RFC 9112 §3.2.1).
pub(crate) fn remove_dot_segments(path: &str) -> String {
    let mut input = path;
    let mut output = String::with_capacity(path.len());
    while !input.is_empty() {
        if let Some(rest) = input.strip_prefix("../").or_else(|| input.strip_prefix("./")) {
            input = rest; // A: a leading relative prefix goes
        } else if input.starts_with("/./") || input == "/." {
            input = if input == "/." { "/" } else { &input[2..] }; // B: "/./" becomes "/"
        } else if input.starts_with("/../") || input == "/.." {
            input = if input == "/.." { "/" } else { &input[3..] }; // C: "/../" pops a segment
            output.truncate(output.rfind('/').unwrap_or(0));
        } else if input == "." || input == ".." {
            input = ""; // D: a lone dot segment goes
        } else {
            // E: move "/segment" (or a first "segment") to the output.
            let start = usize::from(input.starts_with('/'));
            let end = input[start..].find('/').map_or(input.len(), |i| i + start);
            output.push_str(&input[..end]);
            input = &input[end..];
        }
    }
    if output.is_empty() { "/".to_owned() } else { output }
}
