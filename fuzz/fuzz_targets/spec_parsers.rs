//! Fuzzes the text parsers of the command line, on the same text each: `--lr` ([`Schedule`]'s
//! `FromStr`), `--augment` ([`Augment`]'s `FromStr`) and `--layers`.
//!
//! `--layers` is split and its numbers read by clap (`value_delimiter = ','`, `usize`), as
//! mirrored here; what the library does with the list is the real code: [`check_sizes`], and
//! [`check_memory`] with the machine size of a laptop.
//!
//! Invariants: what parses writes itself back (`Display`) as text that parses to the same value;
//! a schedule's rates are finite and not negative; a network that passes the checks has a size that
//! fits in 64 bits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ziffer::augment::Augment;
use ziffer::nn::network::check_sizes;
use ziffer::schedule::Schedule;
use ziffer::settings::{check_memory, training_bytes};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(schedule) = text.parse::<Schedule>() {
        let written = schedule.to_string();
        let again: Schedule = written
            .parse()
            .unwrap_or_else(|e| panic!("{text:?} parsed, but its form {written:?} does not: {e}"));
        assert_eq!(again, schedule, "{text:?} -> {written:?}");
        let last = schedule.total_epochs().unwrap_or(100).min(10_000);
        for epoch in [0, 1, last / 2, last.saturating_sub(1), last, last + 1] {
            let lr = schedule.lr_at(epoch);
            assert!(lr.is_finite() && lr >= 0.0, "{text:?} epoch {epoch}: {lr}");
        }
    }
    if let Ok(augment) = text.parse::<Augment>() {
        let written = augment.to_string();
        let again: Augment = written
            .parse()
            .unwrap_or_else(|e| panic!("{text:?} parsed, but its form {written:?} does not: {e}"));
        assert_eq!(again, augment, "{text:?} -> {written:?}");
    }
    let layers: Result<Vec<usize>, _> = text.split(',').map(str::parse::<usize>).collect();
    if let Ok(sizes) = layers {
        if check_sizes(&sizes).is_ok() && check_memory(&sizes, Some(16 << 30)).is_ok() {
            let bytes = training_bytes(&sizes).expect("checked to fit");
            assert!(bytes <= 16 << 30);
        }
    }
});
