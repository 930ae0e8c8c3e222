//! Keyed pseudonyms: HMAC-SHA256 of a value under a secret key.
//!
//! A pseudonym is `<kind prefix>` followed by the first 16 bytes of
//! HMAC-SHA256(key, kind tag, 0x00, value) in lower-case hex. The kind is part
//! of the hashed message, so an ID number and a name with the same text never
//! get the same pseudonym, and the prefix shows an analyst which kind of
//! identifier a pseudonym stands for. The same value under the same key always
//! gives the same pseudonym, in every month, which is what lets analysts join
//! periods; under another key every pseudonym changes (see key rotation in
//! `docs/privacy.md`). Without the key nobody can recompute a pseudonym from a
//! guessed ID number, which plain SHA-256 would allow for the few billion
//! possible numbers.

use crate::error::PrivacyError;
use crate::settings::PrivacySettings;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

type HmacSha256 = Hmac<Sha256>;

/// Fewest bytes a key may have (32 characters, e.g. 16 random bytes in hex).
pub const MIN_KEY_BYTES: usize = 32;

/// Bytes of the HMAC kept in a pseudonym: 128 bits make collisions among
/// millions of values practically impossible.
const PSEUDONYM_BYTES: usize = 16;

/// The kind of identifier a pseudonym replaces.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PseudonymKind {
    /// aidlink's own person number (`P00000042`).
    Person,
    /// A resident ID number (the person's, a guardian's, a head of household's).
    ResidentId,
    /// A person's name.
    Name,
    /// A student number (学籍号).
    StudentNo,
    /// A disability certificate number.
    Certificate,
    /// A household or case number.
    Household,
    /// A phone number.
    Phone,
}

impl PseudonymKind {
    /// The prefix of this kind's pseudonyms.
    pub fn prefix(self) -> &'static str {
        match self {
            PseudonymKind::Person => "ps_",
            PseudonymKind::ResidentId => "id_",
            PseudonymKind::Name => "nm_",
            PseudonymKind::StudentNo => "sn_",
            PseudonymKind::Certificate => "ct_",
            PseudonymKind::Household => "hh_",
            PseudonymKind::Phone => "ph_",
        }
    }

    /// The tag hashed with each value, separating the kinds' domains.
    fn tag(self) -> &'static [u8] {
        match self {
            PseudonymKind::Person => b"aidlink/person",
            PseudonymKind::ResidentId => b"aidlink/resident-id",
            PseudonymKind::Name => b"aidlink/name",
            PseudonymKind::StudentNo => b"aidlink/student-no",
            PseudonymKind::Certificate => b"aidlink/certificate",
            PseudonymKind::Household => b"aidlink/household",
            PseudonymKind::Phone => b"aidlink/phone",
        }
    }
}

/// The secret key of the pseudonyms. Its `Debug` shows only the key's public
/// fingerprint ([`PseudonymKey::key_id`]); there is no `Display`, and the key
/// bytes cannot be read back out.
#[derive(Clone)]
pub struct PseudonymKey {
    /// The HMAC already keyed, cloned per value rather than re-keyed.
    mac: HmacSha256,
    /// SHA-256 states after the key's inner and outer pad blocks, for the
    /// one-block messages that nearly every value makes (see
    /// [`PseudonymKey::short_digest`]).
    inner: [u32; 8],
    outer: [u32; 8],
    key_id: String,
}

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// SHA-256's block length in bytes.
const BLOCK: usize = 64;

/// `state` after compressing one 64-byte block.
fn compress(mut state: [u32; 8], block: &[u8; BLOCK]) -> [u32; 8] {
    let block = sha2::digest::generic_array::GenericArray::from(*block);
    sha2::compress256(&mut state, std::slice::from_ref(&block));
    state
}

