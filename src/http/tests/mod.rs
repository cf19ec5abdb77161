//! Unit tests of the protocol layer: one file per module, pure, with exact bytes.
//!
//! The modules they test do no I/O, so neither do these tests: each feeds a byte
//! sequence straight to the parser, encoder or decoder and asserts the exact outcome
//! (the bytes written, the head parsed, the [`Malformed`](crate::http::Malformed) rule
//! that fired). Bodies are fed whole, byte by byte and split at every point, since a
//! connection may deliver them in any pieces; proptests then check that random input
//! never panics and that no split changes the result.
//!
//! | file               | tests                                                    |
//! |--------------------|----------------------------------------------------------|
//! | `url.rs`           | parsing rules, then RFC 3986 §5.4's resolution examples  |
//! | `request.rs`       | encoded request heads, and every refusal                 |
//! | `response.rs`      | heads, limits, 1xx sequences, fuzzing                    |
//! | `framing.rs`       | the body-length decision and connection reuse            |
//! | `decoder.rs`       | `BodyDecoder` on exact bodies, every split               |
//! | `decoder_props.rs` | `BodyDecoder` on random splits and random bytes          |
//!
//! The I/O half (connections, the pool, timeouts, redirects) is tested on a real loop
//! against a scripted server, in `tests/http_*.rs`.

mod decoder;
mod decoder_props;
mod framing;
mod request;
mod response;
mod url;

/// The proptest configuration of these files: proptest's default, or under Miri, which
/// interprets every step (a case that takes a millisecond natively can take seconds there), two
/// cases from a fixed seed: enough for Miri's purpose, undefined behaviour, and the same inputs
/// (and the same time) on every run.
fn proptest_config() -> proptest::prelude::ProptestConfig {
    let default = proptest::prelude::ProptestConfig::default();
    if cfg!(miri) {
        proptest::prelude::ProptestConfig {
            cases: 2,
            rng_seed: proptest::test_runner::RngSeed::Fixed(1),
            ..default
        }
    } else {
        default
    }
}
