//! The `select!` macro.

/// Waits on several channel operations and runs exactly one of them.
///
/// Go: `select { case v := <-ch: ... case ch2 <- x: ... default: ... }`, with
/// crossbeam-channel's syntax:
///
/// - `recv(rx) -> v => body`: `v` is `Result<T, RecvError>` (`Err` once the channel is closed
///   and drained: a closed channel is always ready, as in Go);
/// - `send(tx, value) -> r => body`: `r` is `Result<(), SendError<T>>` (`Err` hands the value
///   back if the channel is closed);
/// - `fut(f) -> v => body`: `f` is a pinned future (`Pin<&mut F>`, from `std::pin::pin!` or
///   `Box::pin`, or `&mut f` for an `Unpin` one) and `v` its output: one select waits on
///   channels, timers and futures at once (see "Futures" below);
/// - `default => body`: runs if no case is ready now;
/// - `default(timeout) => body`: runs if no case became ready within `timeout`.
///
/// When several cases are ready, one is chosen uniformly at random. Exactly one case takes
/// effect: a send that is not chosen delivers nothing (its value is dropped), a receive that is
/// not chosen takes nothing. Every channel and send-value expression is evaluated once, in
/// order, before anything else. A select with no ready case and no `default` parks (a
/// goroutine) or blocks (a thread) until one is ready; with no case at all it waits forever.
///
/// Channels are borrowed, not moved: `recv(rx)` takes a `Receiver` behind any number of
/// references or smart pointers (`rx`, `&&rx`, an `Arc<Receiver<T>>`, a type that derefs to a
/// `Receiver`), or an `Option<Receiver>` or `Option<&Receiver>` (`None` is Go's nil channel:
/// never ready); the same for `send`. crossbeam-channel's spellings are accepted too:
/// `default() => body`, and a trailing comma inside a case's parentheses. Bodies are ordinary
/// `match` arms: `break`, `continue` and `return` work in them. Up to 128 cases;
/// [`chan::Select`](crate::chan::Select) takes any number.
/// [`select_biased!`](crate::select_biased) tries the cases in order rather than at random.
///
/// ```
/// use goro::chan;
/// use std::time::Duration;
///
/// #[goro::main]
/// fn main() {
///     let (tx1, rx1) = chan::bounded(0);
///     let (_tx2, rx2) = chan::bounded::<&str>(0);
///     goro::go(move || tx1.send("one").unwrap());
///     let got = goro::select! {
///         recv(rx1) -> msg => msg.unwrap(),
///         recv(rx2) -> msg => msg.unwrap(),
///         default(Duration::from_secs(10)) => "timeout",
///     };
///     assert_eq!(got, "one");
/// }
/// ```
///
/// Go's way of turning off a finished channel, by setting it to nil:
///
/// ```
/// use goro::chan;
///
/// let (ta, ra) = chan::bounded(4);
/// let (tb, rb) = chan::bounded(4);
/// ta.send(1).unwrap();
/// tb.send(2).unwrap();
/// drop((ta, tb));
/// let (mut a, mut b) = (Some(&ra), Some(&rb));
/// let mut sum = 0;
/// while a.is_some() || b.is_some() {
///     goro::select! {
///         recv(a) -> v => match v { Ok(x) => sum += x, Err(_) => a = None },
///         recv(b) -> v => match v { Ok(x) => sum += x, Err(_) => b = None },
///     }
/// }
/// assert_eq!(sum, 3);
/// ```
///
/// A ticker is a channel like any other: periodic work beside a stream of messages
/// (Go: `case <-ticker.C:`).
///
/// ```
/// use goro::{chan, time::Ticker};
/// use std::time::Duration;
///
/// let ticker = Ticker::new(Duration::from_millis(1));
/// let (tx, rx) = chan::bounded(0);
/// goro::go(move || (1..=3).for_each(|i| tx.send(i).unwrap()));
/// let (mut sum, mut ticks) = (0, 0);
/// loop {
///     goro::select! {
///         recv(rx) -> v => match v { Ok(v) => sum += v, Err(_) => break },
///         recv(ticker.receiver()) -> _ => ticks += 1, // a progress report, say
///     }
/// }
/// println!("{ticks} ticks meanwhile");
/// assert_eq!(sum, 6);
/// ```
///
/// # Futures
///
/// A `fut` case makes any future a case: an async API's call, a tokio `JoinHandle`, goro's
/// own `recv_async`. The select polls it with a waker that wakes the select (the goroutine
/// parks meanwhile, as for a channel); when it is ready, its case wins as a ready channel
/// case would, and ready cases are chosen among uniformly at random, futures included. A
/// future whose case does not win is left as it is: it was polled, perhaps, but it did not
/// complete, so it can be selected or awaited again.
///
/// The futures are polled outside the channels' locks, so a future may do anything,
/// channels included. A future that needs its runtime's reactor (tokio's sockets and
/// timers) must be polled inside that runtime: select on its `JoinHandle` instead
/// (`handle.spawn(fut)`), as for [`block_on`](crate::block_on).
///
/// ```
/// use std::pin::pin;
/// use std::time::Duration;
/// use goro::chan;
///
/// let rt = tokio::runtime::Runtime::new().unwrap();
/// let (_tx, rx) = chan::bounded::<u32>(0);
/// let mut answer = pin!(rt.spawn(async {
///     tokio::time::sleep(Duration::from_millis(10)).await;
///     42
/// }));
/// let got = goro::select! {
///     recv(rx) -> v => v.unwrap(),
///     fut(answer.as_mut()) -> v => v.unwrap(),
/// };
/// assert_eq!(got, 42);
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(
            @cases(select)
            @idx(
                0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23
                24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
                48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71
                72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95
                96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119
                120 121 122 123 124 125 126 127
            )
            @default()
            $($tokens)*
        )
    };
}

