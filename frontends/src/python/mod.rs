//! The Python frontend (issue 4; in progress).

pub mod branches;
