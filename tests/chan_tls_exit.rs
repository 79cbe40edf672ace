//! A blocking channel operation in a thread-local's destructor, as the thread exits (after
//! goro's own thread-locals are gone), works and does not panic (crossbeam-channel's
//! `thread_locals` test).

use std::time::Duration;

use goro::chan;

#[test]
fn a_select_in_a_thread_local_destructor_works() {
    struct Foo;

    impl Drop for Foo {
        fn drop(&mut self) {
            let (_s, r) = chan::unbounded::<()>();
            goro::select! {
                recv(r) -> _ => panic!("nothing was sent"),
                default(Duration::from_millis(20)) => {}
            }
            let (s, r) = chan::bounded::<u8>(1);
            s.send(1).unwrap();
            assert_eq!(r.recv(), Ok(1));
        }
    }

    thread_local! {
        static FOO: Foo = const { Foo };
    }

    let (s, r) = chan::unbounded::<()>();
    let t = std::thread::spawn(move || {
        FOO.with(|_| ());
        // goro's thread-locals are made after FOO's, so they are destroyed before it.
        r.recv().unwrap();
    });
    std::thread::sleep(Duration::from_millis(20));
    s.send(()).unwrap();
    t.join().unwrap();
}
