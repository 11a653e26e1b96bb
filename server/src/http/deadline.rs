//! A total deadline for request bodies.
//!
//! tower-http's body timeout restarts with every frame, so a client sending a byte every few
//! seconds holds its connection (and a handler waiting on the body) for as long as it likes.
//! Here the clock starts when the request head has arrived and the body must be complete
//! within the deadline, however it trickles in.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use hyper::body::{Body as HttpBody, Frame, SizeHint};

#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
struct TooSlow(Duration);

/// The body, failing once `deadline` has passed.
struct WithDeadline {
    inner: Body,
    limit: Duration,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl HttpBody for WithDeadline {
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame.map(|f| f.map_err(Into::into)));
        }
        match self.deadline.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(TooSlow(self.limit).into()))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

pub async fn body_deadline(State(limit): State<Duration>, req: Request, next: Next) -> Response {
    let req = req.map(|inner| {
        if inner.is_end_stream() {
            return inner;
        }
        Body::new(WithDeadline {
            inner,
            limit,
            deadline: Box::pin(tokio::time::sleep(limit)),
        })
    });
    next.run(req).await
}
