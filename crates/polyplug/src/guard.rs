//! Read-side critical sections for guarded calls, and the writer's wait for them.
//!
//! A guarded call marks its thread as *inside a call* for the duration of the call; an unload
//! or reload first unpublishes the old provider, then [`synchronize`]s: it waits until every
//! thread that might still see the old provider has left its critical section. Only then are
//! the old interface and library released.
//!
//! The reader's cost is what makes this path worth having: entering is one thread-local load,
//! a load and a store of a word only this thread writes, a test of a flag beside it, and (on
//! Linux) no fence at all; leaving is a load and a store. The fence the
//! reader would need (its store must be visible before it reads the provider) is supplied by
//! the writer instead, with the `membarrier(2)` system call, which runs a full barrier on
//! every thread of the process (the "asymmetric fence" technique of userspace RCU). Where
//! `membarrier` is missing (other systems, or valgrind, which does not emulate it) readers fall
//! back to a `SeqCst` fence, so the protocol is correct either way.
//!
//! Every thread that ever made a guarded call owns one [`Reader`] record on a global,
//! append-only list; records are recycled when threads exit. A record's one word holds the
//! thread's nesting depth (a plugin calling a plugin nests) in its low half and the number of
//! outermost calls it has entered in its high half: a writer that saw a thread inside waits
//! until the depth is zero or that count moves (the call it saw has ended, and any new one
//! started after the writer unpublished). Counting entries rather than exits makes leaving the
//! same decrement at any depth, and entering branch-free.

use std::cell::Cell;
use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// One thread's read-side state. Aligned to two cache lines so that threads' records never
/// share one (the adjacent-line prefetcher pairs lines).
#[repr(align(128))]
struct Reader {
    /// Nesting depth (low 32 bits) and outermost calls entered (high 32 bits, wrapping);
    /// written only by the owning thread. See [`depth`] and [`entered`].
    word: AtomicU64,
    /// The owner fences for itself on entry: `membarrier` is unavailable. A copy of the
    /// process's mode, kept here so the hot path tests a byte on the line it has just written
    /// instead of loading a global.
    fence: AtomicBool,
    /// Owned by a live thread.
    in_use: AtomicBool,
    /// Next record on the global list (never changes once published).
    next: *const Reader,
}

// SAFETY: `next` points to another leaked, immutable-link record; the rest is atomics.
unsafe impl Sync for Reader {}

/// Head of the append-only list of every reader record ever made.
static READERS: AtomicPtr<Reader> = AtomicPtr::new(std::ptr::null_mut());

/// Whether `membarrier` supplies the readers' fence. Set once, before any reader registers;
/// cleared (with every record's [`Reader::fence`] set) only if `membarrier` stops working.
static ASYMMETRIC: AtomicBool = AtomicBool::new(false);

/// One outermost call entered, in a record's word.
const ENTERED_ONE: u64 = 1 << 32;

/// The nesting depth in a record's word: non-zero while the thread is inside a guarded call.
fn depth(word: u64) -> u32 {
    word as u32
}

/// How many outermost calls the thread has entered (wrapping), from a record's word.
fn entered(word: u64) -> u32 {
    (word >> 32) as u32
}

/// The word after entering one level: the depth grows, and an outermost entry also counts
/// in the high half. Branch-free: the entry is on every guarded call's path.
#[inline(always)]
fn after_enter(word: u64) -> u64 {
    word.wrapping_add(1 + u64::from(depth(word) == 0) * ENTERED_ONE)
}

/// The word after leaving one level of a section that is open (depth > 0).
#[inline(always)]
fn after_leave(word: u64) -> u64 {
    word - 1
}

/// The word of a thread that exits with a section open: closed (depth zero), so writers stop
/// waiting for it.
fn closed(word: u64) -> u64 {
    word & !u64::from(u32::MAX)
}

