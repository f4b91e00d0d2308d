//! The instruction sets the kernel's vectorised bodies are compiled for, detected once per plan.
//!
//! Every body with a `#[target_feature]` twin (the packed products, the mixing, the direct sums)
//! is chosen by the [`Isa`] its plan holds, not by a detection at the call: the tests build plans
//! for every instruction set the CPU runs (`Isa::supported`), so each body is exercised on
//! its own whatever the machine's best one is. (The ridge stage's maxima masks detect AVX2 at
//! the call; their test runs the AVX2 and the portable body side by side.)

/// An instruction set this CPU runs. Only detection makes one (the field is private), so the
/// `unsafe` calls of a `#[target_feature]` body chosen by an `Isa` are sound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Isa(Level);

/// The tile kernels and vector bodies, from the widest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// AVX-512F for the products, AVX2 and FMA for the rest.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// AVX2 and FMA. (A CPU with AVX2 but no FMA — none is known — takes the portable bodies.)
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
    /// Plain Rust, vectorised by the compiler for the target's baseline.
    Portable,
}

impl Isa {
    /// The best instruction set of this CPU (the standard library caches the detection).
    pub(crate) fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("avx2") && has!("fma") {
                return Isa(Level::Avx512);
            }
            if has!("avx2") && has!("fma") {
                return Isa(Level::Avx2Fma);
            }
        }
        Isa(Level::Portable)
    }

    /// Every instruction set this CPU runs, the best first: each level's bodies need a subset
    /// of the features of the level before.
    #[cfg(test)]
    pub(crate) fn supported() -> Vec<Isa> {
        #[cfg(target_arch = "x86_64")]
        let all = [Level::Avx512, Level::Avx2Fma, Level::Portable];
        #[cfg(not(target_arch = "x86_64"))]
        let all = [Level::Portable];
        let best = Isa::detect().level();
        all.into_iter().skip_while(|&level| level != best).map(Isa).collect()
    }

    /// Which bodies this instruction set runs.
    pub(crate) fn level(self) -> Level {
        self.0
    }

    /// Whether the AVX2 bodies may run (the direct sums).
    pub(crate) fn has_avx2(self) -> bool {
        self.0 != Level::Portable
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_instruction_set_comes_first_and_portable_is_always_there() {
        let all: Vec<Level> = Isa::supported().into_iter().map(Isa::level).collect();
        assert_eq!(all[0], Isa::detect().level());
        assert_eq!(all.last(), Some(&Level::Portable));
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            let avx2 = has!("avx2") && has!("fma");
            assert_eq!(all.contains(&Level::Avx2Fma), avx2);
            assert_eq!(all.contains(&Level::Avx512), avx2 && has!("avx512f"));
        }
    }
}
