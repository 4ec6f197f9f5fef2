//! Link impairments and middleboxes as sans-IO elements: each takes packets and
//! the time as inputs and draws its randomness from a seeded [`Rng`] passed in,
//! so the same seed gives the same run, bit for bit.
//!
//! So far: the generator, the loss models and delay with jitter. The rest of issue 13 item 1
//! (rate, queues, middleboxes) is still to come.

pub mod delay;
pub mod loss;
pub mod rng;

pub use delay::Delay;
pub use loss::{FourState, Gilbert, Loss};
pub use rng::Rng;
