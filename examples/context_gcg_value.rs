//! Port of the Go Concurrency Guide's "Context package" value example
//! (seed 004): request-scoped data travels down the call graph in a
//! context — `ProcessRequest` stores the user id and token with
//! `context.WithValue`, `HandleResponse` reads them back.
//!
//! Go's `ctx.Value(key)` is an `interface{}`; weft's `ctx.value::<V>(key)`
//! names the type it expects and is `None` where Go's is `nil`.
//!
//! Prints (with no newline at the end):
//! ```text
//! handling response for jane (abc123)
//! ```

use std::io::Write;

use weft::context::{self, Context};

fn main() {
    weft::run(|| {
        process_request("jane", "abc123");
    });
}

fn process_request(user_id: &str, auth_token: &str) {
    let ctx = context::with_value(&context::background(), "userID", user_id.to_string());
    let ctx = context::with_value(&ctx, "authToken", auth_token.to_string());
    handle_response(&ctx);
}

fn handle_response(ctx: &Context) {
    // Go's `ctx.Value(key)` is nil (printed `<nil>`) when the key is absent.
    let value = |key| ctx.value::<String>(key).map_or("<nil>", String::as_str);
    print!(
        "handling response for {} ({})",
        value("userID"),
        value("authToken")
    );
    let _ = std::io::stdout().flush();
}
