//! Checks shared by the channel test files: exactly-once delivery and
//! the uniform choice of ready select cases.
//!
//! Critical values of the chi-square distribution at p = 10^-6 (a check
//! fails when the statistic exceeds them, i.e. a fair select fails it once
//! in a million runs): df 1: 23.928, df 2: 27.631, df 3: 30.665. At
//! p = 0.001 the suite, which runs these checks dozens of times per CI run,
//! failed a fair select about once in a few dozen CI runs (counts [6864,
//! 6431, 6705]: 14.39). A biased choice still fails at once: 5% off over
//! 20,000 trials gives a statistic in the hundreds.

// Each test file uses a part of this module.
#![allow(dead_code)]

use weft_channels::{chan, Receiver};
use weft_runtime::JoinHandle;

const CRITICAL: [f64; 4] = [0.0, 23.928, 27.631, 30.665];

/// Asserts that `counts` (how often each of 2–4 always-ready cases was
/// chosen over `trials` selects) fits a uniform choice.
#[track_caller]
pub fn assert_uniform(what: &str, counts: &[usize], trials: usize) {
    assert_eq!(counts.iter().sum::<usize>(), trials);
    let expected = trials as f64 / counts.len() as f64;
    let x2: f64 = counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum();
    let crit = CRITICAL[counts.len() - 1];
    assert!(
        x2 < crit,
        "{what} is not uniform: counts {counts:?}, chi-square {x2:.2} >= {crit}"
    );
}

/// A closed channel: always ready.
pub fn closed() -> Receiver<u8> {
    let (tx, rx) = chan(0);
    tx.close().unwrap();
    rx
}

/// Checks that `got` holds every value of `0..total` exactly once.
#[track_caller]
pub fn check_exactly_once(got: impl IntoIterator<Item = u64>, total: u64) {
    let mut seen = vec![0u8; total as usize];
    let mut n = 0;
    for v in got {
        assert!(v < total, "value {v} was never sent");
        seen[v as usize] += 1;
        n += 1;
    }
    let dup = seen.iter().position(|&c| c > 1);
    assert_eq!(dup, None, "a value was received twice");
    assert_eq!(n, total, "messages were lost");
}

/// Joins the producers, then gathers what every consumer received.
#[track_caller]
pub fn join_all(producers: Vec<JoinHandle<()>>, consumers: Vec<JoinHandle<Vec<u64>>>) -> Vec<u64> {
    for p in producers {
        p.join().unwrap();
    }
    let mut all = Vec::new();
    for c in consumers {
        all.extend(c.join().unwrap());
    }
    all
}
