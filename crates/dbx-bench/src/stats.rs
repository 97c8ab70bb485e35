//! Latency samples and the figures drawn from them.

use std::time::Duration;

use serde::Serialize;

/// Durations recorded one operation at a time.
#[derive(Debug, Default, Clone)]
pub(crate) struct Samples {
    nanos: Vec<u64>,
}

impl Samples {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Self {
            nanos: Vec::with_capacity(n),
        }
    }

    pub(crate) fn push(&mut self, d: Duration) {
        self.nanos
            .push(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
    }

    pub(crate) fn extend(&mut self, other: &Samples) {
        self.nanos.extend_from_slice(&other.nanos);
    }

    /// Median, p99 and mean, in microseconds.
    pub(crate) fn summary(&self) -> Summary {
        let mut sorted = self.nanos.clone();
        sorted.sort_unstable();
        let mean = if sorted.is_empty() {
            0.0
        } else {
            sorted.iter().map(|&n| n as f64).sum::<f64>() / sorted.len() as f64
        };
        Summary {
            n: sorted.len(),
            p50_us: percentile(&sorted, 0.50) / 1e3,
            p99_us: percentile(&sorted, 0.99) / 1e3,
            mean_us: mean / 1e3,
        }
    }
}

/// The nearest-rank percentile of sorted nanoseconds.
fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = index((p * sorted.len() as f64).ceil(), sorted.len() + 1);
    sorted[rank.max(1) - 1] as f64
}

/// `x` as an index below `len`: clamped first, so the conversion cannot wrap or truncate.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn index(x: f64, len: usize) -> usize {
    x.clamp(0.0, len.saturating_sub(1) as f64) as usize
}

/// What one set of samples comes to.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub(crate) struct Summary {
    pub(crate) n: usize,
    pub(crate) p50_us: f64,
    pub(crate) p99_us: f64,
    pub(crate) mean_us: f64,
}

/// A linear-interpolated quantile of plain numbers.
pub(crate) fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (lo, hi) = (
        index(pos.floor(), sorted.len()),
        index(pos.ceil(), sorted.len()),
    );
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// A small, fast, seeded generator, so that both sides of a comparison see the same keys.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `1..=n`.
    pub(crate) fn one_to(&mut self, n: u64) -> i64 {
        i64::try_from(self.next_u64() % n.max(1) + 1).unwrap_or(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let mut s = Samples::default();
        for us in 1..=100 {
            s.push(Duration::from_micros(us));
        }
        let sum = s.summary();
        assert_eq!(sum.n, 100);
        assert_eq!(sum.p50_us, 50.0);
        assert_eq!(sum.p99_us, 99.0);
        assert!((sum.mean_us - 50.5).abs() < 1e-9);
        assert_eq!(Samples::default().summary().p50_us, 0.0);
    }

    #[test]
    fn quantiles_interpolate_and_skip_non_numbers() {
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), 2.5);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.1), 1.4);
        assert_eq!(quantile(&[1.0, f64::NAN, 3.0], 1.0), 3.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn the_generator_is_seeded_and_in_range() {
        let (mut a, mut b) = (SplitMix::new(7), SplitMix::new(7));
        for _ in 0..1000 {
            let x = a.one_to(10);
            assert_eq!(x, b.one_to(10));
            assert!((1..=10).contains(&x));
        }
    }
}
