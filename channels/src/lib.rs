//! Go channels for weft: `chan`, `Sender`, `Receiver` and `select!`, built on
//! the runtime's parking primitive (`weft_runtime::park`).
