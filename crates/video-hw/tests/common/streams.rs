//! Feeding an async sink and draining an async stream, the way every async test does it
//! (the sessions' and the pipelines' handles, host or NVDEC). Included by the async test
//! files (`#[path = "common/streams.rs"] mod streams;`), not by `common`: the CLI's tests
//! share `common` and have neither `futures` nor `tokio`.
#![allow(dead_code)]

use futures::{FutureExt, Sink, SinkExt, Stream, StreamExt};

/// Sends every item into `sink`, then closes it; panics on an error.
pub async fn feed<I, S: Sink<I, Error = video_hw::Error> + Unpin>(mut sink: S, items: Vec<I>) {
    for item in items {
        sink.send(item).await.unwrap();
    }
    sink.close().await.unwrap();
}

/// Feeds `items` into `sink` while taking everything `stream` gives, on the one task (any
/// executor); returns what `each` makes of every item taken (errors panic).
pub async fn feed_and_take<I, O, R, S, T>(sink: S, stream: T, items: Vec<I>, each: impl FnMut(O) -> R) -> Vec<R>
where
    S: Sink<I, Error = video_hw::Error> + Unpin,
    T: Stream<Item = video_hw::Result<O>> + Unpin,
{
    let mut each = each;
    let take = stream.map(|item| each(item.unwrap())).collect::<Vec<_>>();
    futures::future::join(feed(sink, items), take).await.1
}

/// [`feed_and_take`] with the feeding on a tokio task of its own, so that on a
/// multi-thread runtime feeding and taking run on two threads.
pub async fn feed_on_a_task_and_take<I, O, R, S, T>(
    sink: S,
    stream: T,
    items: Vec<I>,
    each: impl FnMut(O) -> R,
) -> Vec<R>
where
    I: Send + 'static,
    S: Sink<I, Error = video_hw::Error> + Unpin + Send + 'static,
    T: Stream<Item = video_hw::Result<O>> + Unpin,
{
    let mut each = each;
    let feeder = tokio::spawn(feed(sink, items));
    let got = stream.map(|item| each(item.unwrap())).collect::<Vec<_>>().await;
    feeder.await.unwrap();
    got
}

/// Offers `items` to `sink` in order without waiting, while it is ready: the index of the
/// first item it would not take (`None`: it took them all).
pub fn fill_until_pending<I: Clone, S: Sink<I, Error = video_hw::Error> + Unpin>(
    sink: &mut S,
    items: &[I],
) -> Option<usize> {
    for (i, item) in items.iter().enumerate() {
        let ready = futures::future::poll_fn(|cx| std::pin::Pin::new(&mut *sink).poll_ready(cx)).now_or_never();
        if ready.is_none() {
            return Some(i);
        }
        std::pin::Pin::new(&mut *sink).start_send(item.clone()).unwrap();
    }
    None
}

/// A frame's MD5 (of its packed pixels), for `each`.
pub fn md5_of(frame: video_hw::Frame) -> String {
    crate::common::frame_md5(&frame).1
}
