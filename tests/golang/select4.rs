//! test/chan/select4.go: the receive targets of non-chosen cases are not evaluated. Go's
//! `select { case *f() = <-c1: case x.a = <-c: }` with c1 never ready and c holding 42: f must
//! not be called and x.a must be 42. Here the targets are the arm bodies: only the chosen
//! arm runs.

use goro::chan;

use crate::support::go_main;

struct X {
    a: i32,
}

#[test]
fn select4_only_chosen_receive_target_evaluated() {
    go_main("select4", || {
        let (tx, c) = chan::bounded::<i32>(1);
        tx.send(42).unwrap();
        let (_tx1, c1) = chan::bounded::<i32>(0);
        let mut f_called = false;
        let mut dummy = 0;
        let mut x = X { a: 0 };
        goro::select! {
            recv(c1) -> v => {
                // *f() = <-c1
                f_called = true;
                dummy = v.unwrap();
            }
            recv(c) -> v => x.a = v.unwrap(),
        }
        assert!(!f_called, "f was called");
        assert_eq!(dummy, 0);
        assert_eq!(x.a, 42);
    });
}