/// [`select!`] with its cases tried in the order written, first ready case wins.
///
/// crossbeam-channel: `select_biased!`. Go has no such select: it picks among ready cases at
/// random so that no case can starve the others. Here the first case that is ready when
/// the select looks wins, which can starve later cases if earlier ones stay ready; use it
/// for priorities (a quit channel before the work channel) or for deterministic tests.
/// Waiting, `default` and everything else are as in [`select!`], with the same syntax.
///
/// ```
/// use goro::chan;
///
/// let (urgent_tx, urgent) = chan::bounded(4);
/// let (normal_tx, normal) = chan::bounded(4);
/// normal_tx.send("normal").unwrap();
/// urgent_tx.send("urgent").unwrap();
/// let mut order = Vec::new();
/// for _ in 0..2 {
///     goro::select_biased! {
///         recv(urgent) -> m => order.push(m.unwrap()),
///         recv(normal) -> m => order.push(m.unwrap()),
///     }
/// }
/// assert_eq!(order, ["urgent", "normal"]);
/// ```
#[macro_export]
macro_rules! select_biased {
    ($($tokens:tt)*) => {
        $crate::__select_parse!(
            @cases(select_biased)
            @idx(
                0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23
                24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
                48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71
                72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95
                96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111 112 113 114 115 116 117 118 119
                120 121 122 123 124 125 126 127
            )
            @default()
            $($tokens)*
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    // recv(rx) -> v => { ... }
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        recv($r:expr $(,)?) -> $p:pat => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)* [recv $i ($r) ($p) ($body)]) @idx($($is)*)
            @default($($d)*) $($rest)*)
    };
    // (no comma after the block) recv(rx) -> v => { ... }
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        recv($r:expr $(,)?) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)* [recv $i ($r) ($p) ($body)]) @idx($($is)*)
            @default($($d)*) $($rest)*)
    };
    // recv(rx) -> v => expr,
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        recv($r:expr $(,)?) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)* [recv $i ($r) ($p) ($body)]) @idx($($is)*)
            @default($($d)*) $($rest)*)
    };
    // recv(rx) -> v => expr (last)
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        recv($r:expr $(,)?) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(@cases($($c)* [recv $i ($r) ($p) ($body)]) @idx($($is)*)
            @default($($d)*))
    };
    // send(tx, v) -> r => { ... }
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        send($s:expr, $v:expr $(,)?) -> $p:pat => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)* [send $i ($s, $v) ($p) ($body)]) @idx($($is)*)
            @default($($d)*) $($rest)*)
    };
    // (no comma after the block) send(tx, v) -> r => { ... }
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        send($s:expr, $v:expr $(,)?) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)* [send $i ($s, $v) ($p) ($body)]) @idx($($is)*)
            @default($($d)*) $($rest)*)
    };
    // send(tx, v) -> r => expr,
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        send($s:expr, $v:expr $(,)?) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)* [send $i ($s, $v) ($p) ($body)]) @idx($($is)*)
            @default($($d)*) $($rest)*)
    };
    // send(tx, v) -> r => expr (last)
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        send($s:expr, $v:expr $(,)?) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(@cases($($c)* [send $i ($s, $v) ($p) ($body)]) @idx($($is)*)
            @default($($d)*))
    };
    // fut(f) -> v => { ... }
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        fut($f:expr $(,)?) -> $p:pat => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)* [fut $i ($f) ($p) ($body)]) @idx($($is)*)
            @default($($d)*) $($rest)*)
    };
    // (no comma after the block) fut(f) -> v => { ... }
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        fut($f:expr $(,)?) -> $p:pat => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)* [fut $i ($f) ($p) ($body)]) @idx($($is)*)
            @default($($d)*) $($rest)*)
    };
    // fut(f) -> v => expr,
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        fut($f:expr $(,)?) -> $p:pat => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)* [fut $i ($f) ($p) ($body)]) @idx($($is)*)
            @default($($d)*) $($rest)*)
    };
    // fut(f) -> v => expr (last)
    (@cases($($c:tt)*) @idx($i:tt $($is:tt)*) @default($($d:tt)*)
        fut($f:expr $(,)?) -> $p:pat => $body:expr) => {
        $crate::__select_parse!(@cases($($c)* [fut $i ($f) ($p) ($body)]) @idx($($is)*)
            @default($($d)*))
    };
    // default => ...
    (@cases($($c:tt)*) @idx($($is:tt)*) @default()
        default => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)*) @idx($($is)*) @default((never) ($body)) $($rest)*)
    };
    // (no comma after the block) default => ...
    (@cases($($c:tt)*) @idx($($is:tt)*) @default()
        default => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)*) @idx($($is)*) @default((never) ($body)) $($rest)*)
    };
    (@cases($($c:tt)*) @idx($($is:tt)*) @default()
        default => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)*) @idx($($is)*) @default((never) ($body)) $($rest)*)
    };
    (@cases($($c:tt)*) @idx($($is:tt)*) @default()
        default => $body:expr) => {
        $crate::__select_parse!(@cases($($c)*) @idx($($is)*) @default((never) ($body)))
    };
    // default() => ..., crossbeam-channel's spelling of `default`
    (@cases($($c:tt)*) @idx($($is:tt)*) @default()
        default() => $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)*) @idx($($is)*) @default() default => $($rest)*)
    };
    // default(timeout) => ...
    (@cases($($c:tt)*) @idx($($is:tt)*) @default()
        default($t:expr $(,)?) => $body:block, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)*) @idx($($is)*) @default((until $t) ($body)) $($rest)*)
    };
    // (no comma after the block) default(timeout) => ...
    (@cases($($c:tt)*) @idx($($is:tt)*) @default()
        default($t:expr $(,)?) => $body:block $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)*) @idx($($is)*) @default((until $t) ($body)) $($rest)*)
    };
    (@cases($($c:tt)*) @idx($($is:tt)*) @default()
        default($t:expr $(,)?) => $body:expr, $($rest:tt)*) => {
        $crate::__select_parse!(@cases($($c)*) @idx($($is)*) @default((until $t) ($body)) $($rest)*)
    };
    (@cases($($c:tt)*) @idx($($is:tt)*) @default()
        default($t:expr $(,)?) => $body:expr) => {
        $crate::__select_parse!(@cases($($c)*) @idx($($is)*) @default((until $t) ($body)))
    };
    // Errors.
    (@cases($($c:tt)*) @idx($($is:tt)*) @default($($d:tt)+) default $($rest:tt)*) => {
        ::core::compile_error!(
            "a select! has at most one `default` case (`default => body` or \
             `default(timeout) => body`)"
        )
    };
    (@cases($($c:tt)*) @idx() @default($($d:tt)*) $($rest:tt)+) => {
        ::core::compile_error!("a select! has at most 128 cases (use goro::chan::Select for more)")
    };
    (@cases($($c:tt)*) @idx($($is:tt)*) @default($($d:tt)*) recv($($a:tt)*) => $($rest:tt)*) => {
        ::core::compile_error!("missing `-> v` in a select! `recv` case: `recv(rx) -> v => body`")
    };
    (@cases($($c:tt)*) @idx($($is:tt)*) @default($($d:tt)*) send($($a:tt)*) => $($rest:tt)*) => {
        ::core::compile_error!(
            "missing `-> r` in a select! `send` case: `send(tx, value) -> r => body`"
        )
    };
    (@cases($($c:tt)*) @idx($($is:tt)*) @default($($d:tt)*) fut($($a:tt)*) => $($rest:tt)*) => {
        ::core::compile_error!("missing `-> v` in a select! `fut` case: `fut(f) -> v => body`")
    };
    // Done: expand.
    (@cases($($c:tt)*) @idx($($is:tt)*) @default($($d:tt)*)) => {
        $crate::__select_expand!(($($c)*) ($($d)*))
    };
    // A case that matched no rule above: name an unknown operation.
    (@cases($($c:tt)*) @idx($($is:tt)*) @default($($d:tt)*) $op:ident $($rest:tt)*) => {
        $crate::__select_parse!(@case $op)
    };
    (@cases($($c:tt)*) @idx($($is:tt)*) @default($($d:tt)*) $($rest:tt)+) => {
        $crate::__select_parse!(@syntax)
    };
    (@case recv) => { $crate::__select_parse!(@syntax) };
    (@case send) => { $crate::__select_parse!(@syntax) };
    (@case fut) => { $crate::__select_parse!(@syntax) };
    (@case default) => { $crate::__select_parse!(@syntax) };
    (@case $op:ident) => {
        ::core::compile_error!(::core::concat!(
            "`", ::core::stringify!($op), "` is not a select! operation: expected \
             `recv(rx) -> v => body`, `send(tx, value) -> r => body`, `fut(f) -> v => body`, \
             `default => body` or `default(timeout) => body`"
        ))
    };
    (@syntax) => {
        ::core::compile_error!(
            "expected `recv(rx) -> v => body`, `send(tx, value) -> r => body`, \
             `fut(f) -> v => body`, `default => body` or `default(timeout) => body`"
        )
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_expand {
    (($mode:ident $([$kind:ident $i:tt ($($args:tt)*) ($p:pat) ($body:expr)])*)
        ($($d:tt)*)) => {{
        // For `__goro_peel`, the method call that strips references and smart pointers off
        // the channel arguments (`arg.rs`).
        #[allow(unused_imports)]
        use $crate::__private::SelectPeel as _;
        // The scrutinee evaluates every channel and send value once, in order, and keeps any
        // temporary (`recv(time::after(d))`) alive for the whole select.
        match ($($crate::__select_arg!($kind $($args)*),)*) {
            __goro_args => {
                let mut __goro_cases = ($($crate::__select_case!($kind __goro_args.$i),)*);
                let __goro_list: &mut [&mut dyn $crate::__private::SelectCase] =
                    &mut [$(&mut __goro_cases.$i),*];
                let __goro_chosen =
                    $crate::__private::$mode(__goro_list, $crate::__select_wait!($($d)*));
                match __goro_chosen {
                    $(
                        ::core::option::Option::Some($i) => {
                            #[allow(unused_variables)]
                            let $p = __goro_cases.$i.take_result();
                            $body
                        }
                    )*
                    _ => $crate::__select_default!($($d)*),
                }
            }
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_arg {
    (recv $r:expr) => {
        $crate::__private::SelectRecv::select_receiver(($r).__goro_peel())
    };
    (send $s:expr, $v:expr) => {
        (
            $crate::__private::SelectSend::select_sender(($s).__goro_peel()),
            $v,
        )
    };
    (fut $f:expr) => {
        $crate::__private::SelectFuture::select_future($f)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_case {
    (recv $($a:tt)*) => {
        $crate::__private::RecvCase::new($($a)*)
    };
    (send $($a:tt)*) => {{
        let (__goro_tx, __goro_value) = $($a)*;
        $crate::__private::SendCase::new(__goro_tx, __goro_value)
    }};
    (fut $($a:tt)*) => {
        $crate::__private::FutCase::new($($a)*)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_wait {
    () => {
        $crate::__private::Wait::Forever
    };
    ((never) ($body:expr)) => {
        $crate::__private::Wait::Never
    };
    ((until $t:expr) ($body:expr)) => {
        $crate::__private::wait_for($t)
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_default {
    () => {
        ::core::unreachable!("a select without default returned without a case")
    };
    ((never) ($body:expr)) => {
        $body
    };
    ((until $t:expr) ($body:expr)) => {
        $body
    };
}
