//! The cryptographic layer of the repository format (docs/FORMAT.md §2, §4, §5): padding, the
//! envelope every ciphertext uses, the key hierarchy, and the recovery code that wraps the
//! master key, and the [`secret::Secret`] type every key travels in.
//!
//! Nothing here touches storage; `crate::repo` decides which key, kind and identity each object
//! gets.

pub mod envelope;
pub mod key_object;
pub mod keys;
pub mod padding;
pub mod recovery;
pub mod secret;

pub use keys::{KeyId, MasterKey, SubKey};
