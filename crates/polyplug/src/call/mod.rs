//! The host's side of a contract call: call contexts, and one type per way of calling.
//!
//! | file | what |
//! |---|---|
//! | `context.rs` | [`CallContext`]: the call arena and the error slot |
//! | `cached.rs` | [`CachedProvider`] (one indirect call) and [`ResolvedProvider`] (cached, re-resolving) |
//! | `guarded.rs` | [`GuardedProvider`] and [`CallGuard`]: calls safe against a concurrent reload or unload |
//! | `instance.rs` | [`ProviderInstance`]: an instance of a stateful provider |
//! | `typed.rs` | [`Invoke`] and [`CallSite`]: what generated typed callers build on |
//! | `codec.rs` | [`codec`]: encoding arguments and decoding results for generated callers |

mod cached;
pub mod codec;
mod context;
mod guarded;
mod instance;
mod typed;

pub use cached::{CachedProvider, ResolvedProvider};
pub use context::CallContext;
pub use guarded::{CallGuard, GuardedProvider};
pub use instance::ProviderInstance;
pub use typed::{CallSite, Invoke};
