//! Helpers shared by the seed examples: printing times, durations, slices
//! and maps the way Go's `fmt` and `log` do, and Go's exit on a panic.
//! Not an example itself (Cargo only builds `examples/*.rs` and
//! `examples/*/main.rs`).

#![allow(dead_code)] // each example uses only some of these

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

static START: OnceLock<Instant> = OnceLock::new();

/// Marks the start of the program: Go's monotonic clock readings
/// (`m=+0.504344617`) count from process start.
pub fn mark_start() {
    START.get_or_init(Instant::now);
}

/// Go's `Time.String()` for an instant: the wall-clock time (in UTC: the
/// examples do not read the local time zone) followed by the monotonic
/// reading, e.g. `2019-10-23 05:05:26.605803 +0000 UTC m=+0.504344617`.
pub fn time_string(t: Instant) -> String {
    let start = *START.get_or_init(Instant::now);
    let now_wall = SystemTime::now();
    let now = Instant::now();
    let wall = match now.checked_duration_since(t) {
        Some(ago) => now_wall - ago,
        None => now_wall + t.duration_since(now),
    };
    let since_epoch = wall.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since_epoch.as_secs() as i64;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, sod % 3600 / 60, sod % 60);
    // Go's ".999999999": the fraction without trailing zeros, or nothing.
    let mut frac = format!(".{:09}", since_epoch.subsec_nanos());
    while frac.ends_with('0') {
        frac.pop();
    }
    if frac == "." {
        frac.clear();
    }
    let m = t.saturating_duration_since(start).as_secs_f64();
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02}:{s:02}{frac} +0000 UTC m=+{m:.9}")
}

/// Go's `Time.Second()` for an instant: the second within the minute
/// (0..=59) of its wall-clock time.
pub fn wall_second(t: Instant) -> u64 {
    let now_wall = SystemTime::now();
    let now = Instant::now();
    let wall = match now.checked_duration_since(t) {
        Some(ago) => now_wall - ago,
        None => now_wall + t.duration_since(now),
    };
    wall.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        % 60
}

/// Go's `Duration.String()` (`1.847s`, `59ms`, `0s`).
pub fn duration_string(d: Duration) -> String {
    if d.is_zero() {
        "0s".to_string()
    } else {
        format!("{d:?}")
    }
}

/// Go's `rand.Intn(n)`: a random integer in `0..n`.
pub fn rand_intn(n: u64) -> u64 {
    use std::hash::{BuildHasher, RandomState};
    // Each RandomState has fresh keys: hashing anything gives a random u64.
    RandomState::new().hash_one(0u8) % n
}

/// Go's `fmt.Println` of a slice: `[1 2 3]`.
pub fn fmt_slice<T: std::fmt::Display>(v: &[T]) -> String {
    let items: Vec<String> = v.iter().map(ToString::to_string).collect();
    format!("[{}]", items.join(" "))
}

/// Go's `fmt.Println` of a map (keys sorted, as Go prints them):
/// `map[a:1 b:2]`.
pub fn fmt_map<K: std::fmt::Display, V: std::fmt::Display>(
    m: &std::collections::BTreeMap<K, V>,
) -> String {
    let items: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("map[{}]", items.join(" "))
}

/// Go's `log` with `log.Ltime | log.LUTC` flags: `15:04:05 msg` on stdout.
pub fn log_time(msg: &str) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let sod = secs % 86_400;
    println!(
        "{:02}:{:02}:{:02} {msg}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
}

/// Go's `defer f()`: runs `f` when the returned guard is dropped, at the
/// end of the enclosing scope (guards drop in reverse order, as Go runs
/// its deferred calls), also when the scope is left by a panic.
///
/// `let _done = common::defer(|| wg.done());` is `defer wg.Done()`.
pub fn defer<F: FnOnce()>(f: F) -> Defer<F> {
    Defer(Some(f))
}

/// The guard [`defer`] returns.
pub struct Defer<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for Defer<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// A program whose point is a panic exits as Go's does: a panicking
/// goroutine ends the process with status 2 after the report.
pub fn panics_exit_like_go() {
    weft::Config::new()
        .panic_abort(true)
        .install()
        .expect("configure the runtime before it starts");
}

/// Days since 1970-01-01 to (year, month, day) (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}
