//! Chunk extensions, byte states against recursive descent: see `evloop_fuzz::chunk_extension`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evloop_fuzz::chunk_extension(data));
