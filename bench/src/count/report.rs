//! The report: one markdown table per piece of work, each server's runs taken together, its
//! counts per unit and its ratios to the C server and to mio.

use super::measure::{measure, Counted, Mode, Work};
use super::servers::Server;
use std::fmt::Write as _;
use std::path::Path;

pub(super) fn per(c: &Counted, div: f64) -> f64 {
    c.total / (c.units / div).max(1e-9)
}

pub(super) fn ratio(v: f64, base: Option<f64>) -> String {
    match base {
        Some(b) if b > 0.0 => format!("{:.2}×", v / b),
        _ => "–".into(),
    }
}

pub(super) fn top_syscalls(c: &Counted, div: f64) -> String {
    let mut v: Vec<(&String, &f64)> = c.by_name.iter().collect();
    v.sort_by(|a, b| b.1.total_cmp(a.1));
    let units = (c.units / div).max(1e-9);
    v.iter()
        .take(5)
        .filter(|(_, n)| **n / units >= 0.0005)
        .map(|(k, n)| format!("{k} {:.3}", **n / units))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The two modes, in the order of a row's columns (and of the `[_; 2]` arrays below).
const MODES: [Mode; 2] = [Mode::Instr, Mode::Sys];

/// Whether a syscall (by strace's name) reads from an fd; strace counts failed calls too
/// (`EAGAIN`), so a read here is an attempt.
fn is_read(name: &str) -> bool {
    matches!(name, "read" | "readv" | "recvfrom" | "recvmsg" | "recvmmsg")
}

/// Bulk's syscalls per MiB split into reads per MiB (how full the socket is at each read,
/// which the load and TCP decide, run by run) and syscalls per read (the server's own
/// structure: fixed for a server that waits once per read, as C and ex8 do; a server that
/// reads until `WouldBlock` skips a varying share of its waits).
fn reads_table(md: &mut String, rows: &[(Server, Option<Counted>, Option<Counted>)], div: f64) {
    // (reads per MiB, KiB per read, syscalls per read); None without reads or work to divide.
    let split = |c: &Counted| {
        let reads: f64 = c
            .by_name
            .iter()
            .filter(|(k, _)| is_read(k))
            .map(|(_, n)| n)
            .sum();
        (reads > 0.0 && c.units > 0.0).then(|| {
            (
                reads / (c.units / div),
                c.units / reads / 1024.0,
                c.total / reads,
            )
        })
    };
    let c_per_read = rows
        .iter()
        .find(|r| r.0.key == "c")
        .and_then(|r| r.2.as_ref())
        .and_then(split)
        .map(|s| s.2);
    let _ = writeln!(
        md,
        "\nThe same syscalls as reads per MiB × syscalls per read, all runs taken together:\n\n\
         | server | reads/MiB | KiB per read | syscalls per read | vs C |\n|---|---:|---:|---:|---:|"
    );
    for (s, _, y) in rows {
        let Some(c) = y else { continue };
        let _ = match split(c) {
            Some((reads, kib, per_read)) => writeln!(
                md,
                "| {} | {reads:.3} | {kib:.2} | {per_read:.3} | {} |",
                s.label,
                ratio(per_read, c_per_read)
            ),
            None => writeln!(md, "| {} | – | – | – | – |", s.label),
        };
    }
}

/// The runs of one measurement taken together: their units, counts and errors added up.
pub(super) fn pooled(runs: Vec<Counted>) -> Option<Counted> {
    runs.into_iter().reduce(|mut all, c| {
        all.units += c.units;
        all.total += c.total;
        all.errors += c.errors;
        for (name, n) in c.by_name {
            *all.by_name.entry(name).or_insert(0.0) += n;
        }
        all
    })
}

/// Runs the selected servers on one piece of work in every mode; appends a table to `md`.
#[allow(clippy::too_many_arguments)]
pub(super) fn table(
    md: &mut String,
    title: &str,
    command: &str,
    unit: &str,
    div: f64,
    servers: &[Server],
    work: Work,
    modes: &[Mode],
    runs: usize,
    out: &Path,
) {
    // Every measurement of every server, per mode (0: instructions, 1: syscalls). A repeated
    // mode goes round all the servers once per run, so that a drift in the machine's state
    // touches each server alike.
    let mut got: Vec<[Vec<Counted>; 2]> = vec![Default::default(); servers.len()];
    for (k, m) in MODES.into_iter().enumerate() {
        if !modes.contains(&m) {
            continue;
        }
        for run in 0..work.runs(m, runs) {
            for (s, g) in servers.iter().zip(got.iter_mut()) {
                match measure(s, work, m, run, out) {
                    Ok(c) => g[k].push(c),
                    Err(e) => eprintln!("count: {e}"),
                }
            }
        }
    }
    // All runs of a server pooled (their work and counts added up); the servers whose
    // repeated runs differed, with each run's figure, per mode.
    let mut spread: [Vec<String>; 2] = Default::default();
    let mut rows: Vec<(Server, Option<Counted>, Option<Counted>)> = Vec::new();
    for (s, [i, y]) in servers.iter().zip(got) {
        for (k, v) in [&i, &y].into_iter().enumerate() {
            let mut each: Vec<f64> = v.iter().map(|c| per(c, div)).collect();
            each.sort_by(f64::total_cmp);
            // At the table's precision: instructions to 0.1, syscalls to 0.001.
            let prec = if k == 0 { 1 } else { 3 };
            let each: Vec<String> = each.iter().map(|x| format!("{x:.prec$}")).collect();
            let asked = work.runs(MODES[k], runs);
            if each.len() != asked && modes.contains(&MODES[k]) {
                let made = each.len();
                spread[k].push(format!(
                    "{} ({made} of {asked} runs made) {}",
                    s.label,
                    each.join(", ")
                ));
            } else if each.first() != each.last() {
                spread[k].push(format!("{} {}", s.label, each.join(", ")));
            }
        }
        rows.push((s.clone(), pooled(i), pooled(y)));
    }
    let base = |key: &str, which: usize| {
        rows.iter().find(|r| r.0.key == key).and_then(|r| {
            let c = if which == 0 { &r.1 } else { &r.2 };
            c.as_ref().map(|c| per(c, div))
        })
    };
    let (ci, cs, mi, ms) = (base("c", 0), base("c", 1), base("mio", 0), base("mio", 1));
    let _ = writeln!(md, "### {title}\n\n`{command}`\n");
    let _ = writeln!(
        md,
        "| server | instructions/{unit} | vs C | vs mio | syscalls/{unit} | vs C | vs mio | syscalls by name, per {unit} |"
    );
    let _ = writeln!(md, "|---|---:|---:|---:|---:|---:|---:|---|");
    for (s, i, y) in &rows {
        let (iv, yv) = (
            i.as_ref().map(|c| per(c, div)),
            y.as_ref().map(|c| per(c, div)),
        );
        let cell =
            |v: Option<f64>, prec: usize| v.map_or("–".to_string(), |v| format!("{v:.prec$}"));
        let errs = i.iter().chain(y.iter()).map(|c| c.errors).sum::<f64>();
        let _ = writeln!(
            md,
            "| {}{} | {} | {} | {} | {} | {} | {} | {} |",
            s.label,
            if errs > 0.0 { " (load errors!)" } else { "" },
            cell(iv, 1),
            iv.map_or("–".into(), |v| ratio(v, ci)),
            iv.map_or("–".into(), |v| ratio(v, mi)),
            cell(yv, 3),
            yv.map_or("–".into(), |v| ratio(v, cs)),
            yv.map_or("–".into(), |v| ratio(v, ms)),
            y.as_ref().map(|c| top_syscalls(c, div)).unwrap_or_default()
        );
    }
    for (k, m) in MODES.into_iter().enumerate() {
        let n = work.runs(m, runs);
        if n < 2 || !modes.contains(&m) {
            continue;
        }
        let what = if m == Mode::Instr {
            "Instructions"
        } else {
            "Syscalls"
        };
        let differed = if spread[k].is_empty() {
            "every server's runs gave the same figure".to_string()
        } else {
            format!(
                "the servers whose runs differed, each run in order of size: {}; the others' \
                 runs gave the same figure",
                spread[k].join("; ")
            )
        };
        let _ = writeln!(
            md,
            "\n{what} per {unit}: {n} runs per server taken together (the work and the counts \
             of all added up); {differed}."
        );
    }
    if matches!(work, Work::Bulk { .. }) && modes.contains(&Mode::Sys) {
        reads_table(md, &rows, div);
    }
    let _ = writeln!(md);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(key: &str) -> Server {
        Server {
            key: key.into(),
            label: key.into(),
            program: "x".into(),
            args: Vec::new(),
            backend: None,
            own: true,
        }
    }

    /// `mib` MiB read in `reads` reads, with `waits` waits and one send per read.
    fn bulk(mib: f64, reads: f64, waits: f64) -> Counted {
        let mut c = Counted {
            units: mib * 1048576.0,
            total: 2.0 * reads + waits,
            ..Counted::default()
        };
        c.by_name.insert("recvfrom".into(), reads);
        c.by_name.insert("sendto".into(), reads);
        c.by_name.insert("epoll_wait".into(), waits);
        c
    }

    #[test]
    fn pooled_runs_add_work_and_counts() {
        let all = pooled(vec![bulk(1.0, 64.0, 64.0), bulk(1.0, 70.0, 70.0)]).unwrap();
        assert_eq!(all.units, 2.0 * 1048576.0);
        assert_eq!(all.total, 402.0);
        assert_eq!(all.by_name["recvfrom"], 134.0);
        assert_eq!(per(&all, 1048576.0), 201.0);
        assert!(pooled(Vec::new()).is_none());
    }

    #[test]
    fn reads_table_splits_syscalls_per_mib() {
        let rows = vec![
            (server("c"), None, Some(bulk(2.0, 128.0, 128.0))),
            (server("edge"), None, Some(bulk(2.0, 256.0, 0.0))),
            (server("none"), None, Some(Counted::default())),
            (server("unmeasured"), None, None),
        ];
        let mut md = String::new();
        reads_table(&mut md, &rows, 1048576.0);
        // 64 full 16 KiB reads per MiB, three calls each: 192 per MiB = 64 × 3.
        assert!(
            md.contains("| c | 64.000 | 16.00 | 3.000 | 1.00× |"),
            "{md}"
        );
        assert!(
            md.contains("| edge | 128.000 | 8.00 | 2.000 | 0.67× |"),
            "{md}"
        );
        // No reads counted: no made-up figures.
        assert!(md.contains("| none | – | – | – | – |"), "{md}");
        assert!(!md.contains("| unmeasured |"), "{md}");
    }

    #[test]
    fn reads_table_without_a_c_row_has_no_ratio() {
        let rows = vec![(server("ex8"), None, Some(bulk(1.0, 64.0, 64.0)))];
        let mut md = String::new();
        reads_table(&mut md, &rows, 1048576.0);
        assert!(md.contains("| ex8 | 64.000 | 16.00 | 3.000 | – |"), "{md}");
    }
}
