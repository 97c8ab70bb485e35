//! Batons: `base64(stream id ‖ sequence ‖ HMAC-SHA256(key, stream id ‖ sequence))`.
//!
//! Signed, not encrypted: the ids are readable but cannot be forged or altered, and the key
//! is random per process, so batons die with a restart. Every response hands out the next
//! sequence number, so a baton works once.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Signs and checks batons with one secret key.
pub(crate) struct BatonKey([u8; 32]);

impl std::fmt::Debug for BatonKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BatonKey(..)")
    }
}

impl BatonKey {
    /// A fresh random key.
    pub(crate) fn random() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system provides random bytes");
        Self(key)
    }

    fn mac(&self) -> HmacSha256 {
        HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length")
    }

    /// The baton for `stream` at `seq`.
    pub(crate) fn sign(&self, stream: u64, seq: u64) -> String {
        let mut bytes = Vec::with_capacity(48);
        bytes.extend_from_slice(&stream.to_be_bytes());
        bytes.extend_from_slice(&seq.to_be_bytes());
        let mut mac = self.mac();
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes());
        STANDARD_NO_PAD.encode(bytes)
    }

    /// The stream and sequence of a genuine baton; `None` for anything forged or garbled.
    pub(crate) fn verify(&self, baton: &str) -> Option<(u64, u64)> {
        let bytes = STANDARD_NO_PAD.decode(baton.trim_end_matches('=')).ok()?;
        if bytes.len() != 48 {
            return None;
        }
        let (payload, tag) = bytes.split_at(16);
        let mut mac = self.mac();
        mac.update(payload);
        mac.verify_slice(tag).ok()?;
        let stream = u64::from_be_bytes(payload[..8].try_into().ok()?);
        let seq = u64::from_be_bytes(payload[8..].try_into().ok()?);
        Some((stream, seq))
    }
}

/// A random 64-bit number, for stream ids and sequence starts.
pub(crate) fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    u64::from_be_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batons_verify_only_unaltered() {
        let key = BatonKey::random();
        let baton = key.sign(42, 7);
        assert_eq!(baton.len(), 64);
        assert_eq!(key.verify(&baton), Some((42, 7)));
        // Another key, a flipped character, a truncated or empty baton: all refused.
        assert_eq!(BatonKey::random().verify(&baton), None);
        let mut tampered = baton.clone().into_bytes();
        tampered[3] = if tampered[3] == b'A' { b'B' } else { b'A' };
        assert_eq!(key.verify(std::str::from_utf8(&tampered).unwrap()), None);
        assert_eq!(key.verify(&baton[..40]), None);
        assert_eq!(key.verify(""), None);
        assert_eq!(key.verify("not base64 at all!"), None);
    }
}
