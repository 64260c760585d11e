//! Live training for the page (`ziffer train --serve`): what a training run tells the browsers
//! that watch it, as server-sent events on `GET /api/training/events`.
//!
//! What it is: the [`Feed`], which keeps the events worth replaying (every `epoch` and the last
//! `snapshot`, then `done`) for pages opened mid-run and sends every event to the pages that are
//! open; and the [`Reporter`], which the training loop calls from its own thread. The reporter
//! never blocks training: an event is a send into a channel, and a snapshot of the network after
//! each epoch (its first layer's weight images, and the confusion matrix of the test set, which
//! the epoch measured anyway) is made on a thread of its own from a copy of the model.
//! What it is not: the training ([`crate::train`]) or the page's drawing of it (`app.js`).
//!
//! # The events
//!
//! | event | when | data (JSON) |
//! | --- | --- | --- |
//! | `start` | the run begins | `{layers, epochs, images, batches_per_epoch, done_before}` |
//! | `progress` | every [`PROGRESS_EVERY`] in an epoch | `{epoch, lr, batches, batches_per_epoch, running_loss, images_per_second}` |
//! | `epoch` | after every epoch | `{epoch, lr, train_loss, validation_accuracy, test_accuracy, seconds}` |
//! | `snapshot` | soon after every epoch | `{epoch, weights, confusion}` |
//! | `done` | the run has ended | `{epochs, test_accuracy, stopped}` |
//!
//! Accuracies are fractions `0..=1`; `validation_accuracy` and `running_loss` are `null` when
//! there is none (no validation set; an engine that does not read the loss back after each batch).
//! `weights` holds one image per neuron of the first layer, its 784 weights scaled to integers in
//! `-100..=100`; `confusion[true][predicted]` counts the test images.

use crate::data::CLASSES;
use crate::history::{EpochRecord, json_f32};
use crate::metrics::Evaluation;
use crate::model::Model;
use crate::nn::network::Network;
use axum::response::sse;
use futures_util::stream::{self, Stream, StreamExt};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Mutex;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast;

/// How often a `progress` event is sent within an epoch, at most.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// How many events a slow page may fall behind before it misses some (`progress` events only
/// matter when fresh; `epoch` events are few).
const BACKLOG: usize = 256;

/// One server-sent event: its name and its JSON data.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedEvent {
    pub name: &'static str,
    pub data: Value,
}

