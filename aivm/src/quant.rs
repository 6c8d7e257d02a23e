//! Requantization: the one rounding rule of the consensus path.
//!
//! A layer accumulates int8 × int8 products in 32-bit integers. To feed the next layer the
//! accumulator is brought back to int8 with an integer multiplier `m` and a right shift `s`,
//! which together stand for the real factor `m / 2^s` (integer-only inference, Jacob et al. 2018).
//!
//! **The rule** (the same on every machine, written out in `docs/aivm-kernels.md`):
//!
//! ```text
//! p      = acc · m                       (exact, in i64: |acc| < 2^31, 0 < m < 2^31)
//! r      = sign(p) · ((|p| + 2^(s-1)) >> s)   for s ≥ 1  (round half away from zero)
//! r      = p                                   for s = 0
//! out    = clamp(r, lo, hi)              (lo, hi) = (-128, 127), or (0, 127) after ReLU
//! ```
//!
//! The rounding is computed on the magnitude in `u64`, so it cannot overflow: `|p| < 2^62` and
//! `2^(s-1) ≤ 2^61`. No floating point is involved; [`Requant::from_real`] is a tool for the
//! quantizer (off the consensus path) that turns a real scale into `(m, s)`.

use serde::{Deserialize, Serialize};

/// Largest shift a [`Requant`] may use.
pub const MAX_SHIFT: u32 = 62;

/// An integer multiplier and right shift standing for the real factor `multiplier / 2^shift`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requant {
    /// Multiplier, `1 ≤ multiplier ≤ i32::MAX`.
    pub multiplier: i32,
    /// Right shift, `0 ≤ shift ≤ 62`.
    pub shift: u32,
}

/// Why a [`Requant`] is not valid.
#[derive(Clone, Copy, Debug, PartialEq, thiserror::Error)]
pub enum RequantError {
    /// The multiplier is zero or negative.
    #[error("multiplier must be positive, got {0}")]
    NonPositiveMultiplier(i32),
    /// The shift is larger than [`MAX_SHIFT`].
    #[error("shift must be at most {MAX_SHIFT}, got {0}")]
    ShiftTooLarge(u32),
    /// A real scale given to [`Requant::from_real`] is not finite and positive, or too large.
    #[error("real scale {0} cannot be represented as multiplier / 2^shift")]
    UnrepresentableScale(f64),
}

impl Requant {
    /// The identity factor (`1 / 2^0`).
    pub const IDENTITY: Self = Self { multiplier: 1, shift: 0 };

    /// A checked requantizer.
    pub const fn new(multiplier: i32, shift: u32) -> Result<Self, RequantError> {
        let rq = Self { multiplier, shift };
        match rq.check() {
            Ok(()) => Ok(rq),
            Err(e) => Err(e),
        }
    }

    /// Checks the invariants (`multiplier > 0`, `shift ≤ 62`); configs are checked with it when
    /// they are loaded, so the arithmetic below never sees an invalid value.
    pub const fn check(&self) -> Result<(), RequantError> {
        if self.multiplier <= 0 {
            return Err(RequantError::NonPositiveMultiplier(self.multiplier));
        }
        if self.shift > MAX_SHIFT {
            return Err(RequantError::ShiftTooLarge(self.shift));
        }
        Ok(())
    }

    /// `round_half_away_from_zero(acc · multiplier / 2^shift)`, exact, without clamping.
    ///
    /// The result fits in an `i64`: its magnitude is at most `2^62`.
    pub const fn scale(&self, acc: i32) -> i64 {
        let p = acc as i64 * self.multiplier as i64;
        if self.shift == 0 {
            return p;
        }
        let half = 1u64 << (self.shift - 1);
        let mag = (p.unsigned_abs() + half) >> self.shift;
        // mag ≤ (2^62 + 2^61) >> 1 < 2^62, so the cast back is lossless.
        if p < 0 { -(mag as i64) } else { mag as i64 }
    }

    /// Requantizes an accumulator to int8: [`Self::scale`] then clamp to `[-128, 127]`, or to
    /// `[0, 127]` when `relu` is set (ReLU folded into the clamp, as integer-only inference does).
    pub const fn to_i8(&self, acc: i32, relu: bool) -> i8 {
        let lo = if relu { 0 } else { i8::MIN as i64 };
        let r = self.scale(acc);
        let c = if r < lo {
            lo
        } else if r > i8::MAX as i64 {
            i8::MAX as i64
        } else {
            r
        };
        c as i8
    }

