//! End-to-end tests: real nodes, real sockets, real processes.

mod crash;
mod flow;
mod guarantees;
