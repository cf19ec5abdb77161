//! URLs parsed, shown and joined: see `evloop_fuzz::url`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evloop_fuzz::url(data));
