//! Go: `errgroup.WithContext` with `g.SetLimit(2)` (golang.org/x/sync) — fetch pages, at
//! most two at a time; the first error cancels the fetches still running, and `g.Wait()`
//! returns it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use goro::context::{self, Context};
use goro::group::Group;
use goro::time;

/// A pretend HTTP GET: 50 ms per page, and an unknown host fails after 20 ms. It gives up as
/// soon as `ctx` ends, as a real client given a context would.
fn fetch(ctx: &Context, url: &str) -> Result<String, String> {
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let (delay, known) = if host.contains("somestupidname") {
        (Duration::from_millis(20), false)
    } else {
        (Duration::from_millis(50), true)
    };
    goro::select! {
        recv(time::after(delay)) -> _t => {}
        recv(ctx.done()) -> _d => return Err(format!("Get {url:?}: {}", ctx.err().unwrap())),
    }
    if known {
        Ok(format!("<html>{host}</html>"))
    } else {
        Err(format!(
            "Get {url:?}: dial tcp: lookup {host}: no such host"
        ))
    }
}

/// Fetches every URL, two at a time; returns the pages in the order of `urls`.
fn fetch_all(urls: &[&'static str]) -> Result<Vec<String>, String> {
    let (g, ctx) = Group::<String>::with_context(&context::background());
    g.set_limit(2);
    let pages = Arc::new(Mutex::new(vec![String::new(); urls.len()]));
    for (i, &url) in urls.iter().enumerate() {
        let (ctx, pages) = (ctx.clone(), pages.clone());
        g.go(move || {
            let page = fetch(&ctx, url)?;
            pages.lock().unwrap()[i] = page;
            Ok(())
        });
    }
    if let Err(e) = g.wait() {
        // The first error canceled the group's context, so the fetches still running gave
        // up (and `Wait` returned that first error).
        println!("the fetches still running stopped: {}", ctx.err().unwrap());
        return Err(e);
    }
    let pages = pages.lock().unwrap().clone();
    Ok(pages)
}

#[goro::main]
pub fn main() {
    let urls = [
        "http://www.golang.org/",
        "http://www.google.com/",
        "http://go.dev/",
        "http://pkg.go.dev/",
    ];
    match fetch_all(&urls) {
        Ok(pages) => {
            for (url, page) in urls.iter().zip(&pages) {
                println!("{url}: {} bytes", page.len());
            }
            println!("Successfully fetched all URLs.");
        }
        Err(e) => println!("Error: {e}"),
    }

    let urls = [
        "http://www.golang.org/",
        "http://www.somestupidname.com/",
        "http://www.google.com/",
    ];
    match fetch_all(&urls) {
        Ok(_) => println!("Successfully fetched all URLs."),
        Err(e) => println!("Error: {e}"),
    }
}

// Output:
// http://www.golang.org/: 27 bytes
// http://www.google.com/: 27 bytes
// http://go.dev/: 19 bytes
// http://pkg.go.dev/: 23 bytes
// Successfully fetched all URLs.
// the fetches still running stopped: context canceled
// Error: Get "http://www.somestupidname.com/": dial tcp: lookup www.somestupidname.com: no such host
