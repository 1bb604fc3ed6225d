//! Latency statistics: nearest-rank percentiles, mean/σ, and bootstrap intervals for paired
//! ratios.

use crate::record::{Distribution, RatioEstimate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Nearest-rank percentile (`p` in 0..=100) of sorted data: the smallest value such that at
/// least p% of the data are ≤ it. No interpolation: every reported value was measured.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn mean(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Sample standard deviation (n − 1); 0 for fewer than two values.
pub fn stddev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    (xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64).sqrt()
}

/// Median by selection (O(n)): bootstrap intervals take thousands of medians per arm.
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    let (lower, mid, _) = v.select_nth_unstable_by(n / 2, f64::total_cmp);
    let mid = *mid;
    if n % 2 == 1 {
        mid
    } else {
        let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (below + mid) / 2.0
    }
}

pub fn geomean(xs: &[f64]) -> f64 {
    if xs.is_empty() || xs.iter().any(|&x| x <= 0.0) {
        return f64::NAN;
    }
    (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp()
}

pub fn distribution(xs: &[f64]) -> Distribution {
    if xs.is_empty() {
        return Distribution::default();
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    Distribution {
        n: v.len(),
        mean: mean(&v),
        stddev: stddev(&v),
        min: v[0],
        max: v[v.len() - 1],
        p50: percentile_sorted(&v, 50.0),
        p90: percentile_sorted(&v, 90.0),
        p95: percentile_sorted(&v, 95.0),
        p99: percentile_sorted(&v, 99.0),
    }
}

/// Percentile-bootstrap 95% interval of `statistic` over resamples of `xs` (seeded, so the same
/// data always give the same interval).
pub fn bootstrap_ci(
    xs: &[f64],
    statistic: impl Fn(&[f64]) -> f64,
    resamples: usize,
    seed: u64,
) -> (f64, f64) {
    if xs.len() < 2 {
        let s = statistic(xs);
        return (s, s);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut buf = vec![0.0; xs.len()];
    let mut stats: Vec<f64> = (0..resamples)
        .map(|_| {
            for b in buf.iter_mut() {
                *b = xs[rng.gen_range(0..xs.len())];
            }
            statistic(&buf)
        })
        .collect();
    stats.sort_by(f64::total_cmp);
    (
        percentile_sorted(&stats, 2.5),
        percentile_sorted(&stats, 97.5),
    )
}

/// Summarise per-case ratios: median and geometric mean, with a bootstrap 95% interval of the
/// median.
pub fn ratio_estimate(ratios: &[f64], seed: u64) -> RatioEstimate {
    let (lo, hi) = bootstrap_ci(ratios, median, 2000, seed);
    RatioEstimate {
        median: median(ratios),
        geomean: geomean(ratios),
        ci95_low: lo,
        ci95_high: hi,
        n: ratios.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_on_known_vectors() {
        // The textbook example: 15, 20, 35, 40, 50.
        let v = [15.0, 20.0, 35.0, 40.0, 50.0];
        assert_eq!(percentile_sorted(&v, 5.0), 15.0);
        assert_eq!(percentile_sorted(&v, 30.0), 20.0);
        assert_eq!(percentile_sorted(&v, 40.0), 20.0);
        assert_eq!(percentile_sorted(&v, 50.0), 35.0);
        assert_eq!(percentile_sorted(&v, 100.0), 50.0);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile_sorted(&hundred, 50.0), 50.0);
        assert_eq!(percentile_sorted(&hundred, 95.0), 95.0);
        assert_eq!(percentile_sorted(&hundred, 99.0), 99.0);
        assert_eq!(percentile_sorted(&[7.0], 99.0), 7.0);
        assert!(percentile_sorted(&[], 50.0).is_nan());
    }

    #[test]
    fn distribution_of_known_vector() {
        let d = distribution(&[4.0, 1.0, 3.0, 2.0]);
        assert_eq!(
            (d.n, d.min, d.max, d.mean, d.p50, d.p95),
            (4, 1.0, 4.0, 2.5, 2.0, 4.0)
        );
        assert!((d.stddev - 1.290_994_448_7).abs() < 1e-9);
    }

    #[test]
    fn median_geomean_and_bootstrap() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!((geomean(&[1.0, 4.0]) - 2.0).abs() < 1e-12);
        let xs: Vec<f64> = (0..50).map(|i| 2.0 + (i % 5) as f64 * 0.01).collect();
        let (lo, hi) = bootstrap_ci(&xs, median, 1000, 1);
        assert!(lo <= median(&xs) && median(&xs) <= hi);
        assert_eq!(bootstrap_ci(&xs, median, 1000, 1), (lo, hi), "seeded");
    }
}
