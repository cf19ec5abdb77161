//! A chunked body, decoded whole and split every way: see `evloop_fuzz::chunked_decoder`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evloop_fuzz::chunked_decoder(data));
