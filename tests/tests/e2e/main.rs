//! End-to-end tests: real nodes, real sockets, real processes.

mod catalog;
mod checkout;
mod cluster;
mod crash;
mod flow;
mod guarantees;
mod http_api;
mod media;
mod openapi;
mod operability;
mod postgres_faults;
mod web;
