//! Procedural macros for [goro](https://docs.rs/goro). Use them through the `goro` crate:
//! `#[goro::main]`.

use proc_macro::{Delimiter, Group, Ident, Punct, Spacing, Span, TokenStream, TokenTree};

/// Runs `fn main` as a goroutine, as Go runs its `main`.
///
/// `#[goro::main] fn main() { body }` becomes `fn main() { goro::run(move || { body }) }`: the
/// body runs as a goroutine on the runtime's workers, the main thread blocks until it returns,
/// and a panic in the body is resumed on the main thread. A return type (`-> Result<(), E>`)
/// is kept and passed through.
///
/// Anything else is a compile error that says what is wrong: the attribute on another item or
/// another function, `fn main` with parameters, generics or `async`, or arguments to the
/// attribute (`compile-fail/ui/main_*.rs` in the workspace).
///
/// See `goro::main` for an example.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let mut out = TokenStream::new();
    if let Some(tt) = attr.into_iter().next() {
        out.extend(error(tt.span(), "#[goro::main] takes no arguments"));
    }
    match check(&tokens) {
        // With only the attribute's arguments wrong, `main` is still expanded, so that the
        // error about them is the only one.
        Ok(body) => out.extend(expand(&tokens, body)),
        Err(Misuse::MainSignature(e)) => {
            // A stub `fn main` stands in for the rejected one, which the compiler would
            // otherwise report a second time (or report missing).
            out.extend(e);
            out.extend(stub_main());
        }
        Err(Misuse::NotMain(e)) => {
            // The item stays as written: only the attribute is misplaced.
            out.extend(e);
            out.extend(tokens);
        }
    }
    out
}

/// Why `#[goro::main]` rejects an item, with the `compile_error!` that says so.
enum Misuse {
    /// A `fn main` whose signature `#[goro::main]` cannot run.
    MainSignature(TokenStream),
    /// Not a `fn main` at all.
    NotMain(TokenStream),
}

/// Checks that `tokens` are `fn main() { … }` (with attributes, visibility and a return type
/// allowed) and returns its body.
fn check(tokens: &[TokenTree]) -> Result<&Group, Misuse> {
    // The item's keyword: the first identifier outside its attributes (`#[…]` is a `#`
    // and a bracket group) other than a visibility.
    let kw = tokens
        .iter()
        .position(|tt| matches!(tt, TokenTree::Ident(id) if id.to_string() != "pub"));
    let Some(kw) = kw else {
        let span = tokens.first().map_or_else(Span::call_site, TokenTree::span);
        return Err(Misuse::NotMain(error(
            span,
            "#[goro::main] must be placed on `fn main`",
        )));
    };
    let Some(fn_at) = tokens[kw..]
        .iter()
        .position(|tt| matches!(tt, TokenTree::Ident(id) if id.to_string() == "fn"))
        .map(|i| kw + i)
    else {
        let what = tokens[kw].to_string();
        return Err(Misuse::NotMain(error(
            tokens[kw].span(),
            &format!("#[goro::main] must be placed on `fn main`, not on a `{what}` item"),
        )));
    };
    let name = match tokens.get(fn_at + 1) {
        Some(TokenTree::Ident(name)) => name,
        _ => {
            return Err(Misuse::NotMain(error(
                tokens[fn_at].span(),
                "#[goro::main] must be placed on `fn main`",
            )))
        }
    };
    if name.to_string() != "main" {
        return Err(Misuse::NotMain(error(
            name.span(),
            "#[goro::main] may only be placed on `fn main`",
        )));
    }
    // Qualifiers before `fn`.
    for tt in &tokens[kw..fn_at] {
        if let TokenTree::Ident(id) = tt {
            if id.to_string() == "async" {
                return Err(Misuse::MainSignature(error(
                    id.span(),
                    "#[goro::main] functions must not be async: goroutines run plain blocking code",
                )));
            }
        }
    }
    match tokens.get(fn_at + 2) {
        Some(TokenTree::Group(params)) if params.delimiter() == Delimiter::Parenthesis => {
            if !params.stream().is_empty() {
                return Err(Misuse::MainSignature(error(
                    params.span(),
                    "`fn main` under #[goro::main] takes no parameters",
                )));
            }
        }
        Some(TokenTree::Punct(p)) if p.as_char() == '<' => {
            return Err(Misuse::MainSignature(error(
                p.span(),
                "#[goro::main] does not support a generic `fn main`",
            )));
        }
        Some(tt) => {
            return Err(Misuse::MainSignature(error(
                tt.span(),
                "#[goro::main] expects `fn main()` here",
            )))
        }
        None => {
            return Err(Misuse::MainSignature(error(
                name.span(),
                "#[goro::main] expects `fn main()` here",
            )))
        }
    }
    match tokens.last() {
        Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => Ok(body),
        Some(tt) => Err(Misuse::MainSignature(error(
            tt.span(),
            "#[goro::main] needs the body of `fn main`",
        ))),
        None => unreachable!("`fn main` was found in the item"),
    }
}

