//! The ledger and the admission of jobs, without a GPU: charges are plain numbers. Each
//! test uses a GPU ordinal of its own, since the ledger is process-wide.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use super::*;

#[test]
fn charges_count_by_use_until_dropped_and_delivered_is_apart() {
    let gpu = 3;
    let a = charge(gpu, MemoryUse::Frames, 100);
    let mut b = charge(gpu, MemoryUse::Transforms, 50);
    let u = usage(gpu);
    assert_eq!((u.in_use, u.delivered), (150, 0));
    b.move_to(MemoryUse::Delivered);
    let u = usage(gpu);
    assert_eq!((u.in_use, u.delivered), (100, 50));
    assert!(u.by_use.contains(&(MemoryUse::Delivered, 50)));
    drop(a);
    drop(b);
    let u = usage(gpu);
    assert_eq!((u.in_use, u.delivered, u.peak, u.peak_with_delivered), (0, 0, 150, 150));
    reset_peak(gpu);
    assert_eq!(usage(gpu).peak, 0);
}

#[test]
fn a_job_alone_is_admitted_whatever_it_asks() {
    let job = admit(4, 10 << 30, Some(1 << 20), &mut || false).expect("admitted");
    let _in = job.enter();
    let c = charge(4, MemoryUse::Frames, 5 << 20);
    assert_eq!(job.used(), 5 << 20);
    drop(c);
    assert_eq!(job.peak(), 5 << 20);
    assert_eq!(job.used(), 0);
}

#[test]
fn jobs_wait_while_what_is_held_and_promised_passes_the_budget() {
    let gpu = 5;
    let budget = Some(1000);
    // The first job reserves 600 and takes 100 of it: 500 more are promised to it.
    let first = admit(gpu, 600, budget, &mut || false).unwrap();
    let held = {
        let _in = first.enter();
        charge(gpu, MemoryUse::Frames, 100)
    };
    // A second of 500 would make 100 + 500 + 500 > 1000: it waits until the first ends.
    let admitted = Arc::new(AtomicBool::new(false));
    let t = {
        let admitted = admitted.clone();
        std::thread::spawn(move || {
            let job = admit(gpu, 500, budget, &mut || false).unwrap();
            admitted.store(true, Ordering::SeqCst);
            drop(job);
        })
    };
    std::thread::sleep(Duration::from_millis(150));
    assert!(!admitted.load(Ordering::SeqCst), "admitted past the budget");
    drop(first);
    drop(held);
    t.join().unwrap();
    assert!(admitted.load(Ordering::SeqCst));
    assert!(usage(gpu).waits >= 1);
}

#[test]
fn jobs_that_fit_run_together_and_a_stop_ends_a_wait() {
    let gpu = 6;
    let budget = Some(1000);
    let a = admit(gpu, 400, budget, &mut || false).unwrap();
    let b = admit(gpu, 400, budget, &mut || false).unwrap();
    // 800 promised: a third of 400 does not fit, and a stop ends its wait.
    let asked = AtomicUsize::new(0);
    let mut stop = || asked.fetch_add(1, Ordering::SeqCst) >= 2;
    assert!(admit(gpu, 400, budget, &mut stop).is_none());
    // A budget of 0 is none: admitted beside them at once.
    assert!(admit(gpu, 400, Some(0), &mut || true).is_some());
    drop((a, b));
    assert!(admit(gpu, 400, budget, &mut || false).is_some());
}

#[test]
fn eight_threads_under_a_budget_never_hold_more_than_it_past_the_oldest_job() {
    let gpu = 7;
    let budget = 1000u64;
    let peak = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(8));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (peak, start) = (peak.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..20 {
                    let job = admit(gpu, 300, Some(budget), &mut || false).unwrap();
                    let _in = job.enter();
                    let held: Vec<Charge> = (0..3).map(|_| charge(gpu, MemoryUse::Frames, 100)).collect();
                    peak.fetch_max(usage(gpu).in_use, Ordering::SeqCst);
                    drop(held);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert!(peak.load(Ordering::SeqCst) <= budget, "peak {}", peak.load(Ordering::SeqCst));
    assert_eq!(usage(gpu).in_use, 0);
}

#[test]
fn byte_counts_read_as_people_write_them() {
    use crate::env::parse_bytes;
    assert_eq!(parse_bytes("8G"), Some(8 << 30));
    assert_eq!(parse_bytes("512MiB"), Some(512 << 20));
    assert_eq!(parse_bytes("1.5g"), Some(3 << 29));
    assert_eq!(parse_bytes("4096"), Some(4096));
    assert_eq!(parse_bytes("none"), Some(0));
    assert_eq!(parse_bytes("2T"), Some(2 << 40));
    assert_eq!(parse_bytes("lots"), None);
    assert_eq!(parse_bytes("-1G"), None);
}

static RECLAIMED: AtomicUsize = AtomicUsize::new(0);

fn count_reclaim(device: u32) {
    if device == 8 {
        RECLAIMED.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_job_that_finds_no_room_has_memory_kept_for_reuse_let_go_first() {
    add_reclaimer(count_reclaim);
    add_reclaimer(count_reclaim);
    let held = admit(8, 900, Some(1000), &mut || false).unwrap();
    let before = RECLAIMED.load(Ordering::SeqCst);
    let asked = AtomicUsize::new(0);
    let mut stop = || asked.fetch_add(1, Ordering::SeqCst) >= 1;
    assert!(admit(8, 500, Some(1000), &mut stop).is_none());
    // Asked before the wait (once per wait; registered twice, it is kept once, though
    // function addresses are not guaranteed unique, so only "asked" is pinned).
    assert!(RECLAIMED.load(Ordering::SeqCst) > before);
    drop(held);
}

#[test]
fn would_admit_now_reads_the_room_admit_would_find() {
    let gpu = 13;
    let budget = Some(1000);
    // Nothing in flight: any job, however large; no budget: always.
    assert!(would_admit_now(gpu, 5000, budget));
    assert!(would_admit_now(gpu, 5000, Some(0)));
    // One job of 600 in flight: 400 are left beside it.
    let first = admit(gpu, 600, budget, &mut || false).unwrap();
    assert!(would_admit_now(gpu, 400, budget));
    assert!(!would_admit_now(gpu, 401, budget));
    assert!(would_admit_now(gpu, 401, Some(0)));
    // The answer and admit agree: a job of 401 would wait.
    let waited = Arc::new(AtomicBool::new(false));
    let t = {
        let waited = waited.clone();
        std::thread::spawn(move || {
            let mut asked = 0;
            let job = admit(gpu, 401, budget, &mut || {
                asked += 1;
                waited.store(true, Ordering::SeqCst);
                false
            });
            drop(job);
            asked
        })
    };
    std::thread::sleep(Duration::from_millis(150));
    // A job queued before it: nothing else goes first.
    assert!(!would_admit_now(gpu, 1, budget));
    drop(first);
    assert!(t.join().unwrap() > 0);
    assert!(waited.load(Ordering::SeqCst));
    assert!(would_admit_now(gpu, 1000, budget));
}
