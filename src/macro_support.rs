//! What `#[weft::main]` and `#[weft::test]` expand to: applying their
//! `maxprocs` and `spawn` arguments to the runtime. Not a public API.
//!
//! Owns: the record of the spawn policy the runtime was started with by
//! these macros, so that a later `#[weft::test]` in the same process (the
//! tests of one binary share one runtime) can tell whether its request is
//! met.
//!
//! Must never: silently run a test under a spawn policy other than the one
//! it asked for.

use std::sync::Mutex;

use weft_runtime::{Config, ConfigError, SpawnPolicy};

/// The spawn policy the runtime runs with, when these macros started it.
static STARTED: Mutex<Option<SpawnPolicy>> = Mutex::new(None);

/// The policy a runtime started without an explicit one runs with.
fn env_policy() -> SpawnPolicy {
    std::env::var("WEFT_SPAWN")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_default()
}

/// Applies the attribute's arguments: installs them if the runtime has not
/// started; otherwise sets `maxprocs` process-wide and checks the spawn
/// policy.
#[track_caller]
pub fn configure(maxprocs: Option<usize>, spawn: Option<SpawnPolicy>, attr: &str) {
    if maxprocs.is_none() && spawn.is_none() {
        return;
    }
    let mut started = STARTED.lock().unwrap_or_else(|e| e.into_inner());
    let running = match *started {
        Some(p) => p,
        None => {
            let mut c = Config::new();
            if let Some(n) = maxprocs {
                c.maxprocs(n);
            }
            if let Some(p) = spawn {
                c.spawn_policy(p);
            }
            let policy = match c.install() {
                Ok(()) => spawn.unwrap_or_else(env_policy),
                Err(ConfigError::AlreadyStarted) => env_policy(),
                Err(e) => panic!("{attr}: {e}"),
            };
            // Start the runtime now, under the lock, so no other test's
            // configuration can replace this one before it takes effect.
            let _ = weft_runtime::maxprocs();
            *started = Some(policy);
            policy
        }
    };
    drop(started);
    if let Some(p) = spawn {
        assert!(
            p == running,
            "{attr}(spawn = \"{p}\"): this process's runtime already runs with spawn = \"{running}\" \
             (the tests of one binary share one runtime); put this test in its own file under tests/, \
             or run it with WEFT_SPAWN={p}"
        );
    }
    if let Some(n) = maxprocs {
        if weft_runtime::maxprocs() != n {
            weft_runtime::set_maxprocs(n);
        }
    }
}
