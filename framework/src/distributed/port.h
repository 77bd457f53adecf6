#pragma once
// Asked before a rendezvous store is served on a port: LibTorch 1.13's TCPStore logs every failed
// bind through glog on stderr before it throws, and a port in use must be one line.

namespace lmforge {

/// Whether something already listens on `port` (any local address).
bool port_in_use(int port);

}  // namespace lmforge
