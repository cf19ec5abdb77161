//! A response head and body, framed and decoded: see `evloop_fuzz::body_framing`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evloop_fuzz::body_framing(data));
