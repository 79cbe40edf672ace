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
/// See `goro::main` for an example.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    if let Some(tt) = attr.into_iter().next() {
        return error(tt.span(), "#[goro::main] takes no arguments");
    }
    let mut tokens: Vec<TokenTree> = item.into_iter().collect();
    let body = match tokens.pop() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g,
        Some(other) => return error(other.span(), "#[goro::main] must be placed on a function"),
        None => {
            return error(
                Span::call_site(),
                "#[goro::main] must be placed on a function",
            )
        }
    };

    // Check the signature: `fn main()` with no parameters, not async, no generics.
    let mut saw_fn = false;
    let mut name_ok = false;
    for (i, tt) in tokens.iter().enumerate() {
        match tt {
            TokenTree::Ident(id) if id.to_string() == "async" => {
                return error(
                    id.span(),
                    "#[goro::main] functions must not be async: goroutines run plain blocking code",
                );
            }
            TokenTree::Ident(id) if id.to_string() == "fn" => {
                saw_fn = true;
                if let Some(TokenTree::Ident(name)) = tokens.get(i + 1) {
                    name_ok = name.to_string() == "main";
                    if !name_ok {
                        return error(name.span(), "#[goro::main] may only be placed on `fn main`");
                    }
                }
                if let Some(TokenTree::Group(params)) = tokens.get(i + 2) {
                    if params.delimiter() == Delimiter::Parenthesis && !params.stream().is_empty() {
                        return error(
                            params.span(),
                            "`fn main` under #[goro::main] takes no parameters",
                        );
                    }
                } else if let Some(tt) = tokens.get(i + 2) {
                    return error(
                        tt.span(),
                        "#[goro::main] does not support a generic `fn main`",
                    );
                }
            }
            _ => {}
        }
    }
    if !saw_fn || !name_ok {
        return error(body.span(), "#[goro::main] must be placed on `fn main`");
    }

    // `::goro::run(move || body)`
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

    let mut out: TokenStream = tokens.into_iter().collect();
    out.extend([TokenTree::Group(new_body)]);
    out
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
