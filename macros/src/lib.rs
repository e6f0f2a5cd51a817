//! `#[weft::main]` and `#[weft::test]`: run a function's body as weft's
//! main goroutine (tokio's `#[tokio::main]` shape). Use them through the
//! `weft` crate, which re-exports them.
//!
//! Owns: parsing the attribute's arguments (`maxprocs = N`,
//! `spawn = "child" | "continuation"`) and rewriting
//! `fn name() -> R { body }` into
//! `fn name() -> R { configure(..); ::weft::run(move || -> R { body }) }`.
//! The tokens are handled by hand (no syn/quote): the grammar is a plain
//! `fn` and a short list of `key = literal` pairs.
//!
//! Must never: accept an argument it does not understand (every mistake is
//! a `compile_error!` pointing at the offending token), or change the
//! body's tokens.

// No printing from library code (clippy.toml says why).
#![deny(clippy::disallowed_macros, clippy::disallowed_methods)]

use proc_macro::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};

/// Runs `main`'s body as weft's main goroutine (through `weft::run`),
/// after configuring the runtime.
///
/// ```
/// #[weft::main(maxprocs = 2)]
/// fn main() {
///     let (tx, rx) = weft::chan(0);
///     weft::go!(move || tx.send("hello from a goroutine").unwrap());
///     println!("{}", rx.recv().unwrap());
/// }
/// ```
///
/// Arguments, all optional: `maxprocs = N` (Go's GOMAXPROCS, at least 1)
/// and `spawn = "child"` or `spawn = "continuation"` (the spawn policy).
/// They are installed with `weft::Config` before the runtime starts; the
/// environment (`WEFT_MAXPROCS`, `WEFT_SPAWN`) fills in what is not given.
/// The function takes no arguments and may return a value, which must be
/// `Send + 'static` (it crosses from the main goroutine to the thread that
/// called `main`): `Result<(), Box<dyn Error + Send + Sync>>`, not
/// `Box<dyn Error>`.
///
/// A mistake is a compile error naming it:
///
/// ```compile_fail
/// #[weft::main(worker_threads = 4)] // unknown argument: weft's is `maxprocs`
/// fn main() {}
/// ```
///
/// ```compile_fail
/// #[weft::main(spawn = "sideways")] // "child" or "continuation"
/// fn main() {}
/// ```
///
/// ```compile_fail
/// #[weft::main]
/// async fn main() {} // goroutines, not futures
/// ```
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Main)
}

/// Runs a test's body as a goroutine (through `weft::run`), like
/// `#[tokio::test]`; takes the same arguments as `#[weft::main]`.
///
/// ```
/// #[weft::test(spawn = "continuation")]
/// fn sends_and_receives() {
///     let (tx, rx) = weft::chan(1);
///     tx.send(1).unwrap();
///     assert_eq!(rx.recv(), Ok(1));
/// }
/// ```
///
/// The tests of one test binary share one runtime (one process), so the
/// arguments act on that shared runtime: the first test to start it
/// installs them; a later test asking for another `maxprocs` sets it
/// process-wide (as `runtime.GOMAXPROCS` does in a Go test), and one asking
/// for a spawn policy other than the running one fails with a message
/// saying so (run it in its own test file, or under `WEFT_SPAWN`).
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args, item, Kind::Test)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn attr(self) -> &'static str {
        match self {
            Kind::Main => "#[weft::main]",
            Kind::Test => "#[weft::test]",
        }
    }
}

/// A `compile_error!("msg")` located at `span`.
fn error(span: Span, msg: &str) -> TokenStream {
    let mut lit = Literal::string(msg);
    lit.set_span(span);
    let mut bang = Punct::new('!', Spacing::Alone);
    bang.set_span(span);
    let mut group = Group::new(Delimiter::Parenthesis, TokenTree::Literal(lit).into());
    group.set_span(span);
    let mut semi = Punct::new(';', Spacing::Alone);
    semi.set_span(span);
    [
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(bang),
        TokenTree::Group(group),
        TokenTree::Punct(semi),
    ]
    .into_iter()
    .collect()
}

struct Args {
    maxprocs: Option<usize>,
    spawn: Option<&'static str>,
}

const EXPECTED: &str =
    "expected `maxprocs = N` (N ≥ 1) or `spawn = \"child\"` / `spawn = \"continuation\"`";

