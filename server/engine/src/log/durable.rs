//! SQLite's commits made durable beside the writer: the WAL is synced on a thread of its own while the writer goes on with its next batch, and each batch is answered and handed out only once the sync that covers it has returned.
//!
//! The writer commits without waiting for the disk (`synchronous = NORMAL`: a commit is
//! then safe from a crash of the process, not yet from a power cut) and queues what
//! finishes the batch. This thread syncs the WAL once for every batch queued meanwhile
//! (group commit), then finishes them in order: an acknowledged event is on the disk, as
//! with `synchronous = FULL`, but the writer's next batch no longer waits for the disk.
//! Until its sync, a committed batch is readable by the database's other connections
//! (history, search): a power cut in those few milliseconds loses a batch nobody was
//! told was stored, and whose senders still hold it to send again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// What finishes one committed batch: announce it, hand it out, answer its requests.
pub(crate) type Finish = Box<dyn FnOnce() + Send>;

/// Makes the WAL durable: `fdatasync` on the file, or an error.
pub(crate) type SyncWal = Box<dyn FnMut() -> std::io::Result<()> + Send>;

/// The writer's end: queues each committed batch's finish for after the next sync.
pub(crate) struct Syncer {
    queue: std::sync::mpsc::Sender<Finish>,
    queued: Arc<AtomicU64>,
}

/// Whether every batch queued so far has been finished (see [`Settled::wait`]).
#[derive(Clone)]
pub(crate) struct Settled {
    queued: Arc<AtomicU64>,
    finished: watch::Receiver<u64>,
}

impl Syncer {
    /// Starts the thread that runs `sync` and then the finishes it covers.
    pub(crate) fn start(mut sync: SyncWal) -> std::io::Result<(Self, Settled)> {
        let (queue, queued_finishes) = std::sync::mpsc::channel::<Finish>();
        let (finished_tx, finished) = watch::channel(0u64);
        std::thread::Builder::new()
            .name("parley-wal-sync".into())
            .spawn(move || {
                while let Ok(first) = queued_finishes.recv() {
                    let mut batches = vec![first];
                    batches.extend(queued_finishes.try_iter());
                    if let Err(e) = sync() {
                        // After a failed fsync the kernel may have dropped the pages it could not
                        // write: what the database holds is unknown, and no answer may say it is
                        // stored. Only a restart from the file as it is on the disk is safe (as
                        // PostgreSQL does).
                        tracing::error!(error = %e, "syncing the WAL to the disk failed: stopping");
                        std::process::abort();
                    }
                    let count = batches.len() as u64;
                    for finish in batches {
                        finish();
                    }
                    finished_tx.send_modify(|finished| *finished += count);
                }
            })?;
        let queued = Arc::new(AtomicU64::new(0));
        Ok((
            Self {
                queue,
                queued: queued.clone(),
            },
            Settled { queued, finished },
        ))
    }

    /// Queues a committed batch's finish for after the next sync. Called in the write turn.
    pub(crate) fn after_sync(&self, finish: Finish) {
        self.queued.fetch_add(1, Ordering::AcqRel);
        if let Err(unsent) = self.queue.send(finish) {
            // The thread is gone only when the process is stopping: nothing is answered.
            drop(unsent);
        }
    }
}

impl Settled {
    /// Waits until every batch queued so far is finished. Whoever holds the write turn
    /// and waits here sees every batch the writer committed announced and handed out.
    pub(crate) async fn wait(&self) {
        let target = self.queued.load(Ordering::Acquire);
        let mut finished = self.finished.clone();
        let _ = finished.wait_for(|finished| *finished >= target).await;
    }
}

/// Syncs the file at `path` (the WAL) to the disk: opened for each sync, so a WAL that
/// SQLite recreated is the one synced. The first time a file is synced (a WAL created when
/// the server started, or since), its folder is synced too, or a power cut could lose the
/// file's name and so the whole file: SQLite does the same on a new WAL's first sync, which
/// with `synchronous = NORMAL` would wait for the first checkpoint.
pub(crate) fn sync_file(path: std::path::PathBuf) -> SyncWal {
    let mut synced: Option<u64> = None;
    Box::new(move || {
        let file = std::fs::File::open(&path)?;
        file.sync_data()?;
        let inode = std::os::unix::fs::MetadataExt::ino(&file.metadata()?);
        if synced != Some(inode) {
            if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::File::open(folder)?.sync_all()?;
            }
            synced = Some(inode);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    /// A sync that returns only when the test lets it.
    fn held_sync() -> (SyncWal, std::sync::mpsc::Sender<()>, Arc<AtomicU64>) {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let released = Mutex::new(released);
        let syncs = Arc::new(AtomicU64::new(0));
        let counted = syncs.clone();
        let sync: SyncWal = Box::new(move || {
            let _ = released.lock().map(|r| r.recv());
            counted.fetch_add(1, Ordering::AcqRel);
            Ok(())
        });
        (sync, release, syncs)
    }

    #[tokio::test]
    async fn a_batch_is_finished_only_after_the_sync_that_covers_it() {
        let (sync, release, syncs) = held_sync();
        let (syncer, settled) = Syncer::start(sync).expect("thread");
        let (done_tx, mut done) = tokio::sync::mpsc::unbounded_channel::<u32>();
        for batch in 0..3 {
            let done_tx = done_tx.clone();
            syncer.after_sync(Box::new(move || {
                let _ = done_tx.send(batch);
            }));
        }
        // The first sync is held: nothing is finished, and the turn is not settled.
        assert!(
            tokio::time::timeout(Duration::from_millis(150), done.recv())
                .await
                .is_err()
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(50), settled.wait())
                .await
                .is_err()
        );
        // Each sync covers what was queued before it began: at most two syncs for three.
        release.send(()).expect("release");
        release.send(()).expect("release");
        let mut order = Vec::new();
        for _ in 0..3 {
            order.push(
                tokio::time::timeout(Duration::from_secs(5), done.recv())
                    .await
                    .expect("finished"),
            );
        }
        assert_eq!(order, vec![Some(0), Some(1), Some(2)]);
        tokio::time::timeout(Duration::from_secs(5), settled.wait())
            .await
            .expect("settled");
        assert!(syncs.load(Ordering::Acquire) <= 2);
    }

    #[test]
    fn a_file_and_its_folder_are_synced() {
        let dir = std::env::temp_dir().join(format!("parley-durable-ok-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("folder");
        let wal = dir.join("db-wal");
        std::fs::write(&wal, b"frames").expect("file");
        let mut sync = sync_file(wal.clone());
        assert!(sync().is_ok());
        assert!(sync().is_ok());
        // The file gone: the next sync says so, and never reports it stored.
        std::fs::remove_file(&wal).expect("remove");
        assert!(sync().is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_sync_of_a_missing_file_is_an_error() {
        let dir = std::env::temp_dir().join(format!("parley-durable-{}", std::process::id()));
        let mut sync = sync_file(dir.join("none-wal"));
        assert!(sync().is_err());
    }
}
