//! The fd handler table against a model of it, on every compiled backend: seeded runs of
//! random actions on socketpairs, between dispatches and from inside handlers. They set and
//! remove read, write and error handlers of every kind (closures owning a drop counter and
//! maybe an fd, functions, stateful, one-shot and timed ones), remove any combination of
//! handlers, set and remove fd states, write from the peer, drain, hang up, aim at fd -1; and
//! a read handler often adds a write handler to its own fd, as the tutorial's servers do,
//! taking it back in the same call or keeping it. After every action, `fd_monitored_for`,
//! `fd_monitored`, `is_empty`, `fd_state`, `HandlerExists` (`BadFd` for -1) and
//! `remove_fd_handlers` agree with the model; each closure is dropped once, by its removal (or
//! the end of its running call) at the latest; a handler runs only for an fd and event set
//! before the round began; and a write handler left set runs within two rounds.
//!
//! `IOMUX_MODEL_SEEDS` (default 300) and `IOMUX_MODEL_STEPS` (default 100) size the run;
//! `IOMUX_MODEL_SEED=n` replays seed `n` (run that backend's test alone: the order of a
//! round's calls follows the fd numbers).

mod util;

use iomux::*;
use isys::{AsRawFd, MsgFlags, OwnedFd, RawFd};
use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

/// Target fds: one end of a socketpair each. Only the last one's peer ever hangs up.
const N: usize = 3;
const EVENTS: [Event; 3] = [Event::Read, Event::Write, Event::Error];

type Exc = Option<Exception>;

/// Which handler a slot holds: a closure (by its token) or one of the two functions.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Closure(usize),
    PlainFn,
    StatefulFn,
}

/// A handler the model has set: who, how, the round it was set in and the last it ran in.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Slot {
    who: Who,
    stateful: bool,
    one_shot: bool,
    added: u64,
    called: u64,
}

/// A closure's token: its drops, whether the model removed it, the peer of the fd it owns.
#[derive(Default)]
struct TokState {
    drops: u32,
    removed: bool,
    closer: Option<OwnedFd>,
}

/// The state the test attaches to a target: its fd.
struct St(RawFd);

/// The model, the fds, and the tokens of the closures.
#[derive(Default)]
struct Ctx {
    rng: u64,
    select: bool,
    fds: [RawFd; N],
    ends: Vec<OwnedFd>,
    peers: Vec<Option<OwnedFd>>,
    slots: [[Option<Slot>; 3]; N],
    state: [bool; N],
    /// The target whose state the running stateful handler holds.
    lent: Option<usize>,
    /// The round of the dispatch under way (each dispatch runs one).
    round: u64,
    toks: Vec<TokState>,
    /// Tokens not yet seen dropped; and whether any was dropped twice.
    unsettled: Vec<usize>,
    twice: bool,
    /// The token of the last closure called: if its call removed it, the base drops it when
    /// the call returns.
    in_flight: Option<usize>,
    /// An error handler of target `.0` called in round `.1`: when it returns, the base removes
    /// the fd's handlers set before that round.
    error_call: Option<(usize, u64)>,
}

thread_local! {
    static CTX: RefCell<Option<Ctx>> = const { RefCell::new(None) };
    static STEP: Cell<u32> = const { Cell::new(0) };
}

fn with<R>(f: impl FnOnce(&mut Ctx) -> R) -> R {
    CTX.with(|c| f(c.borrow_mut().as_mut().expect("a seed is running")))
}