/// The events of a training run, for every page that watches it.
pub struct Feed {
    /// What a page opened now receives first: `start`, every `epoch`, the last `snapshot`, `done`.
    replay: Mutex<Vec<FeedEvent>>,
    live: broadcast::Sender<FeedEvent>,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            replay: Mutex::new(Vec::new()),
            live: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Feed {
    /// Sends `event` to every open page, and keeps it for the pages opened later if it is worth
    /// replaying.
    pub fn publish(&self, event: FeedEvent) {
        let mut replay = self.replay.lock().expect("the feed's lock");
        match event.name {
            "progress" => {}
            "snapshot" => {
                replay.retain(|e| e.name != "snapshot");
                replay.push(event.clone());
            }
            _ => replay.push(event.clone()),
        }
        // Under the lock, so that a page subscribing now sees each event once: in the replay or
        // live. No page listening is not an error.
        let _ = self.live.send(event);
    }

    /// What a page opened now receives: the events so far, then the live ones.
    pub fn subscribe(&self) -> (Vec<FeedEvent>, broadcast::Receiver<FeedEvent>) {
        let replay = self.replay.lock().expect("the feed's lock");
        (replay.clone(), self.live.subscribe())
    }
}

/// The server-sent events a page opened now receives: the replay, then each live event as it
/// comes, ending after `done`. A page that falls more than the backlog behind skips what it
/// missed.
pub fn event_stream(feed: &Feed) -> impl Stream<Item = Result<sse::Event, Infallible>> + use<> {
    let (replay, live) = feed.subscribe();
    let finished = replay.iter().any(|e| e.name == "done");
    let live = stream::unfold((live, finished), |(mut live, finished)| async move {
        if finished {
            return None;
        }
        loop {
            match live.recv().await {
                Ok(event) => {
                    let finished = event.name == "done";
                    return Some((event, (live, finished)));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    stream::iter(replay).chain(live).map(|event| {
        Ok(sse::Event::default()
            .event(event.name)
            .data(event.data.to_string()))
    })
}

/// A model after an epoch, to be pictured off the training thread, with its confusion matrix on
/// the test set (which the epoch measured anyway).
struct Snapshot {
    epoch: usize,
    model: Model,
    confusion: [[usize; CLASSES]; CLASSES],
}

/// What the training loop calls, from its thread, to tell the pages how it goes.
pub struct Reporter {
    feed: std::sync::Arc<Feed>,
    snapshots: Option<mpsc::Sender<Snapshot>>,
    worker: Option<std::thread::JoinHandle<()>>,
    epoch: usize,
    lr: f32,
    batches_per_epoch: usize,
    batches: usize,
    loss_sum: f64,
    loss_images: usize,
    images_done: usize,
    started: Instant,
    last_progress: Instant,
}

impl Reporter {
    /// A reporter into `feed`; `on_snapshot` is given (on the picturing thread) each epoch's
    /// model after its `snapshot` event is sent, e.g. to serve it.
    pub fn new(
        feed: std::sync::Arc<Feed>,
        on_snapshot: impl Fn(Model) + Send + 'static,
    ) -> Reporter {
        let (send, receive) = mpsc::channel::<Snapshot>();
        let worker_feed = std::sync::Arc::clone(&feed);
        let worker = std::thread::spawn(move || {
            while let Ok(mut snapshot) = receive.recv() {
                // Only the newest matters if training is faster than the pictures.
                while let Ok(newer) = receive.try_recv() {
                    snapshot = newer;
                }
                worker_feed.publish(snapshot_event(&snapshot));
                on_snapshot(snapshot.model);
            }
        });
        let now = Instant::now();
        Reporter {
            feed,
            snapshots: Some(send),
            worker: Some(worker),
            epoch: 0,
            lr: 0.0,
            batches_per_epoch: 0,
            batches: 0,
            loss_sum: 0.0,
            loss_images: 0,
            images_done: 0,
            started: now,
            last_progress: now,
        }
    }

    /// The run begins: `epochs` to train after `done_before`, on `images` training images.
    pub fn start(&self, network: &Network, epochs: usize, done_before: usize, images: usize) {
        self.feed.publish(FeedEvent {
            name: "start",
            data: json!({
                "layers": network.sizes(),
                "epochs": epochs,
                "done_before": done_before,
                "images": images,
            }),
        });
    }

    /// An epoch begins.
    pub fn epoch_start(&mut self, epoch: usize, lr: f32, batches: usize) {
        self.epoch = epoch;
        self.lr = lr;
        self.batches_per_epoch = batches;
        self.batches = 0;
        self.loss_sum = 0.0;
        self.loss_images = 0;
        self.images_done = 0;
        self.started = Instant::now();
        self.last_progress = self.started;
    }

    /// A batch was trained: `images_done` of the epoch so far, and its loss if the engine read
    /// it back.
    pub fn batch(&mut self, images_done: usize, loss: Option<f32>) {
        let images = images_done - self.images_done;
        self.images_done = images_done;
        self.batches += 1;
        if let Some(loss) = loss {
            self.loss_sum += f64::from(loss) * images as f64;
            self.loss_images += images;
        }
        let now = Instant::now();
        if now.duration_since(self.last_progress) < PROGRESS_EVERY {
            return;
        }
        self.last_progress = now;
        let seconds = now.duration_since(self.started).as_secs_f64();
        let running_loss = (self.loss_images > 0).then(|| self.loss_sum / self.loss_images as f64);
        self.feed.publish(FeedEvent {
            name: "progress",
            data: json!({
                "epoch": self.epoch,
                "lr": json_f32(self.lr),
                "batches": self.batches,
                "batches_per_epoch": self.batches_per_epoch,
                "running_loss": running_loss,
                "images_per_second": images_done as f64 / seconds.max(1e-9),
            }),
        });
    }

    /// An epoch ended with `record`; `model` is its result and `test` its evaluation on the test
    /// set.
    pub fn epoch_end(&mut self, record: &EpochRecord, model: &Model, test: &Evaluation) {
        self.feed.publish(FeedEvent {
            name: "epoch",
            data: epoch_json(record),
        });
        if let Some(snapshots) = &self.snapshots {
            let _ = snapshots.send(Snapshot {
                epoch: record.epoch,
                model: model.clone(),
                confusion: test.confusion,
            });
        }
    }

    /// The run has ended, after `epochs` epochs in all, with `test_accuracy`; `stopped` says why
    /// it ended before its last epoch, if it did (`"early"`, `"interrupted"`, `"diverged"`,
    /// `"failed"`). Waits for the last snapshot, so that `done` comes after it.
    pub fn done(mut self, epochs: usize, test_accuracy: Option<f64>, stopped: Option<&str>) {
        self.snapshots = None;
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        self.feed.publish(FeedEvent {
            name: "done",
            data: json!({
                "epochs": epochs,
                "test_accuracy": test_accuracy,
                "stopped": stopped,
            }),
        });
    }
}

/// An epoch's record as the `epoch` event sends it.
pub fn epoch_json(record: &EpochRecord) -> Value {
    json!({
        "epoch": record.epoch,
        "lr": json_f32(record.lr),
        "train_loss": json_f32(record.train_loss),
        "validation_accuracy": record.validation_accuracy,
        "test_accuracy": record.test_accuracy,
        "seconds": record.seconds,
    })
}

/// The `snapshot` event of a network: its first layer's weight images and its confusion matrix.
fn snapshot_event(snapshot: &Snapshot) -> FeedEvent {
    let network = &snapshot.model.network;
    let first = &network.layers()[0];
    let weights: Vec<Vec<i8>> = first
        .weight
        .chunks(first.inputs)
        .map(super::quantise)
        .collect();
    FeedEvent {
        name: "snapshot",
        data: json!({
            "epoch": snapshot.epoch,
            "weights": weights,
            "confusion": snapshot.confusion,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn event(name: &'static str, n: usize) -> FeedEvent {
        FeedEvent {
            name,
            data: json!({ "n": n }),
        }
    }

    #[test]
    fn a_page_opened_late_gets_every_epoch_and_only_the_last_snapshot() {
        let feed = Feed::default();
        feed.publish(event("start", 0));
        for n in 1..=3 {
            feed.publish(event("progress", n));
            feed.publish(event("epoch", n));
            feed.publish(event("snapshot", n));
        }
        let (replay, _) = feed.subscribe();
        let names: Vec<_> = replay
            .iter()
            .map(|e| (e.name, e.data["n"].clone()))
            .collect();
        assert_eq!(
            names,
            [
                ("start", json!(0)),
                ("epoch", json!(1)),
                ("epoch", json!(2)),
                ("epoch", json!(3)),
                ("snapshot", json!(3)),
            ]
        );
        assert!(replay.iter().all(|e| e.name != "done"));
    }

    #[test]
    fn a_page_already_open_gets_every_event_live_once() {
        let feed = Feed::default();
        feed.publish(event("epoch", 1));
        let (replay, mut live) = feed.subscribe();
        feed.publish(event("progress", 2));
        feed.publish(event("done", 3));
        assert_eq!(replay, [event("epoch", 1)]);
        assert_eq!(live.try_recv().unwrap(), event("progress", 2));
        assert_eq!(live.try_recv().unwrap(), event("done", 3));
        assert!(live.try_recv().is_err());
        let (replay, _) = feed.subscribe();
        assert_eq!(replay.last().map(|e| e.name), Some("done"));
    }

    #[test]
    fn the_reporter_sends_epochs_then_their_snapshots_then_done() {
        let feed = Arc::new(Feed::default());
        let model = Model::new(&crate::settings::TrainConfig {
            layers: vec![784, 8, 10],
            ..Default::default()
        })
        .unwrap();
        let network = &model.network;
        let served = Arc::new(Mutex::new(0));
        let count = Arc::clone(&served);
        let mut reporter = Reporter::new(Arc::clone(&feed), move |_| {
            *count.lock().unwrap() += 1;
        });
        reporter.start(network, 2, 0, 1000);
        for epoch in 1..=2 {
            reporter.epoch_start(epoch, 0.5, 10);
            for b in 1..=10 {
                reporter.batch(b * 100, Some(0.25));
            }
            let record = EpochRecord {
                epoch,
                lr: 0.5,
                train_loss: 0.25,
                validation_accuracy: None,
                test_accuracy: 0.5,
                seconds: 1.0,
            };
            let mut test = Evaluation {
                confusion: [[0; CLASSES]; CLASSES],
            };
            test.confusion[3][3] = 60;
            test.confusion[3][5] = 40;
            reporter.epoch_end(&record, &model, &test);
        }
        reporter.done(2, Some(0.5), None);
        let (replay, _) = feed.subscribe();
        let names: Vec<_> = replay.iter().map(|e| e.name).collect();
        assert_eq!(names.first(), Some(&"start"));
        assert_eq!(names.iter().filter(|&&n| n == "epoch").count(), 2);
        assert_eq!(names.last(), Some(&"done"));
        let snapshot = replay.iter().find(|e| e.name == "snapshot").unwrap();
        assert_eq!(snapshot.data["weights"].as_array().unwrap().len(), 8);
        assert_eq!(snapshot.data["weights"][0].as_array().unwrap().len(), 784);
        let confusion = snapshot.data["confusion"].as_array().unwrap();
        let total: u64 = confusion
            .iter()
            .flat_map(|row| row.as_array().unwrap())
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(total, 100);
        assert!(*served.lock().unwrap() >= 1);
        let epoch = replay.iter().find(|e| e.name == "epoch").unwrap();
        assert_eq!(epoch.data["validation_accuracy"], Value::Null);
        assert_eq!(epoch.data["lr"], json!(0.5));
    }
}