impl PseudonymKey {
    /// Builds a key from secret bytes; `origin` names where they came from
    /// for the error message.
    pub fn from_bytes(bytes: &[u8], origin: &str) -> Result<Self, PrivacyError> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(PrivacyError::KeyTooShort {
                origin: origin.to_string(),
                bytes: bytes.len(),
                min: MIN_KEY_BYTES,
            });
        }
        // HMAC accepts keys of any length, so this cannot fail; the error arm
        // is mapped rather than unwrapped all the same.
        let mac = HmacSha256::new_from_slice(bytes).map_err(|_| PrivacyError::KeyTooShort {
            origin: origin.to_string(),
            bytes: bytes.len(),
            min: MIN_KEY_BYTES,
        })?;
        let mut probe = mac.clone();
        probe.update(b"aidlink/key-id");
        let key_id = hex::encode(&probe.finalize().into_bytes()[..8]);
        // HMAC (RFC 2104): a key longer than a block is hashed first, then
        // padded with zeros to a block and XORed with the two pads.
        let mut padded = [0u8; BLOCK];
        if bytes.len() > BLOCK {
            use sha2::Digest;
            padded[..32].copy_from_slice(&Sha256::digest(bytes));
        } else {
            padded[..bytes.len()].copy_from_slice(bytes);
        }
        let inner = compress(SHA256_IV, &padded.map(|b| b ^ 0x36));
        let outer = compress(SHA256_IV, &padded.map(|b| b ^ 0x5c));
        Ok(PseudonymKey {
            mac,
            inner,
            outer,
            key_id,
        })
    }

    /// A public fingerprint of the key (16 hex characters): equal fingerprints
    /// mean comparable pseudonyms. It is written to the manifest so an auditor
    /// can see when the key was rotated; it reveals nothing about the key.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The pseudonym of `value` as an identifier of `kind`.
    pub fn pseudonym(&self, kind: PseudonymKind, value: &str) -> String {
        let mut out = String::with_capacity(kind.prefix().len() + 2 * PSEUDONYM_BYTES);
        self.write_pseudonym(kind, value, &mut out);
        out
    }

    /// Appends the pseudonym of `value` to `out`, without allocating: the
    /// analyst tier computes millions of them.
    pub fn write_pseudonym(&self, kind: PseudonymKind, value: &str, out: &mut String) {
        let digest = match self.short_digest(kind, value) {
            Some(digest) => digest,
            None => {
                let mut mac = self.mac.clone();
                mac.update(kind.tag());
                mac.update(&[0]);
                mac.update(value.as_bytes());
                mac.finalize().into_bytes().into()
            }
        };
        // Prefix and hex written into one stack buffer, then appended at
        // once; a table gives each byte's two hex digits.
        let mut text = [0u8; 3 + 2 * PSEUDONYM_BYTES];
        text[..3].copy_from_slice(kind.prefix().as_bytes());
        for (i, &byte) in digest[..PSEUDONYM_BYTES].iter().enumerate() {
            let pair = HEX_PAIRS[usize::from(byte)];
            text[3 + 2 * i] = pair[0];
            text[4 + 2 * i] = pair[1];
        }
        // Letters, an underscore and hex digits: always UTF-8.
        out.push_str(std::str::from_utf8(&text).unwrap_or_default());
    }
}

/// The two lower-case hex digits of every byte.
const HEX_PAIRS: [[u8; 2]; 256] = {
    let digits = *b"0123456789abcdef";
    let mut pairs = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        pairs[i] = [digits[i >> 4], digits[i & 15]];
        i += 1;
    }
    pairs
};

