//! Link impairments and middleboxes as sans-IO elements: each takes packets and
//! the time as inputs and draws its randomness from a seeded [`Rng`] passed in,
//! so the same seed gives the same run, bit for bit.
//!
//! So far: the generator and the loss models. The rest of issue 13 item 1
//! (delay, jitter, rate, queues, middleboxes) is still to come.

pub mod loss;
pub mod rng;

pub use loss::{FourState, Gilbert, Loss};
pub use rng::Rng;
