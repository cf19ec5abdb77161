//! A response head as a server sends it, 1xx heads included: see `evloop_fuzz::response_head`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evloop_fuzz::response_head(data));