    /// The closest `(multiplier, shift)` to a real factor, with the multiplier normalised to
    /// `[2^30, 2^31)` where the shift allows it (the largest precision `i32` gives).
    ///
    /// For quantization tools only: this uses floating point and is not part of the consensus
    /// path, which only ever sees the resulting integers.
    pub fn from_real(real: f64) -> Result<Self, RequantError> {
        if !real.is_finite() || real <= 0.0 || real >= f64::from(i32::MAX) {
            return Err(RequantError::UnrepresentableScale(real));
        }
        // Pick the largest shift that keeps the multiplier below 2^31.
        let mut shift = 0u32;
        while shift < MAX_SHIFT && real * 2f64.powi(shift as i32 + 1) < 2f64.powi(31) {
            shift += 1;
        }
        let m = (real * 2f64.powi(shift as i32)).round();
        let m = if m >= 2f64.powi(31) { f64::from(i32::MAX) } else { m };
        if m < 1.0 {
            return Err(RequantError::UnrepresentableScale(real));
        }
        Self::new(m as i32, shift)
    }

    /// The real factor this stands for (for reports and tools; never used to compute outputs).
    pub fn as_real(&self) -> f64 {
        f64::from(self.multiplier) / 2f64.powi(self.shift as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rounds_half_away_from_zero() {
        // factor 1/2: 3/2 = 1.5 → 2, -3/2 → -2, 1/2 → 1, -1/2 → -1, 5/2 → 3
        let half = Requant::new(1, 1).unwrap();
        assert_eq!(half.scale(3), 2);
        assert_eq!(half.scale(-3), -2);
        assert_eq!(half.scale(1), 1);
        assert_eq!(half.scale(-1), -1);
        assert_eq!(half.scale(5), 3);
        assert_eq!(half.scale(4), 2);
        assert_eq!(half.scale(0), 0);
        // factor 3/8: 7·3/8 = 2.625 → 3, -2.625 → -3, 4·3/8 = 1.5 → 2
        let r = Requant::new(3, 3).unwrap();
        assert_eq!(r.scale(7), 3);
        assert_eq!(r.scale(-7), -3);
        assert_eq!(r.scale(4), 2);
        assert_eq!(r.scale(-4), -2);
        assert_eq!(r.scale(1), 0); // 0.375
    }

    #[test]
    fn saturates_and_folds_relu() {
        let id = Requant::IDENTITY;
        assert_eq!(id.to_i8(1000, false), 127);
        assert_eq!(id.to_i8(-1000, false), -128);
        assert_eq!(id.to_i8(-1000, true), 0);
        assert_eq!(id.to_i8(-5, true), 0);
        assert_eq!(id.to_i8(-5, false), -5);
        assert_eq!(id.to_i8(i32::MIN, false), -128);
    }

    #[test]
    fn extremes_do_not_overflow() {
        let r = Requant::new(i32::MAX, MAX_SHIFT).unwrap();
        assert_eq!(r.scale(i32::MIN), -(((1i64 << 31) * i64::from(i32::MAX) + (1 << 61)) >> 62));
        let r = Requant::new(i32::MAX, 0).unwrap();
        assert_eq!(r.scale(i32::MIN), i64::from(i32::MIN) * i64::from(i32::MAX));
        assert_eq!(r.scale(i32::MAX), i64::from(i32::MAX) * i64::from(i32::MAX));
    }

    #[test]
    fn rejects_invalid() {
        assert_eq!(Requant::new(0, 3), Err(RequantError::NonPositiveMultiplier(0)));
        assert_eq!(Requant::new(-2, 3), Err(RequantError::NonPositiveMultiplier(-2)));
        assert_eq!(Requant::new(1, 63), Err(RequantError::ShiftTooLarge(63)));
        assert!(Requant::from_real(0.0).is_err());
        assert!(Requant::from_real(f64::NAN).is_err());
        assert!(Requant::from_real(-1.0).is_err());
    }

    #[test]
    fn from_real_normalises() {
        let r = Requant::from_real(0.0123).unwrap();
        assert!(r.multiplier >= 1 << 30, "{r:?}");
        assert!((r.as_real() - 0.0123).abs() < 1e-9);
        let one = Requant::from_real(1.0).unwrap();
        assert_eq!(one.scale(12345), 12345);
    }

    proptest! {
        /// The rule against an independent statement of it in i128 arithmetic.
        #[test]
        fn scale_matches_i128_rounding(acc in any::<i32>(), m in 1..=i32::MAX, s in 0..=MAX_SHIFT) {
            let rq = Requant::new(m, s).unwrap();
            let p = i128::from(acc) * i128::from(m);
            let d = 1i128 << s;
            // floor((2|p| + d) / (2d)) is |p|/d rounded half up; restore the sign.
            let q = (2 * p.abs() + d).div_euclid(2 * d) * p.signum();
            let q = if s == 0 { p } else { q };
            prop_assert_eq!(i128::from(rq.scale(acc)), q);
        }
    }
}