thread_local! {
    /// This thread's record (null until its first guarded call). A plain `const` cell with no
    /// destructor, so the hot path is one TLS access without a lazy check.
    static RECORD: Cell<*const Reader> = const { Cell::new(std::ptr::null()) };
    /// Gives the record back when the thread exits (registered on first use).
    static RELEASE: Releaser = const { Releaser };
}

struct Releaser;

impl Drop for Releaser {
    fn drop(&mut self) {
        let r = RECORD.with(|c| c.replace(std::ptr::null()));
        // SAFETY: records are leaked, so the pointer stays valid forever.
        if let Some(r) = unsafe { r.as_ref() } {
            // A thread can exit inside a section (a C host's `pp_guard_enter` without its
            // `pp_guard_exit`). It runs nothing any more, so close the section: left open, the
            // record would stall every writer forever. A guarded call from a later destructor
            // of this thread starts afresh, with a record of its own.
            let word = r.word.load(Ordering::Relaxed);
            if depth(word) == 0 {
                r.in_use.store(false, Ordering::Release);
            } else {
                // Closed, and never handed to another thread: a section still open in a
                // later destructor leaves this record (as a no-op), not someone else's.
                r.word.store(closed(word), Ordering::Release);
            }
        }
    }
}

/// This thread's record, taking a free one or appending a new one on first use.
#[cold]
fn register() -> *const Reader {
    init_membarrier();
    let mut p = READERS.load(Ordering::Acquire) as *const Reader;
    // SAFETY: every record on the list is leaked and never freed.
    while let Some(r) = unsafe { p.as_ref() } {
        if r.in_use
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return adopt(r);
        }
        p = r.next;
    }
    let fresh = Box::leak(Box::new(Reader {
        word: AtomicU64::new(0),
        fence: AtomicBool::new(true),
        in_use: AtomicBool::new(true),
        next: std::ptr::null(),
    }));
    let mut head = READERS.load(Ordering::Acquire);
    loop {
        fresh.next = head;
        match READERS.compare_exchange_weak(
            head,
            fresh as *mut Reader,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => return adopt(fresh),
            Err(h) => head = h,
        }
    }
}

fn adopt(r: &'static Reader) -> *const Reader {
    // The record is on the list, so a writer that turns fencing on from now on sets its flag;
    // reading the mode again after storing it catches a writer that did so in between.
    r.fence
        .store(!ASYMMETRIC.load(Ordering::SeqCst), Ordering::SeqCst);
    if !ASYMMETRIC.load(Ordering::SeqCst) {
        r.fence.store(true, Ordering::SeqCst);
    }
    // If the thread is already tearing down its TLS the record simply stays in use (leaked);
    // the list stays bounded by the number of threads alive at once plus such stragglers.
    let _ = RELEASE.try_with(|_| ());
    let _ = RECORD.try_with(|c| c.set(r));
    r
}

/// Marks this thread as inside a guarded call until the returned token drops.
///
/// The hot path is straight-line: one thread-local load, a load and a store of the thread's
/// own word, and a test of its fence flag beside it; everything rare is out of line.
#[inline(always)]
pub(crate) fn enter() -> ReadSection {
    let mut r = RECORD.with(Cell::get);
    if r.is_null() {
        r = register();
    }
    // SAFETY: records are leaked; this thread owns `r`.
    let r = unsafe { &*r };
    // Only this thread writes the word, so a relaxed read of it is exact.
    let word = r.word.load(Ordering::Relaxed);
    r.word.store(after_enter(word), Ordering::Relaxed);
    if r.fence.load(Ordering::Relaxed) {
        reader_fence();
    }
    // With `membarrier`, the writer's barrier orders the store above before our later loads;
    // the compiler must not move them above it either.
    std::sync::atomic::compiler_fence(Ordering::SeqCst);
    ReadSection {
        record: r,
        _not_send: std::marker::PhantomData,
    }
}

/// The reader's own full fence, where the writer cannot supply it (no `membarrier`). Needed
/// only on an outermost entry; a nested one pays it too, harmlessly, in this slow mode.
#[cold]
#[inline(never)]
fn reader_fence() {
    fence(Ordering::SeqCst);
}