fn parse_args(args: TokenStream, kind: Kind) -> Result<Args, TokenStream> {
    let mut out = Args {
        maxprocs: None,
        spawn: None,
    };
    let mut it = args.into_iter().peekable();
    while let Some(tt) = it.next() {
        let TokenTree::Ident(key) = tt else {
            return Err(error(
                tt.span(),
                &format!("{}: {EXPECTED}, found `{tt}`", kind.attr()),
            ));
        };
        let name = key.to_string();
        if !matches!(name.as_str(), "maxprocs" | "spawn") {
            let hint = match name.as_str() {
                "worker_threads" => " (weft's number of processors is `maxprocs`)",
                "flavor" => " (weft has one scheduler; `spawn` picks its spawn policy)",
                _ => "",
            };
            return Err(error(
                key.span(),
                &format!(
                    "{}: unknown argument `{name}`{hint}; {EXPECTED}",
                    kind.attr()
                ),
            ));
        }
        match it.next() {
            Some(TokenTree::Punct(p)) if p.as_char() == '=' => {}
            other => {
                let span = other.as_ref().map_or(key.span(), TokenTree::span);
                return Err(error(
                    span,
                    &format!("{}: expected `=` after `{name}`", kind.attr()),
                ));
            }
        }
        let Some(TokenTree::Literal(value)) = it.next() else {
            return Err(error(
                key.span(),
                &format!(
                    "{}: `{name}` needs a literal value; {EXPECTED}",
                    kind.attr()
                ),
            ));
        };
        let text = value.to_string();
        let dup = || {
            Err(error(
                key.span(),
                &format!("{}: `{name}` given twice", kind.attr()),
            ))
        };
        if name == "maxprocs" {
            if out.maxprocs.is_some() {
                return dup();
            }
            let digits = text
                .trim_end_matches("usize")
                .trim_end_matches("u32")
                .replace('_', "");
            match digits.parse::<usize>() {
                Ok(n) if n >= 1 => out.maxprocs = Some(n),
                _ => {
                    return Err(error(
                        value.span(),
                        &format!(
                            "{}: `maxprocs` must be a whole number of processors, at least 1; found `{text}`",
                            kind.attr()
                        ),
                    ))
                }
            }
        } else {
            if out.spawn.is_some() {
                return dup();
            }
            out.spawn = Some(match text.as_str() {
                "\"child\"" => "ChildStealing",
                "\"continuation\"" => "ContinuationStealing",
                _ => {
                    return Err(error(
                        value.span(),
                        &format!(
                            "{}: `spawn` must be \"child\" or \"continuation\"; found `{text}`",
                            kind.attr()
                        ),
                    ))
                }
            });
        }
        match it.next() {
            None => break,
            Some(TokenTree::Punct(p)) if p.as_char() == ',' => {}
            Some(tt) => {
                return Err(error(
                    tt.span(),
                    &format!(
                        "{}: expected `,` between arguments, found `{tt}`",
                        kind.attr()
                    ),
                ))
            }
        }
    }
    Ok(out)
}

fn expand(args: TokenStream, item: TokenStream, kind: Kind) -> TokenStream {
    match try_expand(args, item, kind) {
        Ok(ts) | Err(ts) => ts,
    }
}

fn is_ident(tt: &TokenTree, name: &str) -> bool {
    matches!(tt, TokenTree::Ident(i) if i.to_string() == name)
}

