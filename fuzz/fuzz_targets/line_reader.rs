//! Lines read by `evloop::io::BufReader`, cut anywhere: see `evloop_fuzz::line_reader`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| evloop_fuzz::line_reader(data));
