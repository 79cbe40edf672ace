//! The tree behind a [`Context`]: one `Node` per context, and how children are made and
//! registered in the nearest cancellable ancestor (their *scope*).

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use super::cancel::{cancel, Canceller, Entry};
use super::{CancelFn, Cause, Context, ContextError};

/// One context in the tree.
pub(super) struct Node {
    /// The context this one was derived from (`None` for the roots): values are looked up
    /// along this chain.
    pub(super) parent: Option<Context>,
    /// For a cancellable node, the parent's scope: the node it is registered in. For any
    /// other node, its own scope: the nearest cancellable ancestor, whose `done`, `err` and
    /// `cause` it reports. `None` below `background`, `todo` and `without_cancel`.
    pub(super) scope: Option<Arc<Node>>,
    /// The earliest deadline of this node and its ancestors up to the nearest
    /// `without_cancel`.
    pub(super) deadline: Option<Instant>,
    pub(super) kind: Kind,
}

pub(super) enum Kind {
    Background,
    Todo,
    Cancel {
        canceller: Canceller,
        /// `WithCancel`, `WithDeadline`, ...: for `Debug`.
        label: &'static str,
    },
    Value {
        key: u64,
        name: &'static str,
        value: Box<dyn Any + Send + Sync>,
    },
    WithoutCancel,
}

impl Node {
    pub(super) fn canceller(&self) -> Option<&Canceller> {
        match &self.kind {
            Kind::Cancel { canceller, .. } => Some(canceller),
            _ => None,
        }
    }

    /// The node a cancellable node is registered in (see `scope`).
    pub(super) fn parent_scope(&self) -> Option<&Arc<Node>> {
        self.scope.as_ref()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        // Drop the chain of ancestors that die with this node in a loop: the recursion the
        // compiler would generate could overflow a goroutine's stack on a long chain. A
        // node's `scope` is one of its ancestors, so it is released first, while the
        // `parent` link still keeps that ancestor alive: otherwise the walk up would stop
        // at the scope (still referenced) and the scope would then be freed recursively.
        drop(self.scope.take());
        let mut next = self.parent.take();
        while let Some(ctx) = next {
            next = match Arc::into_inner(ctx.node) {
                Some(mut node) => {
                    drop(node.scope.take());
                    node.parent.take()
                }
                None => None,
            };
        }
    }
}

/// A root context (`background`, `todo`).
pub(super) fn root(kind: Kind) -> Context {
    Context {
        node: Arc::new(Node {
            parent: None,
            scope: None,
            deadline: None,
            kind,
        }),
    }
}

impl Context {
    /// A new cancellable child with `deadline`, registered in this context's scope (and
    /// cancelled at once if that scope has ended).
    pub(super) fn child(&self, label: &'static str, deadline: Option<Instant>) -> Arc<Node> {
        let node = Arc::new(Node {
            parent: Some(self.clone()),
            scope: self.scope().cloned(),
            deadline,
            kind: Kind::Cancel {
                canceller: Canceller::new(),
                label,
            },
        });
        if let (Some(parent), Some(me)) = (
            node.scope.as_ref().and_then(|s| s.canceller()),
            node.canceller(),
        ) {
            if let Err(done) = parent.attach(me.key(), Entry::Child(Arc::clone(&node))) {
                drop(done.entry);
                cancel(&node, done.err, done.cause, false);
            }
        }
        node
    }

    pub(super) fn deadline_child(
        &self,
        deadline: Instant,
        cause: Option<Cause>,
    ) -> (Context, CancelFn) {
        if self.node.deadline.is_some_and(|cur| cur < deadline) {
            // The parent ends first anyway: no timer needed.
            return self.with_cancel();
        }
        let node = self.child("WithDeadline", Some(deadline));
        let cancel_fn = cancel_fn(&node);
        let now = Instant::now();
        if deadline <= now {
            cancel(&node, ContextError::DeadlineExceeded, cause, true);
        } else if let Some(c) = node.canceller() {
            c.set_timer(|| {
                let slot = Arc::new(Mutex::new(Some(Arc::clone(&node))));
                let target = Arc::clone(&slot);
                let timer = crate::time::after_func(deadline - now, move || {
                    let node = target.lock().unwrap_or_else(|e| e.into_inner()).take();
                    if let Some(node) = node {
                        cancel(&node, ContextError::DeadlineExceeded, cause.clone(), true);
                    }
                });
                (timer, slot)
            });
        }
        (Context { node }, cancel_fn)
    }
}

pub(super) fn cancel_fn(node: &Arc<Node>) -> CancelFn {
    let target = Arc::clone(node);
    CancelFn::new(move || cancel(&target, ContextError::Canceled, None, true))
}

/// How many children and `after_func` callbacks are registered in `ctx`'s scope, for tests
/// of the detaching of finished children (in `__private`).
pub fn registered(ctx: &Context) -> usize {
    ctx.scope()
        .and_then(|n| n.canceller())
        .map_or(0, Canceller::registered)
}
