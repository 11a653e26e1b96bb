//! What a process uses, read from `/proc`: its memory, and the CPU time of each of this
//! process's threads, so a run can tell which thread was the busy one. A hub run in-process
//! shares both with the load generator.

use std::collections::HashMap;

/// Linux reports thread times in clock ticks of `USER_HZ`, which is 100 on every architecture
/// it exposes to user space.
const TICKS_PER_SECOND: f64 = 100.0;

pub struct Memory {
    /// Resident now (`VmRSS`).
    pub rss: u64,
    /// What of `rss` is the process's own (`RssAnon`): heap, stacks and the allocator's spare
    /// pages. The rest is files mapped from disk, mostly the binary's code as more of it runs;
    /// the kernel can drop those pages and read them again.
    pub anon: u64,
    /// The most ever resident (`VmHWM`).
    pub peak: u64,
    /// Bytes allocated and not yet freed, Rust's and SQLite's, as jemalloc counts them: the
    /// memory the program holds, without the allocator's spare pages, the binary or the stacks.
    /// Only this process's own can be read.
    pub heap: Option<u64>,
}

/// The memory of process `pid`, or of this one.
pub fn memory(pid: Option<u32>) -> Option<Memory> {
    let status = match pid {
        Some(pid) => std::fs::read_to_string(format!("/proc/{pid}/status")),
        None => std::fs::read_to_string("/proc/self/status"),
    }
    .ok()?;
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(key))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()
            .map(|n| n * 1024)
    };
    Some(Memory {
        rss: kib("VmRSS:")?,
        anon: kib("RssAnon:")?,
        peak: kib("VmHWM:")?,
        heap: if pid.is_none() { heap() } else { None },
    })
}

#[cfg(not(target_env = "msvc"))]
fn heap() -> Option<u64> {
    // jemalloc's statistics are a snapshot taken when the epoch advances.
    tikv_jemalloc_ctl::epoch::advance().ok()?;
    let bytes = tikv_jemalloc_ctl::stats::allocated::read().ok()?;
    u64::try_from(bytes).ok()
}

/// The bench runs on the system allocator where jemalloc does not build, which has no count.
#[cfg(target_env = "msvc")]
fn heap() -> Option<u64> {
    None
}

/// The machine's load averages over 1, 5 and 15 minutes, as `/proc/loadavg` gives them: how
/// busy the machine was besides this process.
pub fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

/// CPU ticks (user + system) of each live thread, by thread id, with its name.
pub struct ThreadTimes(HashMap<u32, (String, u64)>);

impl ThreadTimes {
    pub fn now() -> Self {
        let mut times = HashMap::new();
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
            return Self(times);
        };
        for task in tasks.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            if let Some(entry) = std::fs::read_to_string(task.path().join("stat"))
                .ok()
                .and_then(|stat| parse_stat(&stat))
            {
                times.insert(tid, entry);
            }
        }
        Self(times)
    }

    /// CPU seconds each thread alive now used since `earlier`, busiest first. Threads that
    /// ended in between are not counted.
    pub fn since(&self, earlier: &ThreadTimes) -> Vec<(String, f64)> {
        let mut used: Vec<(String, f64)> = self
            .0
            .iter()
            .map(|(tid, (name, ticks))| {
                let before = earlier.0.get(tid).map_or(0, |(_, t)| *t);
                (
                    name.clone(),
                    ticks.saturating_sub(before) as f64 / TICKS_PER_SECOND,
                )
            })
            .filter(|(_, seconds)| *seconds > 0.0)
            .collect();
        used.sort_by(|a, b| b.1.total_cmp(&a.1));
        used
    }
}

/// CPU ticks (user + system) that process `pid` has used so far, all its threads together.
pub fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&stat).map(|(_, ticks)| ticks)
}