/// The item with its body `{ body }` replaced by `{ ::goro::run(move || { body }) }`.
fn expand(tokens: &[TokenTree], body: &Group) -> TokenStream {
    let mut call = TokenStream::new();
    call.extend([
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("goro", Span::call_site())),
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("run", Span::call_site())),
    ]);
    let mut closure = TokenStream::new();
    closure.extend([
        TokenTree::Ident(Ident::new("move", Span::call_site())),
        TokenTree::Punct(Punct::new('|', Spacing::Joint)),
        TokenTree::Punct(Punct::new('|', Spacing::Alone)),
        TokenTree::Group(body.clone()),
    ]);
    call.extend([TokenTree::Group(Group::new(
        Delimiter::Parenthesis,
        closure,
    ))]);
    let mut new_body = Group::new(Delimiter::Brace, call);
    new_body.set_span(body.span());

    let mut out: TokenStream = tokens[..tokens.len() - 1].iter().cloned().collect();
    out.extend([TokenTree::Group(new_body)]);
    out
}

/// `fn main() {}`.
fn stub_main() -> TokenStream {
    [
        TokenTree::Ident(Ident::new("fn", Span::call_site())),
        TokenTree::Ident(Ident::new("main", Span::call_site())),
        TokenTree::Group(Group::new(Delimiter::Parenthesis, TokenStream::new())),
        TokenTree::Group(Group::new(Delimiter::Brace, TokenStream::new())),
    ]
    .into_iter()
    .collect()
}

fn error(span: Span, msg: &str) -> TokenStream {
    // `::core::compile_error!("msg");`
    let mut ts = TokenStream::new();
    let mut lit = proc_macro::Literal::string(msg);
    lit.set_span(span);
    let mut args = Group::new(Delimiter::Parenthesis, TokenTree::Literal(lit).into());
    args.set_span(span);
    let mut path = Vec::new();
    for tok in [
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("core", span)),
        TokenTree::Punct(Punct::new(':', Spacing::Joint)),
        TokenTree::Punct(Punct::new(':', Spacing::Alone)),
        TokenTree::Ident(Ident::new("compile_error", span)),
        TokenTree::Punct(Punct::new('!', Spacing::Alone)),
    ] {
        let mut tok = tok;
        tok.set_span(span);
        path.push(tok);
    }
    ts.extend(path);
    ts.extend([
        TokenTree::Group(args),
        TokenTree::Punct(Punct::new(';', Spacing::Alone)),
    ]);
    ts
}

/// Runs a test as a goroutine, with goro's leak check; `#[goro::test]` in place of
/// `#[test]`.
///
/// `#[goro::test] fn name() { body }` becomes a `#[test]` that runs `body` in a goroutine
/// (named after the test) and joins it; a panic in it fails the test as usual
/// (`#[should_panic]` works). The body's panic report is written by the test's own thread,
/// where the test harness captures it as it does a plain test's: shown if the test fails,
/// silent for a `should_panic` test that passes. A return type (`-> Result<(), E>`) is
/// passed through.
/// Arguments, separated by commas:
///
/// - `maxprocs = N`: the test needs a runtime with `N` workers. The runtime is one per
///   process, so unless this process's runtime has `N` workers, the test runs in a child
///   process (this test binary again, with only this test, and `GORO_MAXPROCS=N`), and
///   fails if the child does.
/// - `leak_check = false`: no leak check. By default the test fails if goroutines it
///   started (directly or not) are still alive after it returned and a grace period of a
///   second (`goro::leak`).
///
/// See `goro::test` for an example.
#[proc_macro_attribute]
pub fn test(attr: TokenStream, item: TokenStream) -> TokenStream {
    let tokens: Vec<TokenTree> = item.into_iter().collect();
    let (maxprocs, leak_check) = match test_args(attr) {
        Ok(args) => args,
        Err(e) => {
            let mut out = e;
            out.extend(tokens);
            return out;
        }
    };
    let (name, body) = match test_fn(&tokens) {
        Ok(found) => found,
        Err(e) => {
            let mut out = e;
            out.extend(tokens);
            return out;
        }
    };
    let should_panic = tokens.iter().any(|tt| match tt {
        TokenTree::Group(g) if g.delimiter() == Delimiter::Bracket => g
            .stream()
            .into_iter()
            .next()
            .is_some_and(|t| t.to_string() == "should_panic"),
        _ => false,
    });
    let maxprocs = match maxprocs {
        Some(n) => format!("::core::option::Option::Some({n}usize)"),
        None => "::core::option::Option::None".to_string(),
    };
    let mut args: TokenStream = format!(
        "::goro::__private::TestSettings {{ module: ::core::module_path!(), name: {name:?}, \
         maxprocs: {maxprocs}, leak_check: {leak_check}, should_panic: {should_panic} }}, \
         move ||"
    )
    .parse()
    .expect("valid tokens");
    args.extend([TokenTree::Group(body.clone())]);
    let mut call: TokenStream = "::goro::__private::run_test".parse().expect("valid tokens");
    call.extend([TokenTree::Group(Group::new(Delimiter::Parenthesis, args))]);
    let mut new_body = Group::new(Delimiter::Brace, call);
    new_body.set_span(body.span());

    let mut out: TokenStream = "#[::core::prelude::v1::test]"
        .parse()
        .expect("valid tokens");
    out.extend(tokens[..tokens.len() - 1].iter().cloned());
    out.extend([TokenTree::Group(new_body)]);
    out
}