impl PseudonymKey {
    /// HMAC-SHA256(key, tag, 0x00, value) when the message fits in one
    /// padded block (55 bytes: every ID, person number and name), straight
    /// from the precomputed pad states: two block compressions and no
    /// copying of HMAC state, where the pseudonyms of a million students
    /// are most of the analyst tier's time. `None` for a longer message,
    /// which the `hmac` crate then computes; a test checks both agree.
    fn short_digest(&self, kind: PseudonymKind, value: &str) -> Option<[u8; 32]> {
        let (tag, value) = (kind.tag(), value.as_bytes());
        let len = tag.len() + 1 + value.len();
        if len > BLOCK - 9 {
            return None;
        }
        let mut block = [0u8; BLOCK];
        block[..tag.len()].copy_from_slice(tag);
        block[tag.len() + 1..len].copy_from_slice(value);
        block[len] = 0x80;
        // The message length in bits, counting the key's pad block.
        block[BLOCK - 8..].copy_from_slice(&(((BLOCK + len) as u64) * 8).to_be_bytes());
        let inner = compress(self.inner, &block);
        let mut block = [0u8; BLOCK];
        for (i, word) in inner.iter().enumerate() {
            block[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
        }
        block[32] = 0x80;
        block[BLOCK - 8..].copy_from_slice(&(((BLOCK + 32) as u64) * 8).to_be_bytes());
        let outer = compress(self.outer, &block);
        let mut digest = [0u8; 32];
        for (i, word) in outer.iter().enumerate() {
            digest[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
        }
        Some(digest)
    }
}

impl std::fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PseudonymKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The pseudonym of `value` as an identifier of `kind` under `key`.
pub fn pseudonym(key: &PseudonymKey, kind: PseudonymKind, value: &str) -> String {
    key.pseudonym(kind, value)
}

/// Loads the key the `[privacy]` settings name: `Ok(None)` when none is
/// configured, an error when one is configured but cannot be used.
///
/// The key is the file's (or variable's) text with surrounding whitespace
/// trimmed, at least [`MIN_KEY_BYTES`] long. A relative `key_file` is resolved
/// against `config_dir`. On Unix a key file readable by group or others is
/// refused: whoever can read the key can recompute the pseudonym of any ID
/// number they can guess.
pub fn load_key(
    settings: &PrivacySettings,
    config_dir: &Path,
) -> Result<Option<PseudonymKey>, PrivacyError> {
    match (&settings.key_file, &settings.key_env) {
        (Some(_), Some(_)) => Err(PrivacyError::AmbiguousKey),
        (None, None) => Ok(None),
        (Some(file), None) => {
            let path = config_dir.join(file);
            let unreadable = |source| PrivacyError::KeyFileUnreadable {
                path: path.clone(),
                error: source,
            };
            let meta = std::fs::metadata(&path).map_err(unreadable)?;
            check_key_file_mode(&path, &meta)?;
            let bytes = std::fs::read(&path).map_err(unreadable)?;
            PseudonymKey::from_bytes(bytes.trim_ascii(), &path.display().to_string()).map(Some)
        }
        (None, Some(name)) => {
            let value = std::env::var(name)
                .map_err(|_| PrivacyError::KeyEnvUnset { name: name.clone() })?;
            PseudonymKey::from_bytes(value.trim().as_bytes(), &format!("${name}")).map(Some)
        }
    }
}

#[cfg(unix)]
fn check_key_file_mode(path: &Path, meta: &std::fs::Metadata) -> Result<(), PrivacyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(PrivacyError::KeyFileTooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_key_file_mode(_path: &Path, _meta: &std::fs::Metadata) -> Result<(), PrivacyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> PseudonymKey {
        PseudonymKey::from_bytes(text.as_bytes(), "test").unwrap()
    }

    /// The one-block shortcut must give exactly the `hmac` crate's HMAC, for
    /// keys shorter than, equal to and longer than a block, and messages on
    /// both sides of the one-block limit.
    #[test]
    fn short_digest_is_the_hmac() {
        let kinds = [
            PseudonymKind::Person,
            PseudonymKind::ResidentId,
            PseudonymKind::Name,
            PseudonymKind::StudentNo,
            PseudonymKind::Certificate,
            PseudonymKind::Household,
            PseudonymKind::Phone,
        ];
        let mut shortcuts = 0;
        for key_len in [32, 63, 64, 65, 100] {
            let secret: Vec<u8> = (0..key_len).map(|i| (i * 7 + 3) as u8).collect();
            let k = PseudonymKey::from_bytes(&secret, "test").unwrap();
            for kind in kinds {
                for len in 0..70 {
                    let value: String = "张1x".chars().cycle().take(len).collect();
                    let mut mac = HmacSha256::new_from_slice(&secret).unwrap();
                    mac.update(kind.tag());
                    mac.update(&[0]);
                    mac.update(value.as_bytes());
                    let want: [u8; 32] = mac.finalize().into_bytes().into();
                    if let Some(got) = k.short_digest(kind, &value) {
                        assert_eq!(got, want, "key {key_len}, {kind:?}, {value}");
                        shortcuts += 1;
                    }
                    let pseudonym = k.pseudonym(kind, &value);
                    assert_eq!(
                        pseudonym,
                        format!("{}{}", kind.prefix(), hex::encode(&want[..16]))
                    );
                }
            }
        }
        // Most of the lengths tried take the shortcut, some do not.
        assert!(
            shortcuts > 5 * 7 * 20 && shortcuts < 5 * 7 * 70,
            "{shortcuts}"
        );
    }

    #[test]
    fn pseudonyms_are_stable_keyed_and_kind_separated() {
        let a = key("0123456789abcdef0123456789abcdef");
        let b = key("fedcba9876543210fedcba9876543210");
        let id = "110105201203051234";
        let p = a.pseudonym(PseudonymKind::ResidentId, id);
        assert_eq!(p, a.pseudonym(PseudonymKind::ResidentId, id));
        assert!(p.starts_with("id_") && p.len() == 3 + 32, "{p}");
        assert_ne!(p, b.pseudonym(PseudonymKind::ResidentId, id));
        let as_name = a.pseudonym(PseudonymKind::Name, id);
        assert_ne!(p[3..], as_name[3..]);
        assert_ne!(
            p,
            a.pseudonym(PseudonymKind::ResidentId, "110105201203051235")
        );
    }

    #[test]
    fn debug_never_shows_key_material() {
        let secret = "my-very-secret-key-material-0123456789";
        let k = key(secret);
        let shown = format!("{k:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains(k.key_id()));
        assert_ne!(
            k.key_id(),
            key("another-very-secret-key-0123456789").key_id()
        );
    }

    #[test]
    fn short_keys_are_refused() {
        let err = PseudonymKey::from_bytes(b"short", "test").unwrap_err();
        assert!(err.to_string().contains("at least 32"), "{err}");
    }

    #[test]
    fn load_key_reads_files_and_env_and_refuses_bad_setups() {
        let dir = tempfile::tempdir().unwrap();
        let none = PrivacySettings::default();
        assert!(load_key(&none, dir.path()).unwrap().is_none());

        let path = dir.path().join("aidlink.key");
        std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let open = PrivacySettings {
                key_file: Some("aidlink.key".into()),
                ..PrivacySettings::default()
            };
            assert!(matches!(
                load_key(&open, dir.path()),
                Err(PrivacyError::KeyFileTooOpen { .. })
            ));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let file = PrivacySettings {
            key_file: Some("aidlink.key".into()),
            ..PrivacySettings::default()
        };
        let k = load_key(&file, dir.path()).unwrap().unwrap();
        // Trailing newline is trimmed: same key as the bare text.
        assert_eq!(k.key_id(), key("0123456789abcdef0123456789abcdef").key_id());

        let missing = PrivacySettings {
            key_file: Some("nope.key".into()),
            ..PrivacySettings::default()
        };
        assert!(matches!(
            load_key(&missing, dir.path()),
            Err(PrivacyError::KeyFileUnreadable { .. })
        ));

        let unset = PrivacySettings {
            key_env: Some("AIDLINK_TEST_KEY_THAT_IS_NEVER_SET".into()),
            ..PrivacySettings::default()
        };
        assert!(matches!(
            load_key(&unset, dir.path()),
            Err(PrivacyError::KeyEnvUnset { .. })
        ));

        let both = PrivacySettings {
            key_file: Some("aidlink.key".into()),
            key_env: Some("X".into()),
            ..PrivacySettings::default()
        };
        assert!(matches!(
            load_key(&both, dir.path()),
            Err(PrivacyError::AmbiguousKey)
        ));
    }
}