/// CPU ticks used so far by every process on this machine named `name` (as a PostgreSQL
/// server's are), for a server this process did not start.
pub fn ticks_named(name: &str) -> u64 {
    pids_named(name).filter_map(process_ticks).sum()
}

/// The ids of every process on this machine named `name`.
pub fn pids_named(name: &str) -> impl Iterator<Item = u32> {
    let name = name.to_owned();
    processes().filter_map(move |(pid, stat)| (parse_stat(&stat)?.0 == name).then_some(pid))
}

/// `parent` and the ids of its children.
pub fn with_children(parent: u32) -> Vec<u32> {
    let children = processes().filter_map(|(pid, stat)| {
        let fields = stat.get(stat.rfind(')')? + 1..)?;
        // After the name: state, then the parent's id.
        let ppid: u32 = fields.split_whitespace().nth(1)?.parse().ok()?;
        (ppid == parent).then_some(pid)
    });
    std::iter::once(parent).chain(children).collect()
}

/// Every process on this machine, with its `stat`.
fn processes() -> impl Iterator<Item = (u32, String)> {
    let entries = std::fs::read_dir("/proc").into_iter().flatten().flatten();
    entries.filter_map(|entry| {
        let pid = entry.file_name().to_str()?.parse().ok()?;
        Some((
            pid,
            std::fs::read_to_string(entry.path().join("stat")).ok()?,
        ))
    })
}

/// The proportional set size of process `pid` (`Pss` of `smaps_rollup`): its private pages
/// and its share of the pages it shares, so that the figures of processes sharing memory (a
/// PostgreSQL server's) add up to what they hold together.
pub fn pss(pid: u32) -> Option<u64> {
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let kib = rollup.lines().find_map(|line| line.strip_prefix("Pss:"))?;
    Some(
        kib.trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()?
            * 1024,
    )
}

/// Ticks as seconds.
pub fn seconds(ticks: u64) -> f64 {
    ticks as f64 / TICKS_PER_SECOND
}

/// The name and utime + stime of `/proc/<pid>/task/<tid>/stat`. The name is in parentheses and
/// may itself hold spaces or parentheses, so fields are counted from the last `)`.
fn parse_stat(stat: &str) -> Option<(String, u64)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let name = stat.get(open + 1..close)?.to_owned();
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    // After the name: state is field 3, utime field 14, stime field 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((name, utime + stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_name_and_times_of_a_thread() {
        let stat = "4242 (sqlx-sqlite-wor) S 1 2 3 0 -1 4194368 100 0 0 0 250 30 0 0 20 0 6 0";
        assert_eq!(parse_stat(stat), Some(("sqlx-sqlite-wor".into(), 280)));
        let odd = "7 (a) b (c)) R 1 2 3 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0";
        assert_eq!(parse_stat(odd), Some(("a) b (c)".into(), 11)));
        let own = memory(None).expect("/proc/self/status is readable");
        assert!(own.rss > 0 && own.peak >= own.rss);
        assert!(own.anon > 0 && own.anon < own.rss);
        assert!(
            own.heap.is_some_and(|bytes| bytes > 0),
            "jemalloc counts the heap"
        );
        let by_id = memory(Some(std::process::id())).expect("/proc/<pid>/status is readable");
        assert!(by_id.rss > 0 && by_id.heap.is_none());
        assert!(memory(Some(u32::MAX)).is_none(), "no such process");
        assert!(load_average().is_some_and(|l| l.split(' ').count() == 3));
        let pss = pss(std::process::id()).expect("smaps_rollup is readable");
        assert!(pss > 0 && pss <= own.peak, "{pss} of at most {}", own.peak);
        let thread = std::fs::read_to_string("/proc/self/stat").unwrap();
        let (name, _) = parse_stat(&thread).unwrap();
        assert!(pids_named(&name).any(|pid| pid == std::process::id()));
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let family = with_children(std::process::id());
        assert_eq!(family[0], std::process::id());
        assert!(family.contains(&child.id()), "{family:?}");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
