//! Percentiles and how figures are printed.

/// The `p`-th percentile (0–100) of `samples` by the nearest-rank method; sorts in place.
pub fn percentile<T: Copy + Ord + Default>(samples: &mut [T], p: f64) -> T {
    if samples.is_empty() {
        return T::default();
    }
    samples.sort_unstable();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

pub fn median_f64(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    } else {
        sorted[mid]
    }
}

/// Microseconds as a short human figure: `850 µs`, `12.3 ms`, `1.52 s`.
pub fn micros(us: u64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{:.1} ms", us as f64 / 1_000.0)
    } else {
        format!("{:.2} s", us as f64 / 1_000_000.0)
    }
}

/// A count with thin separators: `1 000 000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

pub fn bytes(n: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if (n as f64) < MIB {
        format!("{:.0} KiB", n as f64 / 1024.0)
    } else if (n as f64) < 1024.0 * MIB {
        format!("{:.1} MiB", n as f64 / MIB)
    } else {
        format!("{:.2} GiB", n as f64 / (1024.0 * MIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut v: Vec<u64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut v, 50.0), 50);
        assert_eq!(percentile(&mut v, 99.0), 99);
        assert_eq!(percentile(&mut v, 100.0), 100);
        assert_eq!(percentile(&mut [7u64], 95.0), 7);
        assert_eq!(median_f64(&[3.0, 1.0, 2.0, 10.0]), 2.5);
        assert_eq!(count(1_234_567), "1 234 567");
    }
}
