//! src/context/context_test.go, the internal tests (TestParentFinishesChild,
//! TestChildFinishesFirst), which look at a parent's set of children: goro exposes that count
//! as the hidden `goro::__private::context_registered`. The XTest* cases of older revisions are in
//! `context_x_test.rs`.

use std::time::Duration;

use goro::context::{self, Context, ContextError, Key};

use crate::support::go_main;

fn is_done(ctx: &Context) -> bool {
    ctx.done().is_closed()
}

/// TestParentFinishesChild: parent → cancel child, parent → value child → timer child. The
/// parent tracks exactly its two cancellable descendants; cancelling it empties that set
/// and ends all four with `Canceled`; a value context made on the cancelled parent is done
/// at once.
#[test]
fn test_parent_finishes_child() {
    go_main("TestParentFinishesChild", || {
        static K: Key<&str> = Key::new("key");
        let (parent, cancel) = context::background().with_cancel();
        let (cancel_child, _cancel_child) = parent.with_cancel();
        let value_child = parent.with_value(&K, "value");
        let (timer_child, _cancel_timer) = value_child.with_timeout(Duration::from_secs(3600));
        assert_eq!(
            goro::__private::context_registered(&parent),
            2,
            "parent tracks both cancellable descendants"
        );
        assert_eq!(
            goro::__private::context_registered(&value_child),
            2,
            "a value context shares its parent's set"
        );

        let all = [&parent, &cancel_child, &value_child, &timer_child];
        for c in all {
            assert!(!is_done(c), "{c:?} done before the cancel");
        }
        cancel();
        assert_eq!(
            goro::__private::context_registered(&parent),
            0,
            "the cancel empties the set"
        );
        for c in all {
            assert!(is_done(c), "{c:?} not done after the parent's cancel");
            assert_eq!(c.err(), Some(ContextError::Canceled), "{c:?}");
        }
        let late = parent.with_value(&K, "late");
        assert!(is_done(&late));
        assert_eq!(late.err(), Some(ContextError::Canceled));
    });
}

/// TestChildFinishesFirst: for a parent that is `background` or cancellable, cancelling the
/// child removes it from the parent and leaves the parent live.
#[test]
fn test_child_finishes_first() {
    go_main("TestChildFinishesFirst", || {
        let (cancellable, _cancel) = context::background().with_cancel();
        // `background` can never end, so it keeps no set of children at all.
        for (parent, tracked) in [(context::background(), 0), (cancellable, 1)] {
            let (child, cancel_child) = parent.with_cancel();
            assert_eq!(
                goro::__private::context_registered(&parent),
                tracked,
                "{parent:?}"
            );
            cancel_child();
            assert_eq!(
                goro::__private::context_registered(&parent),
                0,
                "{parent:?}: the child is removed"
            );
            assert!(is_done(&child));
            assert_eq!(child.err(), Some(ContextError::Canceled));
            assert!(
                !is_done(&parent),
                "{parent:?}: a child's cancel reached its parent"
            );
            assert_eq!(parent.err(), None);
        }
    });
}
