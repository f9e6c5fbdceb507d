// sortd scanners (internal): the read loop of byte-stream transports (TCP, serial).
#pragma once

#include <stop_token>
#include <string>

#include "scanner/scanner.h"

namespace sortd::dev::scanner {

// Reads `fd` into the pipeline until the peer goes away, an error happens or stop is requested;
// sends trigger bytes when due. Returns why it ended ("" when stopping). Does not close fd.
// `replace_fd`, when given, is polled too: when it becomes readable the loop returns "replaced"
// so that the caller can take the new connection (TCP server).
std::string stream_loop(int fd, ReadPipeline& pipe, Trigger& trigger, Host& host,
                        std::stop_token stop, int listen_fd = -1);

// Writes all of `bytes` (short waits for a full buffer); false on error.
bool write_all(int fd, const std::string& bytes);

}  // namespace sortd::dev::scanner
