//! End-to-end tests: real nodes, real sockets, real processes.

mod flow;
