//! pyslim-fuzz's target under libFuzzer: the loader, and for a valid spec plan → lower → marshal.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pyslim_fuzz::target::run(data);
});
