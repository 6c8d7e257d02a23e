//! The UCI optical-recognition digits (8×8 images, pixels 0..=16, 1797 samples), as bundled by
//! scikit-learn (`digits.csv.gz`: 64 pixel columns then the label, one sample a line).

use super::TrainError;
use std::{io::Read, path::Path};

/// Pixels per image.
pub const PIXELS: usize = 64;
/// Number of classes.
pub const CLASSES: usize = 10;
/// Largest pixel value.
pub const MAX_PIXEL: u8 = 16;
/// Pixel → int8 input of the quantized model: `x = 7·pixel` (0..=112), i.e. input scale 1/112
/// for the float input `pixel / 16`.
pub const INPUT_GAIN: i8 = 7;

/// Images and labels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digits {
    /// 64 pixels per image, row-major, 0..=16.
    pub images: Vec<[u8; PIXELS]>,
    /// Label per image, 0..=9.
    pub labels: Vec<u8>,
}

/// A change of the input distribution, for fine-tuning experiments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shift {
    /// Images as they are.
    None,
    /// Each image moved two columns to the right and one row down (zeros enter).
    Translate,
    /// Each pixel `p` replaced by `16 − p`.
    Invert,
}

impl Shift {
    /// The shifted image.
    pub fn apply(self, img: &[u8; PIXELS]) -> [u8; PIXELS] {
        match self {
            Self::None => *img,
            Self::Invert => img.map(|p| MAX_PIXEL - p),
            Self::Translate => {
                let mut out = [0u8; PIXELS];
                for r in 1..8 {
                    for c in 2..8 {
                        out[r * 8 + c] = img[(r - 1) * 8 + (c - 2)];
                    }
                }
                out
            }
        }
    }
}

impl Digits {
    /// Reads a gzip-compressed CSV (the scikit-learn file).
    pub fn load_csv_gz(path: &Path) -> Result<Self, TrainError> {
        let raw = std::fs::read(path).map_err(|e| TrainError::Data(format!("{}: {e}", path.display())))?;
        let mut text = String::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_string(&mut text)
            .map_err(|e| TrainError::Data(format!("{}: not gzip text: {e}", path.display())))?;
        Self::parse_csv(&text)
    }

    /// Parses the CSV text.
    pub fn parse_csv(text: &str) -> Result<Self, TrainError> {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let bad = |what: &str| TrainError::Data(format!("line {}: {what}", n + 1));
            let vals: Vec<u8> = line
                .split(',')
                .map(|v| {
                    v.trim().parse::<f64>().ok().filter(|f| f.fract() == 0.0 && (0.0..=16.0).contains(f))
                })
                .map(|v| v.map(|f| f as u8))
                .collect::<Option<_>>()
                .ok_or_else(|| bad("values must be integers in 0..=16"))?;
            if vals.len() != PIXELS + 1 {
                return Err(bad("expected 64 pixels and a label"));
            }
            if usize::from(vals[PIXELS]) >= CLASSES {
                return Err(bad("label must be 0..=9"));
            }
            images.push(vals[..PIXELS].try_into().expect("64 values"));
            labels.push(vals[PIXELS]);
        }
        if images.is_empty() {
            return Err(TrainError::Data("no samples".into()));
        }
        Ok(Self { images, labels })
    }

    /// A deterministic split: samples shuffled with `seed`, the first `test_fraction` held out.
    /// Returns `(train, test)`.
    pub fn split(&self, test_fraction: f64, seed: u64) -> (Self, Self) {
        let mut idx: Vec<usize> = (0..self.labels.len()).collect();
        let mut rng = super::Lcg(seed);
        for i in (1..idx.len()).rev() {
            idx.swap(i, rng.below(i as u64 + 1) as usize);
        }
        let n_test = ((self.labels.len() as f64) * test_fraction).round() as usize;
        let pick = |ids: &[usize]| Self {
            images: ids.iter().map(|&i| self.images[i]).collect(),
            labels: ids.iter().map(|&i| self.labels[i]).collect(),
        };
        (pick(&idx[n_test..]), pick(&idx[..n_test]))
    }

    /// The same samples with `shift` applied to every image.
    pub fn shifted(&self, shift: Shift) -> Self {
        Self { images: self.images.iter().map(|i| shift.apply(i)).collect(), labels: self.labels.clone() }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there is no sample.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Float inputs `pixel / 16`, `[n, 64]` row-major.
    pub fn float_inputs(&self) -> Vec<f32> {
        self.images.iter().flat_map(|i| i.iter().map(|&p| f32::from(p) / 16.0)).collect()
    }

    /// int8 inputs of the quantized model (`7 · pixel`), `[n, 64]` row-major.
    pub fn int8_inputs(&self) -> Vec<i8> {
        self.images.iter().flat_map(|i| i.iter().map(|&p| p as i8 * INPUT_GAIN)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let line = |label: u8| {
            let mut v: Vec<String> = (0..64).map(|i| (i % 17).to_string()).collect();
            v.push(label.to_string());
            v.join(",")
        };
        let d = Digits::parse_csv(&format!("{}\n{}\n", line(3), line(9))).unwrap();
        assert_eq!(d.labels, vec![3, 9]);
        assert_eq!(d.images[0][16], 16);
        assert!(Digits::parse_csv(&line(10)).is_err());
        assert!(Digits::parse_csv("1,2,3").is_err());
        assert!(Digits::parse_csv(&line(3).replace("16", "17")).is_err());
        assert!(Digits::parse_csv("").is_err());
        let (train, test) =
            Digits::parse_csv(&[line(1), line(2), line(3), line(4)].join("\n")).unwrap().split(0.25, 1);
        assert_eq!((train.len(), test.len()), (3, 1));
    }

    #[test]
    fn shifts() {
        let mut img = [0u8; PIXELS];
        img[0] = 5;
        img[63] = 9;
        let t = Shift::Translate.apply(&img);
        assert_eq!(t[8 + 2], 5);
        assert_eq!(t.iter().map(|&p| u32::from(p)).sum::<u32>(), 5);
        assert_eq!(Shift::Invert.apply(&img)[0], 11);
        assert_eq!(Shift::None.apply(&img), img);
    }
}
