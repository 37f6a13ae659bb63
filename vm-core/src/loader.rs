//! Loader: ELF images into guest memory, and the initial process stack.
//!
//! SKELETON: to be filled in.