/// An open read-side critical section (see [`enter`]). Not `Send`: it belongs to its thread.
pub(crate) struct ReadSection {
    record: &'static Reader,
    _not_send: std::marker::PhantomData<*const ()>,
}

impl Drop for ReadSection {
    #[inline(always)]
    fn drop(&mut self) {
        leave(self.record);
    }
}

/// [`enter`] for C callers, who pair it with [`exit_raw`] themselves.
pub(crate) fn enter_raw() {
    std::mem::forget(enter());
}

/// Closes a section opened by [`enter_raw`]; an unpaired exit is ignored rather than allowed to
/// corrupt the depth count.
pub(crate) fn exit_raw() {
    // SAFETY: records are leaked; this thread owns its own.
    if let Some(r) = unsafe { RECORD.with(Cell::get).as_ref() } {
        leave(r);
    }
}

/// Leaves one level of this thread's record `r`. A section the thread's exit already closed
/// (depth zero) stays closed: a decrement there would read as "inside" forever.
#[inline(always)]
fn leave(r: &Reader) {
    let word = r.word.load(Ordering::Relaxed);
    if depth(word) != 0 {
        // Release: everything the call did happens-before the writer's acquire load.
        r.word.store(after_leave(word), Ordering::Release);
    }
}

/// True while this thread is inside a guarded call (lifecycle changes are refused there: they
/// would wait for the call that is making them).
pub(crate) fn inside_call() -> bool {
    // SAFETY: records are leaked; this thread owns its own.
    unsafe { RECORD.with(Cell::get).as_ref() }
        .is_some_and(|r| depth(r.word.load(Ordering::Relaxed)) != 0)
}

/// Waits until every guarded call that may have seen state unpublished before this call has
/// returned. The caller must have unpublished first, and must not be inside a call itself.
pub(crate) fn synchronize() {
    heavy_barrier();
    let mut waiting = Vec::new();
    let mut p = READERS.load(Ordering::Acquire) as *const Reader;
    // SAFETY: every record on the list is leaked and never freed.
    while let Some(r) = unsafe { p.as_ref() } {
        let word = r.word.load(Ordering::Acquire);
        if depth(word) != 0 {
            waiting.push((r, entered(word)));
        }
        p = r.next;
    }
    let start = Instant::now();
    let mut warned = false;
    for (r, seen) in waiting {
        let mut spins = 0u32;
        // Once the thread is outside, or has entered another outermost call, the call that was
        // open has closed (a new one started after our unpublish and cannot see the old state).
        while still_in(r.word.load(Ordering::Acquire), seen) {
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
            } else if spins < 128 {
                std::thread::yield_now();
            } else {
                std::thread::sleep(Duration::from_micros(50));
            }
            if !warned && start.elapsed() > Duration::from_secs(2) {
                warned = true;
                log::warn!("polyplug: unload/reload is waiting for a guarded call that has run for over 2 s");
            }
        }
    }
}

/// True while a thread whose word is `word` is still inside the outermost call that was open
/// when a writer saw `seen` entries.
fn still_in(word: u64, seen: u32) -> bool {
    depth(word) != 0 && entered(word) == seen
}

/// A full memory barrier on every thread of the process, or just on this one when readers
/// fence for themselves.
fn heavy_barrier() {
    if ASYMMETRIC.load(Ordering::Acquire) {
        if membarrier::expedited() {
            return;
        }
        // Cannot happen once registration succeeded; fail safe by making readers fence from now
        // on, then wait out a scheduling round so none is mid-section with the old rule.
        log::error!(
            "polyplug: membarrier(2) failed after registering; guarded calls fence from now on"
        );
        readers_fence_from_now_on();
        std::thread::sleep(Duration::from_millis(10));
    }
    fence(Ordering::SeqCst);
}

/// Turns the fence-per-call fallback on for every reader, present and future.
fn readers_fence_from_now_on() {
    ASYMMETRIC.store(false, Ordering::SeqCst);
    let mut p = READERS.load(Ordering::Acquire) as *const Reader;
    // SAFETY: every record on the list is leaked and never freed.
    while let Some(r) = unsafe { p.as_ref() } {
        r.fence.store(true, Ordering::SeqCst);
        p = r.next;
    }
}

