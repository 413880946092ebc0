//! Which dataset a block hashes over, on the two chains whose GPUs mined
//! this hash: Ethereum's Ethash (an epoch every 30,000 blocks) and Ethereum
//! Classic's Etchash (ECIP-1099: from block 11,700,000 an epoch lasts
//! 60,000 blocks, so the dataset grows half as fast). Everything that
//! turns a block into sizes and a seed goes through [`Epoch`].

use super::reference::{self as r, Item, EPOCHS, EPOCH_LENGTH};

/// ECIP-1099's activation block on Ethereum Classic's main network.
pub const ECIP1099_BLOCK: u64 = 11_700_000;
/// Blocks per Etchash epoch from [`ECIP1099_BLOCK`] on.
pub const ETCHASH_EPOCH_LENGTH: u64 = 2 * EPOCH_LENGTH;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chain {
    Ethash,
    Etchash,
}

impl Chain {
    pub fn name(self) -> &'static str {
        match self {
            Chain::Ethash => "Ethash",
            Chain::Etchash => "Etchash",
        }
    }
}

/// The epoch a block hashes in: `number` indexes the size tables; `seed_of`
/// is the Ethash epoch whose seed it uses (the same number, but for
/// Etchash's long epochs, which keep the seed of their first block under
/// the old rule: 2 × number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epoch {
    pub chain: Chain,
    pub number: u64,
    seed_of: u64,
}

impl Epoch {
    /// Ethereum's epoch `number`.
    pub fn ethash(number: u64) -> Epoch {
        Epoch {
            chain: Chain::Ethash,
            number,
            seed_of: number,
        }
    }

    /// The epoch of `block` on `chain`, or why no size table covers it.
    pub fn of_block(chain: Chain, block: u64) -> Result<Epoch, String> {
        let e = match chain {
            Chain::Etchash if block >= ECIP1099_BLOCK => {
                let number = block / ETCHASH_EPOCH_LENGTH;
                // core-geth: seedHash(number × 60000 + 1), i.e. the old
                // rule's epoch of that block.
                let seed_of = (number * ETCHASH_EPOCH_LENGTH + 1) / EPOCH_LENGTH;
                Epoch {
                    chain,
                    number,
                    seed_of,
                }
            }
            _ => Epoch {
                chain,
                ..Epoch::ethash(block / EPOCH_LENGTH)
            },
        };
        if e.number >= EPOCHS || e.seed_of >= 2 * EPOCHS {
            return Err(format!(
                "block {block} is in {} epoch {}; the size tables end at epoch {}",
                chain.name(),
                e.number,
                EPOCHS - 1
            ));
        }
        Ok(e)
    }

    pub fn cache_bytes(&self) -> u64 {
        r::cache_size(self.number)
    }

    pub fn dataset_bytes(&self) -> u64 {
        r::dataset_size(self.number)
    }

    pub fn seed(&self) -> [u8; 32] {
        r::seed_hash(self.seed_of)
    }

    /// The light cache, computed on the CPU (a second or so for a
    /// gigabyte-sized epoch).
    pub fn cache(&self) -> Vec<Item> {
        r::light_cache(self.cache_bytes(), &self.seed())
    }

    /// As rows and messages name it: `epoch 517`, `Etchash epoch 195`.
    pub fn label(&self) -> String {
        match self.chain {
            Chain::Ethash => format!("epoch {}", self.number),
            Chain::Etchash => format!("Etchash epoch {}", self.number),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethash_epochs_are_thirty_thousand_blocks() {
        let e = Epoch::of_block(Chain::Ethash, 15_537_393).unwrap();
        assert_eq!(e.number, 517);
        assert_eq!(e.seed(), r::seed_hash(517));
        assert_eq!(e.dataset_bytes(), r::dataset_size(517));
        assert!(Epoch::of_block(Chain::Ethash, EPOCHS * EPOCH_LENGTH).is_err());
    }

    #[test]
    fn etchash_keeps_ethash_before_its_fork_and_halves_growth_after() {
        let before = Epoch::of_block(Chain::Etchash, ECIP1099_BLOCK - 1).unwrap();
        assert_eq!((before.number, before.seed_of), (389, 389));
        let at = Epoch::of_block(Chain::Etchash, ECIP1099_BLOCK).unwrap();
        assert_eq!((at.number, at.seed_of), (195, 390));
        assert_eq!(at.dataset_bytes(), r::dataset_size(195));
        // The seed holds over the whole 60,000-block epoch.
        let last = Epoch::of_block(Chain::Etchash, 200 * ETCHASH_EPOCH_LENGTH - 1).unwrap();
        let middle = Epoch::of_block(Chain::Etchash, 199 * ETCHASH_EPOCH_LENGTH + 30_000).unwrap();
        assert_eq!(last, middle);
        assert_eq!(last.seed(), r::seed_hash(2 * 199));
        assert_eq!(at.label(), "Etchash epoch 195");
    }
}
