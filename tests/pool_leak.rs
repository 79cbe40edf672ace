//! No goroutine is left running after `Pool::wait`. Alone in its test binary: it counts the
//! runtime's goroutines, which tests running alongside it in one process would change.

use std::time::Duration;

use goro::pool::{Pool, Report};

mod support;

use support::eventually;

fn accounted(r: &Report) -> u64 {
    r.completed + r.failed + r.panicked + r.cancelled
}

#[test]
fn no_goroutine_is_left_after_wait() {
    goro::run(|| {
        let base = goro::num_goroutine();
        for fail_fast in [false, true] {
            let mut b = Pool::builder()
                .min_workers(2)
                .max_workers(8)
                .idle_timeout(Duration::from_millis(5));
            if fail_fast {
                b = b.fail_fast();
            }
            let pool = b.build();
            for i in 0..500 {
                let _ = pool.submit(move || {
                    goro::yield_now();
                    if i == 250 {
                        Err("stop")
                    } else {
                        Ok(())
                    }
                });
            }
            let r = pool.wait();
            assert_eq!(accounted(&r), r.submitted);
            eventually("every pool goroutine gone", || {
                goro::num_goroutine() == base
            });
        }
    });
}