fn init_membarrier() {
    static ONCE: OnceLock<()> = OnceLock::new();
    ONCE.get_or_init(|| {
        if std::env::var_os("POLYPLUG_NO_MEMBARRIER").is_none() && membarrier::register() {
            ASYMMETRIC.store(true, Ordering::SeqCst);
        }
    });
}

/// Whether guarded calls rely on `membarrier(2)` (the fence-free reader) in this process, or
/// on a full fence per call (other systems, valgrind, or `POLYPLUG_NO_MEMBARRIER` set).
pub fn uses_membarrier() -> bool {
    init_membarrier();
    ASYMMETRIC.load(Ordering::Acquire)
}

#[cfg(target_os = "linux")]
mod membarrier {
    const CMD_QUERY: libc::c_long = 0;
    const CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
    const CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

    fn call(cmd: libc::c_long) -> libc::c_long {
        // SAFETY: membarrier takes two integer arguments and touches no memory of ours.
        unsafe { libc::syscall(libc::SYS_membarrier, cmd, 0 as libc::c_long) }
    }

    /// Registers the process for expedited barriers; false when the kernel cannot do them.
    pub(super) fn register() -> bool {
        let supported = call(CMD_QUERY);
        supported >= 0
            && supported & CMD_PRIVATE_EXPEDITED != 0
            && call(CMD_REGISTER_PRIVATE_EXPEDITED) == 0
    }

    pub(super) fn expedited() -> bool {
        call(CMD_PRIVATE_EXPEDITED) == 0
    }
}

#[cfg(not(target_os = "linux"))]
mod membarrier {
    pub(super) fn register() -> bool {
        false
    }
    pub(super) fn expedited() -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;
    use std::sync::Arc;

    #[test]
    fn nesting_counts_depth() {
        assert!(!inside_call());
        let a = enter();
        let b = enter();
        assert!(inside_call());
        drop(b);
        assert!(inside_call());
        drop(a);
        assert!(!inside_call());
    }

