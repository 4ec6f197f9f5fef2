//! Link impairments and middleboxes as sans-IO elements: each takes packets and
//! the time as inputs and draws its randomness from a seeded [`Rng`] passed in,
//! so the same seed gives the same run, bit for bit.
//!
//! So far: the generator, the loss models, delay with jitter, and rate (fixed or trace). The rest of issue 13 item 1
//! (queues, duplication, corruption, MTU, middleboxes) is still to come.

pub mod delay;
pub mod loss;
pub mod rate;
pub mod rng;

pub use delay::Delay;
pub use loss::{FourState, Gilbert, Loss};
pub use rate::{Rate, Trace};
pub use rng::Rng;