fn try_expand(
    args: TokenStream,
    item: TokenStream,
    kind: Kind,
) -> Result<TokenStream, TokenStream> {
    let args = parse_args(args, kind)?;
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let attr = kind.attr();

    // [attributes, visibility, qualifiers] fn name (params) [-> R] { body }
    let Some(fn_at) = tokens.iter().position(|t| is_ident(t, "fn")) else {
        return Err(error(
            Span::call_site(),
            &format!("{attr} goes on a function: `fn name() {{ .. }}`"),
        ));
    };
    let mut i = 0;
    while i < fn_at {
        match &tokens[i] {
            TokenTree::Punct(p) if p.as_char() == '#' => {
                if let Some(TokenTree::Group(g)) = tokens.get(i + 1) {
                    let first = g.stream().into_iter().next();
                    if kind == Kind::Test && first.as_ref().is_some_and(|t| is_ident(t, "test")) {
                        return Err(error(
                            g.span(),
                            "#[weft::test] already makes this a test: remove `#[test]`",
                        ));
                    }
                }
                i += 2;
            }
            t if is_ident(t, "async") => {
                return Err(error(
                    t.span(),
                    &format!(
                    "{attr} takes a plain `fn`: weft runs goroutines, not futures; remove `async`"
                ),
                ))
            }
            t if is_ident(t, "const") || is_ident(t, "unsafe") || is_ident(t, "extern") => {
                return Err(error(
                    t.span(),
                    &format!("{attr} takes a plain `fn`; remove `{t}`"),
                ))
            }
            _ => i += 1,
        }
    }
    let name_span = tokens
        .get(fn_at + 1)
        .map_or(Span::call_site(), TokenTree::span);
    let params_at = fn_at + 2;
    match tokens.get(params_at) {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
            if !g.stream().is_empty() {
                return Err(error(
                    g.span(),
                    &format!("{attr}: the function must take no arguments"),
                ));
            }
        }
        Some(TokenTree::Punct(p)) if p.as_char() == '<' => {
            return Err(error(
                p.span(),
                &format!("{attr}: the function cannot be generic"),
            ))
        }
        _ => {
            return Err(error(
                name_span,
                &format!("{attr} goes on a function: `fn name() {{ .. }}`"),
            ))
        }
    }
    let Some((TokenTree::Group(body), sig_rest)) = tokens[params_at + 1..].split_last() else {
        return Err(error(
            name_span,
            &format!("{attr}: the function needs a body"),
        ));
    };
    if body.delimiter() != Delimiter::Brace {
        return Err(error(
            body.span(),
            &format!("{attr}: the function needs a body"),
        ));
    }
    // sig_rest: nothing, or `-> R`.
    let ret: Vec<TokenTree> = sig_rest.to_vec();
    if let Some(w) = ret.iter().find(|t| is_ident(t, "where")) {
        return Err(error(
            w.span(),
            &format!("{attr}: the function cannot have a `where` clause"),
        ));
    }
    if let Some(first) = ret.first() {
        let arrow = matches!(first, TokenTree::Punct(p) if p.as_char() == '-');
        if !arrow {
            return Err(error(
                first.span(),
                &format!("{attr}: expected `-> ReturnType` or the body, found `{first}`"),
            ));
        }
    }

    let maxprocs = match args.maxprocs {
        Some(n) => format!("::core::option::Option::Some({n}usize)"),
        None => "::core::option::Option::None".to_string(),
    };
    let spawn = match args.spawn {
        Some(p) => format!("::core::option::Option::Some(::weft::SpawnPolicy::{p})"),
        None => "::core::option::Option::None".to_string(),
    };
    let configure: TokenStream = format!(
        "::weft::__macro_support::configure({maxprocs}, {spawn}, {:?});",
        attr
    )
    .parse()
    .map_err(|_| error(Span::call_site(), "weft-macros: internal error"))?;

    // ::weft::run(move || -> R { body })
    let mut closure: Vec<TokenTree> = "move ||"
        .parse::<TokenStream>()
        .map_err(|_| error(Span::call_site(), "weft-macros: internal error"))?
        .into_iter()
        .collect();
    closure.extend(ret.iter().cloned());
    closure.push(TokenTree::Group(body.clone()));
    let mut run: Vec<TokenTree> = "::weft::run"
        .parse::<TokenStream>()
        .map_err(|_| error(Span::call_site(), "weft-macros: internal error"))?
        .into_iter()
        .collect();
    run.push(TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        closure.into_iter().collect(),
    )));

    let mut new_body = configure;
    new_body.extend(run);
    let mut body_group = Group::new(Delimiter::Brace, new_body);
    body_group.set_span(body.span());

    let mut out = TokenStream::new();
    if kind == Kind::Test {
        out.extend(
            "#[::core::prelude::v1::test]"
                .parse::<TokenStream>()
                .map_err(|_| error(Span::call_site(), "weft-macros: internal error"))?,
        );
    }
    out.extend(tokens[..params_at + 1].iter().cloned());
    out.extend(ret);
    out.extend([TokenTree::Group(body_group)]);
    Ok(out)
}