    #[test]
    fn synchronize_waits_for_open_sections() {
        let _ = uses_membarrier();
        let state = Arc::new(AtomicU32::new(0));
        let (entered_tx, entered_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let s = Arc::clone(&state);
        let t = std::thread::spawn(move || {
            let _section = enter();
            entered_tx.send(()).expect("send");
            go_rx.recv().expect("recv");
            // Still inside: the writer must not have finished yet.
            s.store(1, Ordering::SeqCst);
        });
        entered_rx.recv().expect("entered");
        let writer = {
            let s = Arc::clone(&state);
            std::thread::spawn(move || {
                synchronize();
                s.load(Ordering::SeqCst)
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        assert!(!writer.is_finished(), "synchronize returned during a call");
        go_tx.send(()).expect("go");
        assert_eq!(writer.join().expect("writer"), 1);
        t.join().expect("reader");
    }

    #[test]
    fn the_word_counts_depth_and_outermost_entries() {
        let w = 5 * ENTERED_ONE;
        assert_eq!((depth(w), entered(w)), (0, 5));
        let outer = after_enter(w);
        assert_eq!(
            (depth(outer), entered(outer)),
            (1, 6),
            "an outermost entry counts"
        );
        let inner = after_enter(outer);
        assert_eq!(
            (depth(inner), entered(inner)),
            (2, 6),
            "a nested entry only counts depth"
        );
        assert_eq!(after_leave(inner), outer);
        assert_eq!(after_leave(outer), 6 * ENTERED_ONE);
        let top = u64::from(u32::MAX) << 32;
        assert_eq!(after_enter(top), 1, "`entered` wraps");
        assert_eq!(closed(inner), 6 * ENTERED_ONE, "closing zeroes the depth");
    }

    #[test]
    fn a_writer_waits_only_for_the_call_it_saw() {
        let seen = after_enter(7 * ENTERED_ONE);
        let s = entered(seen);
        assert!(still_in(seen, s), "the call it saw is open");
        assert!(still_in(after_enter(seen), s), "a nested call inside it");
        assert!(!still_in(after_leave(seen), s), "the thread left");
        assert!(
            !still_in(after_enter(after_leave(seen)), s),
            "the thread left and entered a new call"
        );
        assert!(!still_in(closed(seen), s), "the thread exited inside it");
    }

    #[test]
    fn leaving_a_closed_section_keeps_it_closed() {
        let _ = uses_membarrier();
        std::thread::spawn(|| {
            enter_raw();
            assert!(inside_call());
            exit_raw();
            exit_raw(); // unpaired
            assert!(!inside_call(), "an unpaired exit does not wrap the depth");
            let section = enter();
            assert!(inside_call());
            drop(section);
            assert!(!inside_call());
        })
        .join()
        .expect("thread");
    }

    #[test]
    fn synchronize_waits_for_the_outermost_section() {
        let _ = uses_membarrier();
        let (inner_closed_tx, inner_closed_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            let outer = enter();
            drop(enter());
            inner_closed_tx.send(()).expect("send");
            go_rx.recv().expect("recv");
            drop(outer);
        });
        inner_closed_rx.recv().expect("inner closed");
        let writer = std::thread::spawn(synchronize);
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            !writer.is_finished(),
            "synchronize returned while the outer section was open"
        );
        go_tx.send(()).expect("go");
        writer.join().expect("writer");
        t.join().expect("reader");
    }

    #[test]
    fn a_thread_that_exits_inside_a_section_does_not_stall_writers() {
        let _ = uses_membarrier();
        std::thread::spawn(enter_raw).join().expect("thread");
        // Returns: the exiting thread closed its section.
        synchronize();
        assert!(!inside_call());
    }

    #[test]
    fn records_take_the_fence_mode_and_the_fallback_reaches_them_all() {
        let _ = uses_membarrier();
        let record_of_this_thread = || {
            drop(enter());
            // SAFETY: records are leaked; this thread just registered its own.
            unsafe { &*RECORD.with(Cell::get) }
        };
        // A thread that registers now copies the process's mode.
        let asymmetric = uses_membarrier();
        let r = std::thread::spawn(record_of_this_thread)
            .join()
            .expect("thread");
        assert_eq!(r.fence.load(Ordering::SeqCst), !asymmetric);
        // A live thread, registered before the fallback, fences after it.
        let (registered_tx, registered_rx) = std::sync::mpsc::channel();
        let (checked_tx, checked_rx) = std::sync::mpsc::channel::<()>();
        let live = std::thread::spawn(move || {
            let r = record_of_this_thread();
            registered_tx.send(()).expect("send");
            checked_rx.recv().expect("recv");
            r.fence.load(Ordering::SeqCst)
        });
        registered_rx.recv().expect("registered");
        readers_fence_from_now_on();
        checked_tx.send(()).expect("checked");
        assert!(live.join().expect("live thread"), "a live reader fences");
        assert!(!uses_membarrier());
        let later = std::thread::spawn(record_of_this_thread)
            .join()
            .expect("thread");
        assert!(later.fence.load(Ordering::SeqCst), "a later reader fences");
        // Guarded sections still count and synchronize still waits in this mode.
        let section = enter();
        assert!(inside_call());
        drop(section);
        synchronize();
    }

    #[test]
    fn records_are_recycled() {
        for _ in 0..4 {
            std::thread::spawn(|| drop(enter())).join().expect("thread");
        }
        let mut n = 0;
        let mut p = READERS.load(Ordering::Acquire) as *const Reader;
        // SAFETY: leaked records.
        while let Some(r) = unsafe { p.as_ref() } {
            n += 1;
            p = r.next;
        }
        // Sequential threads reuse one record (plus any the other tests' threads hold).
        assert!(n <= 8, "{n} records for sequential threads");
    }
}
