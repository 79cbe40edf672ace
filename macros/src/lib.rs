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