/// A number below `n`, from the seed's splitmix64 stream.
fn rnd(n: u64) -> u64 {
    with(|c| {
        c.rng = c.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let z = (c.rng ^ (c.rng >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    })
}

fn chance(percent: u64) -> bool {
    rnd(100) < percent
}

fn socketpair() -> (OwnedFd, OwnedFd) {
    isys::socketpair(isys::libc::AF_UNIX, isys::libc::SOCK_STREAM, 0, true).unwrap()
}

/// A closure's drop counter; it may own an fd too, whose peer then sees the drop.
struct Tok(usize, Option<OwnedFd>);

impl Drop for Tok {
    fn drop(&mut self) {
        // Borrowed only while a failed check unwinds, when counting no longer matters.
        CTX.with(|c| {
            if let Ok(Some(c)) = c.try_borrow_mut().as_deref_mut().map(Option::as_mut) {
                c.toks[self.0].drops += 1;
                c.twice |= c.toks[self.0].drops > 1;
            }
        });
        drop(self.1.take());
    }
}

fn new_tok(owns_fd: bool) -> Tok {
    let pair = owns_fd.then(socketpair);
    let (fd, closer) = pair.map_or((None, None), |(fd, peer)| (Some(fd), Some(peer)));
    with(|c| {
        let id = c.toks.len();
        c.unsettled.push(id);
        c.toks.push(TokState::default());
        c.toks[id].closer = closer;
        Tok(id, fd)
    })
}

/// The target that `fd` is.
fn target(c: &Ctx, fd: RawFd) -> usize {
    c.fds.iter().position(|&f| f == fd).expect("a target fd")
}

/// The model's slot `i`/`ev` is emptied: its closure is to be dropped.
fn unset(c: &mut Ctx, i: usize, ev: Event) {
    if let Some(Who::Closure(id)) = c.slots[i][ev as usize].take().map(|s| s.who) {
        c.toks[id].removed = true;
    }
}

/// What the base did since the last handler returned: the end of an error handler's call.
fn catch_up(c: &mut Ctx) {
    c.in_flight = None;
    if let Some((i, round)) = c.error_call.take() {
        for ev in EVENTS {
            if c.slots[i][ev as usize].is_some_and(|s| s.added < round) {
                unset(c, i, ev);
            }
        }
    }
}

/// The base against the model; each token dropped at most once, and exactly once after its
/// removal (unless its own call is still running); an fd a closure owned closed with it.
fn check(base: &EventBase) {
    with(|c| {
        assert!(!c.twice, "a closure was dropped twice");
        let mut unsettled = std::mem::take(&mut c.unsettled);
        unsettled.retain(|&id| {
            let t = &mut c.toks[id];
            let may_live = !t.removed || c.in_flight == Some(id);
            assert!(may_live || t.drops == 1, "closure {id} not dropped");
            assert!(t.removed || t.drops == 0, "closure {id} dropped while set");
            if let Some(peer) = t.closer.take_if(|_| t.drops == 1) {
                let got = isys::recv(&peer, &mut [0u8; 8], MsgFlags::DONT_WAIT);
                assert_eq!(got, Ok(0), "closure {id} dropped, its fd still open");
            }
            t.drops == 0
        });
        c.unsettled = unsettled;
        let mut empty = true;
        for (i, &fd) in c.fds.iter().enumerate() {
            for ev in EVENTS {
                let want = c.slots[i][ev as usize].is_some();
                empty &= !want;
                let got = base.fd_monitored_for(fd, ev);
                assert_eq!(got, want, "fd_monitored_for(target {i}, {ev:?})");
            }
            let want = c.slots[i].iter().any(Option::is_some);
            assert_eq!(base.fd_monitored(fd), want, "fd_monitored(target {i})");
            let has = base.fd_state::<St>(fd).is_some();
            assert_eq!(has, c.state[i] && c.lent != Some(i), "fd_state(target {i})");
        }
        assert_eq!(base.is_empty(), empty, "is_empty");
        assert_eq!(base.has_no_work(), empty, "has_no_work");
        assert!(!base.fd_monitored(-1));
    });
}

/// The model's side of a call of target `i`'s `ev` handler in the round under way: set
/// before the round, and removed by the call if one-shot.
fn called(c: &mut Ctx, i: usize, ev: Event) -> Slot {
    catch_up(c);
    let round = c.round;
    let slot = c.slots[i][ev as usize].as_mut();
    let slot = slot.unwrap_or_else(|| panic!("target {i}'s {ev:?} handler called, none set"));
    assert!(slot.added < round, "{slot:?} called in round {round}");
    slot.called = round;
    let slot = *slot;
    if slot.one_shot {
        unset(c, i, ev);
    }
    if let Who::Closure(id) = slot.who {
        c.in_flight = Some(id);
    }
    slot
}

/// Every handler's call: checks it against the model, then acts.
fn on_call(base: &mut EventBase, who: Who, fd: RawFd, ev: Event, exc: Exc) -> HandlerResult {
    let i = with(|c| {
        let i = target(c, fd);
        let slot = called(c, i, ev);
        assert_eq!(slot.who, who, "called for target {i}, {ev:?}");
        if ev == Event::Error {
            assert_eq!(exc, Some(Exception::Error));
            assert!(c.peers[i].is_none(), "an error, the peer still there");
            assert!(c.slots[i][..2] == [None, None], "an error beside handlers");
        } else {
            assert_eq!(exc, None);
        }
        if slot.stateful {
            assert!(c.state[i], "a stateful handler called without its state");
            c.lent = Some(i);
        }
        i
    });
    check(base);
    if ev == Event::Read && chance(40) {
        echo(base, i);
    }
    for _ in 0..rnd(4) {
        act(base, Some(i));
    }
    with(|c| {
        c.lent = None;
        if ev == Event::Error {
            c.error_call = Some((i, c.round));
        }
    });
    Ok(())
}

fn plain_fn(b: &mut EventBase, fd: RawFd, ev: Event, x: Exc) -> HandlerResult {
    on_call(b, Who::PlainFn, fd, ev, x)
}

fn stateful_fn(b: &mut EventBase, s: &mut St, fd: RawFd, ev: Event, x: Exc) -> HandlerResult {
    assert_eq!(s.0, fd, "another fd's state");
    on_call(b, Who::StatefulFn, fd, ev, x)
}

/// The tutorial's pattern, in a read handler of target `i`: a write handler on its own fd,
/// maybe more actions, then most often the write handler taken back.
fn echo(base: &mut EventBase, i: usize) {
    let fd = with(|c| c.fds[i]);
    install(base, i, fd, Event::Write, true);
    for _ in 0..rnd(3) {
        act(base, Some(i));
    }
    if chance(60) {
        remove(base, i, fd, Handlers::WRITE);
    }
    check(base);
}

/// A random action on a random target (the current one, from a handler, half the time),
/// or on -1; then the base against the model.
fn act(base: &mut EventBase, cur: Option<usize>) {
    let i = match cur {
        Some(i) if chance(50) => i,
        _ => rnd(N as u64) as usize,
    };
    let fd = if chance(4) { -1 } else { with(|c| c.fds[i]) };
    match rnd(100) {
        0..=19 => install(base, i, fd, Event::Read, false),
        20..=44 => install(base, i, fd, Event::Write, false),
        // select cannot watch an fd for errors alone.
        45..=49 if !with(|c| c.select) => install(base, i, fd, Event::Error, false),
        45..=57 => remove(base, i, fd, Handlers::WRITE),
        58..=64 => remove(base, i, fd, Handlers::READ),
        65..=74 => remove(base, i, fd, Handlers::from_bits_truncate(rnd(8) as u8)),
        75..=82 => {
            let r = base.set_fd_state(fd, St(fd));
            with(|c| match r {
                _ if fd < 0 => assert!(matches!(r, Err(Error::BadFd(-1))), "{r:?}"),
                Err(Error::InvalidArgument(_)) if c.lent == Some(i) => {}
                Ok(()) if c.lent != Some(i) => c.state[i] = true,
                r => panic!("set_fd_state(target {i}): {r:?}, lent: {:?}", c.lent),
            });
        }
        83..=85 => {
            let had = base.remove_fd_state(fd);
            let want = with(|c| fd >= 0 && std::mem::take(&mut c.state[i]));
            assert_eq!(had, want, "remove_fd_state({fd})");
        }
        86..=93 => with(|c| {
            if let Some(peer) = &c.peers[i] {
                let _ = isys::send(peer, b"x", MsgFlags::DONT_WAIT);
            }
        }),
        94..=98 => with(|c| {
            let mut buf = [0u8; 64];
            while isys::recv(&c.ends[i], &mut buf, MsgFlags::DONT_WAIT).is_ok_and(|n| n > 0) {}
        }),
        _ => with(|c| c.peers[N - 1] = None),
    }
    check(base);
}

/// Sets a handler of a random kind on `fd` (target `i`, or -1) and checks the answer;
/// `plain`: without options, as the tutorial's servers add theirs.
fn install(base: &mut EventBase, i: usize, fd: RawFd, ev: Event, plain: bool) {
    let long = Duration::from_secs(3600);
    let opts = match rnd(12) {
        _ if plain || ev == Event::Error => IoOptions::new(),
        0 => IoOptions::new().one_shot(true),
        1 => IoOptions::new().timeout(long),
        2 => IoOptions::new().timeout(long).one_shot(true),
        _ => IoOptions::new(),
    };
    let (who, stateful, r) = match rnd(if ev == Event::Error { 3 } else { 5 }) {
        k @ (0 | 1) => {
            let tok = new_tok(k == 1);
            let who = Who::Closure(tok.0);
            let h = move |b: &mut EventBase, fd, ev, x| {
                let _owned = &tok;
                on_call(b, who, fd, ev, x)
            };
            let r = match ev {
                Event::Error => base.set_error_handler(fd, h),
                _ => base.set_io_handler_with(fd, ev, opts, h),
            };
            (who, false, r)
        }
        2 if ev == Event::Error => (Who::PlainFn, false, base.set_error_handler(fd, plain_fn)),
        2 => (
            Who::PlainFn,
            false,
            base.set_io_handler_with(fd, ev, opts, plain_fn),
        ),
        3 => {
            let tok = new_tok(false);
            let who = Who::Closure(tok.0);
            let h = move |b: &mut EventBase, s: &mut St, fd, ev, x| {
                let _owned = &tok;
                assert_eq!(s.0, fd, "another fd's state");
                on_call(b, who, fd, ev, x)
            };
            (who, true, base.set_stateful_io_handler(fd, ev, opts, h))
        }
        _ => {
            let r = base.set_stateful_io_handler(fd, ev, opts, stateful_fn);
            (Who::StatefulFn, true, r)
        }
    };
    let added = base.rounds();
    with(|c| {
        let exists = fd >= 0 && c.slots[i][ev as usize].is_some();
        match r {
            Err(Error::BadFd(-1)) if fd < 0 => {}
            Err(Error::HandlerExists { fd: f, event }) if exists && (f, event) == (fd, ev) => {}
            Ok(()) if fd >= 0 && !exists => {
                let slot = Slot {
                    who,
                    stateful,
                    one_shot: opts.one_shot,
                    added,
                    called: 0,
                };
                c.slots[i][ev as usize] = Some(slot);
                return;
            }
            r => panic!("set {ev:?} on {fd}: {r:?}, {:?}", c.slots[i]),
        }
        // Refused: the closure is dropped.
        if let Who::Closure(id) = who {
            c.toks[id].removed = true;
        }
    });
    check(base);
}

/// `remove_fd_handlers(fd, which)`, which answers whether the model had one of them.
fn remove(base: &mut EventBase, i: usize, fd: RawFd, which: Handlers) {
    let removed = base.remove_fd_handlers(fd, which);
    with(|c| {
        let named = EVENTS.map(|e| fd >= 0 && which.contains(e.into()));
        let want = (0..3).any(|e| named[e] && c.slots[i][e].is_some());
        assert_eq!(removed, want, "remove {which:?} from fd {fd}");
        for e in EVENTS.into_iter().filter(|&e| named[e as usize]) {
            unset(c, i, e);
        }
    });
}

/// A stateful handler called without its state fails: the policy checks that the model
/// agrees, and lets the dispatch go on.
fn policy(f: &HandlerFailure<'_>) -> OnError {
    with(|c| {
        let i = target(c, f.fd);
        let slot = called(c, i, f.event);
        assert!(slot.stateful && !c.state[i], "failed: {}", f.error);
        assert!(f.error.to_string().contains("has no state"), "{}", f.error);
    });
    OnError::Continue
}

/// One round; then the model catches up, and a write handler set two rounds ago has run.
fn dispatch(base: &mut EventBase) {
    let opts = DispatchOptions::default();
    let opts = match rnd(10) {
        0 => opts.timeout(Duration::ZERO),
        1 => opts.one_shot(true).timeout(Duration::from_millis(1)),
        _ => opts.one_shot(true).timeout(Duration::ZERO),
    };
    let round = base.rounds() + 1;
    with(|c| c.round = round);
    base.event_dispatch(opts).expect("event_dispatch");
    assert_eq!(base.rounds(), round, "one round per dispatch");
    with(|c| {
        catch_up(c);
        for i in 0..N {
            if let Some(s) = c.slots[i][Event::Write as usize] {
                let since = s.added.max(s.called);
                assert!(round < since + 2, "{s:?} not called by {round}");
            }
        }
    });
    check(base);
}

fn run_seed(b: Backend, seed: u64, steps: u32) {
    let (ends, peers): (Vec<OwnedFd>, Vec<OwnedFd>) = (0..N).map(|_| socketpair()).unzip();
    let ctx = Ctx {
        rng: seed,
        select: b == Backend::Select,
        fds: std::array::from_fn(|i| ends[i].as_raw_fd()),
        ends,
        peers: peers.into_iter().map(Some).collect(),
        ..Ctx::default()
    };
    CTX.with(|c| *c.borrow_mut() = Some(ctx));
    let mut base = EventBase::with_backend(b).unwrap();
    base.set_handler_error_policy(policy);
    for step in 0..steps {
        STEP.set(step);
        match chance(45) {
            true => act(&mut base, None),
            false => dispatch(&mut base),
        }
    }
    STEP.set(steps);
    drop(base);
    with(|c| {
        assert!(!c.twice, "a closure was dropped twice");
        for (id, t) in c.toks.iter().enumerate() {
            assert_eq!(t.drops, 1, "closure {id} at the base's drop");
        }
    });
}

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

fn handlers_match_the_model(b: Backend) {
    let seeds = match env("IOMUX_MODEL_SEED") {
        Some(seed) => seed..seed + 1,
        None => 0..env("IOMUX_MODEL_SEEDS").unwrap_or(300),
    };
    let steps = env("IOMUX_MODEL_STEPS").unwrap_or(100) as u32;
    for seed in seeds {
        let run = catch_unwind(AssertUnwindSafe(|| run_seed(b, seed, steps)));
        CTX.with(|c| c.borrow_mut().take());
        if let Err(e) = run {
            let msg = e.downcast_ref::<String>().map(String::as_str);
            let msg = msg
                .or(e.downcast_ref::<&str>().copied())
                .unwrap_or("a panic");
            let step = STEP.get();
            panic!("{b}, seed {seed}, step {step}: {msg} (replay: IOMUX_MODEL_SEED={seed})");
        }
    }
}

per_backend!(handlers_match_the_model);
