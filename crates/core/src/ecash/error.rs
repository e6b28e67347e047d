//! What can go wrong moving eCash: [`EcashError`] lives in `flash-api` (the page receives it
//! as a message), with cdk's errors mapped once there behind its `cdk` feature.

pub use flash_api::errors::EcashError;