/// The arguments of `#[goro::test(...)]`: `maxprocs = N` and `leak_check = bool`.
fn test_args(attr: TokenStream) -> Result<(Option<u64>, bool), TokenStream> {
    let tokens: Vec<TokenTree> = attr.into_iter().collect();
    let mut maxprocs = None;
    let mut leak_check = true;
    for arg in tokens.split(|tt| matches!(tt, TokenTree::Punct(p) if p.as_char() == ',')) {
        match arg {
            [] => {}
            [TokenTree::Ident(key), TokenTree::Punct(eq), value] if eq.as_char() == '=' => {
                match (key.to_string().as_str(), value) {
                    ("maxprocs", TokenTree::Literal(lit)) => {
                        let text = lit.to_string();
                        let digits = text.trim_end_matches("usize").replace('_', "");
                        match digits.parse::<u64>() {
                            Ok(n) if n > 0 => maxprocs = Some(n),
                            _ => {
                                return Err(error(
                                    lit.span(),
                                    "#[goro::test]: maxprocs must be a whole number of workers, at least 1",
                                ))
                            }
                        }
                    }
                    ("leak_check", TokenTree::Ident(v)) if v.to_string() == "true" => {
                        leak_check = true
                    }
                    ("leak_check", TokenTree::Ident(v)) if v.to_string() == "false" => {
                        leak_check = false
                    }
                    ("leak_check", v) => {
                        return Err(error(
                            v.span(),
                            "#[goro::test]: leak_check is true or false",
                        ))
                    }
                    ("maxprocs", v) => {
                        return Err(error(
                            v.span(),
                            "#[goro::test]: maxprocs must be a whole number of workers, at least 1",
                        ))
                    }
                    (_, _) => {
                        return Err(error(
                            key.span(),
                            "#[goro::test] takes `maxprocs = N` and `leak_check = false`",
                        ))
                    }
                }
            }
            [first, ..] => {
                return Err(error(
                    first.span(),
                    "#[goro::test] takes `maxprocs = N` and `leak_check = false`",
                ))
            }
        }
    }
    Ok((maxprocs, leak_check))
}

/// Checks that `tokens` are a test function without parameters, generics or `async`; returns
/// its name and body.
fn test_fn(tokens: &[TokenTree]) -> Result<(String, &Group), TokenStream> {
    let fn_at = tokens
        .iter()
        .position(|tt| matches!(tt, TokenTree::Ident(id) if id.to_string() == "fn"));
    let Some(fn_at) = fn_at else {
        let span = tokens.first().map_or_else(Span::call_site, TokenTree::span);
        return Err(error(span, "#[goro::test] must be placed on a function"));
    };
    for tt in &tokens[..fn_at] {
        if let TokenTree::Ident(id) = tt {
            if id.to_string() == "async" {
                return Err(error(
                    id.span(),
                    "#[goro::test] functions must not be async: goroutines run plain blocking code",
                ));
            }
        }
    }
    let name = match tokens.get(fn_at + 1) {
        Some(TokenTree::Ident(name)) => name.to_string(),
        _ => {
            return Err(error(
                tokens[fn_at].span(),
                "#[goro::test] must be placed on a function",
            ))
        }
    };
    match tokens.get(fn_at + 2) {
        Some(TokenTree::Group(params)) if params.delimiter() == Delimiter::Parenthesis => {
            if !params.stream().is_empty() {
                return Err(error(
                    params.span(),
                    "a #[goro::test] function takes no parameters",
                ));
            }
        }
        Some(tt) => {
            return Err(error(
                tt.span(),
                "#[goro::test] does not support a generic test function",
            ))
        }
        None => {
            return Err(error(
                tokens[fn_at].span(),
                "#[goro::test] must be placed on a function",
            ))
        }
    }
    match tokens.last() {
        Some(TokenTree::Group(body)) if body.delimiter() == Delimiter::Brace => Ok((name, body)),
        Some(tt) => Err(error(tt.span(), "#[goro::test] needs the function's body")),
        None => unreachable!("`fn` was found in the item"),
    }
}
