//! A small map from guest pc to label for one region: its blocks are
//! inserted in address order, so a sorted vector searched by bisection
//! does what a `BTreeMap` did, without an allocation per node (start-up
//! translates thousands of regions, each with a map of a few blocks).

use super::super::encode::Label;
use alloc::vec::Vec;

/// Guest pcs (ascending) and their labels.
#[derive(Debug, Default)]
pub(super) struct PcMap(Vec<(u64, Label)>);

impl PcMap {
    pub(super) fn with_capacity(n: usize) -> PcMap {
        PcMap(Vec::with_capacity(n))
    }

    /// Add `pc`; keeps the order whatever order pcs come in.
    pub(super) fn insert(&mut self, pc: u64, l: Label) {
        match self.0.binary_search_by_key(&pc, |e| e.0) {
            Ok(i) => self.0[i].1 = l,
            Err(i) => self.0.insert(i, (pc, l)),
        }
    }

    pub(super) fn get(&self, pc: &u64) -> Option<&Label> {
        self.0
            .binary_search_by_key(pc, |e| e.0)
            .ok()
            .map(|i| &self.0[i].1)
    }
}

impl core::ops::Index<&u64> for PcMap {
    type Output = Label;
    fn index(&self, pc: &u64) -> &Label {
        self.get(pc).expect("a label for every block of the region")
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::encode::Asm;
    use super::*;

    #[test]
    fn finds_what_was_inserted_in_any_order() {
        let mut a = Asm::new(0x1000);
        let (l1, l2, l3) = (a.label(), a.label(), a.label());
        let mut m = PcMap::with_capacity(2);
        m.insert(0x20, l2);
        m.insert(0x10, l1);
        m.insert(0x30, l3);
        assert_eq!(m[&0x10], l1);
        assert_eq!(m.get(&0x20), Some(&l2));
        assert_eq!(m[&0x30], l3);
        assert_eq!(m.get(&0x18), None);
        m.insert(0x20, l3);
        assert_eq!(m[&0x20], l3);
    }
}
