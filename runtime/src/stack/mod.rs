//! Goroutine stacks: allocation, pooling and size policy.
//!
//! Owns: every stack a goroutine runs on. A spawn takes a stack from the
//! spawning processor's cache, else from the global pool, else allocates one;
//! a finished goroutine's stack goes back to the cache of the processor it
//! finished on. Only stacks of the default size are pooled.
//!
//! Every stack has a guard page below it (corosensei's `Stack` contract): an
//! unguarded stack is never handed out.
//!
//! Must never: be called with a lock held that a goroutine could also take,
//! or run on a goroutine's own stack while freeing that stack.

use std::io;
use std::sync::Mutex;

use corosensei::stack::DefaultStack;

/// Default goroutine stack size: virtual memory, only touched pages are resident.
pub const DEFAULT_STACK_SIZE: usize = 256 * 1024;

/// The smallest stack a goroutine may ask for.
pub const MIN_STACK_SIZE: usize = 16 * 1024;

/// The largest stack a goroutine may ask for.
pub const MAX_STACK_SIZE: usize = 1 << 30;

/// How many stacks a processor keeps for reuse before spilling to the pool.
const LOCAL_CACHE: usize = 64;

/// The stack type goroutines run on.
pub(crate) type GoStack = DefaultStack;

/// Checks a requested stack size, naming the problem when it is unusable.
pub(crate) fn check_size(bytes: usize) -> Result<(), String> {
    if bytes < MIN_STACK_SIZE {
        Err(format!(
            "{bytes} bytes is below the minimum stack size of {MIN_STACK_SIZE} bytes"
        ))
    } else if bytes > MAX_STACK_SIZE {
        Err(format!(
            "{bytes} bytes is above the maximum stack size of {MAX_STACK_SIZE} bytes"
        ))
    } else {
        Ok(())
    }
}

/// A processor's private stack cache.
#[derive(Default)]
pub(crate) struct LocalStacks {
    free: Vec<GoStack>,
}

/// Stacks shared by all processors.
pub(crate) struct StackPool {
    default_size: usize,
    free: Mutex<Vec<GoStack>>,
}

impl StackPool {
    pub(crate) fn new(default_size: usize) -> Self {
        StackPool {
            default_size,
            free: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn default_size(&self) -> usize {
        self.default_size
    }

    /// A stack of `size` bytes (the default when `None`).
    pub(crate) fn alloc(
        &self,
        size: Option<usize>,
        local: Option<&mut LocalStacks>,
    ) -> io::Result<GoStack> {
        let size = size.unwrap_or(self.default_size);
        if size == self.default_size {
            if let Some(local) = local {
                if let Some(s) = local.free.pop() {
                    return Ok(s);
                }
                let mut pool = self.free.lock().unwrap_or_else(|e| e.into_inner());
                let take = pool.len().min(LOCAL_CACHE / 2);
                let at = pool.len() - take;
                local.free.extend(pool.drain(at..));
                drop(pool);
                if let Some(s) = local.free.pop() {
                    return Ok(s);
                }
            } else if let Some(s) = self.free.lock().unwrap_or_else(|e| e.into_inner()).pop() {
                return Ok(s);
            }
        }
        DefaultStack::new(size)
    }

    /// Returns a stack for reuse.
    pub(crate) fn free(&self, stack: GoStack, size: usize, local: Option<&mut LocalStacks>) {
        if size != self.default_size {
            return; // dropped: unmapped
        }
        match local {
            Some(local) => {
                local.free.push(stack);
                if local.free.len() > LOCAL_CACHE {
                    let spill = local.free.split_off(LOCAL_CACHE / 2);
                    self.free
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .extend(spill);
                }
            }
            None => self
                .free
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(stack),
        }
    }
}
