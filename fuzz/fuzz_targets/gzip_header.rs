//! The gzip header parser, whole and cut anywhere: see `evloop_fuzz::gzip_header`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evloop_fuzz::gzip_header(data));
