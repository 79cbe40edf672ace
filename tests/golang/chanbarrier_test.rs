//! src/runtime/chanbarrier_test.go, TestChanSendBarrier and TestChanSendSelectBarrier:
//! 100 goroutines each make 100,000 requests; a request spawns a goroutine that sends a
//! boxed error (Go: an `error` interface holding `myError`) back on a fresh unbuffered
//! channel, and the requester checks its type after a `Gosched`. Go runs it to stress the
//! garbage collector's write barriers on channel sends; in goro it stresses spawning,
//! unbuffered hand-off and the teardown of short-lived goroutines, and each result must still
//! arrive intact. In TestChanSendSelectBarrier the responder sends in a 2-case select whose
//! other case receives on a `done` channel nobody closes (Go's `select { case ch <- r: case
//! <-done: }`).

use std::error::Error;
use std::fmt;

use goro::chan;
use goro::sync::WaitGroup;

use crate::support::go_main;

#[derive(Debug)]
struct MyError;

impl fmt::Display for MyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("")
    }
}

impl Error for MyError {}

struct Response;

type Async = Result<Response, Box<dyn Error + Send + Sync>>;

fn do_request(use_select: bool) -> Async {
    let (ch_tx, ch) = chan::bounded::<Box<Async>>(0);
    if use_select {
        let (done_tx, done) = chan::bounded::<()>(0);
        goro::go(move || {
            let r: Box<Async> = Box::new(Err(Box::new(MyError)));
            goro::select! {
                send(ch_tx, r) -> r => {
                    assert!(r.is_ok(), "the requester receives");
                }
                recv(done) -> _r => panic!("done is never ready"),
            }
            drop(done_tx);
        });
    } else {
        goro::go(move || {
            let _ = ch_tx.send(Box::new(Err(Box::new(MyError))));
        });
    }
    let r = ch.recv().expect("the responder goroutine sends");
    goro::yield_now();
    *r
}

const OUTER: usize = 100;
const INNER: usize = 100_000;

fn test_chan_send_barrier_with(use_select: bool) {
    {
        let wg = WaitGroup::new();
        for _ in 0..OUTER {
            wg.go(move || {
                let mut garbage = Vec::new();
                for _ in 0..INNER {
                    match do_request(use_select) {
                        Err(e) => assert!(e.is::<MyError>(), "not a MyError: {e:?}"),
                        Ok(_) => panic!("a response instead of the error"),
                    }
                    // Go's makeByte(): allocate 1 KiB that is garbage at once.
                    garbage = vec![0u8; 1 << 10];
                }
                assert_eq!(garbage.len(), 1 << 10);
            });
        }
        wg.wait();
    }
}

#[test]
fn test_chan_send_barrier() {
    go_main("TestChanSendBarrier", || test_chan_send_barrier_with(false));
}

#[test]
fn test_chan_send_select_barrier() {
    go_main("TestChanSendSelectBarrier", || {
        test_chan_send_barrier_with(true)
    });
}
