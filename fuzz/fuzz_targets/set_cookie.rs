//! Set-Cookie headers parsed and stored in a jar: see `evloop_fuzz::set_cookie`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evloop_fuzz::set_cookie(data));
