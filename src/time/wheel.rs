//! TEMPORARY stand-in with the wheel's API (replaced by the hierarchical wheel).
#![allow(dead_code, missing_docs)]
use std::collections::BTreeMap;
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TimerKey(u64);
#[derive(Debug)]
pub(crate) struct Wheel<T> {
    map: BTreeMap<(u64, u64), T>,
    keys: std::collections::HashMap<u64, u64>,
    seq: u64,
    elapsed: u64,
}
impl<T> Wheel<T> {
    pub(crate) fn new() -> Self {
        Wheel {
            map: BTreeMap::new(),
            keys: Default::default(),
            seq: 0,
            elapsed: 0,
        }
    }
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }
    pub(crate) fn insert(&mut self, deadline: u64, value: T) -> TimerKey {
        self.seq += 1;
        let d = deadline.max(self.elapsed);
        self.map.insert((d, self.seq), value);
        self.keys.insert(self.seq, d);
        TimerKey(self.seq)
    }
    pub(crate) fn remove(&mut self, key: TimerKey) -> Option<T> {
        let d = self.keys.remove(&key.0)?;
        self.map.remove(&(d, key.0))
    }
    pub(crate) fn get_mut(&mut self, key: TimerKey) -> Option<&mut T> {
        let d = *self.keys.get(&key.0)?;
        self.map.get_mut(&(d, key.0))
    }
    pub(crate) fn deadline(&self, key: TimerKey) -> Option<u64> {
        self.keys.get(&key.0).copied()
    }
    pub(crate) fn next_expiration(&self) -> Option<u64> {
        self.map.keys().next().map(|k| k.0)
    }
    pub(crate) fn advance(&mut self, now: u64, fired: &mut Vec<T>) {
        while let Some((&(d, s), _)) = self.map.iter().next() {
            if d > now {
                break;
            }
            let v = self.map.remove(&(d, s)).unwrap();
            self.keys.remove(&s);
            fired.push(v);
        }
        self.elapsed = self.elapsed.max(now);
    }
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
