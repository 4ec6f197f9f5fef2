//! Link impairments and middleboxes as sans-IO elements: each takes packets and
//! the time as inputs and draws its randomness from a seeded [`Rng`] passed in,
//! so the same seed gives the same run, bit for bit.
//!
//! So far: the generator, the loss models, delay with jitter, rate (fixed or
//! a trace), duplication, corruption and MTU. The rest of issue 13 item 1
//! (queues, reordering by probability, middleboxes) is still to come; the
//! simulator takes its generator from here, its links not yet.

pub mod delay;
pub mod loss;
pub mod mangle;
pub mod rate;
pub mod rng;

pub use delay::Delay;
pub use loss::{FourState, Gilbert, Loss};
pub use rate::{Rate, Trace};
pub use rng::Rng;
