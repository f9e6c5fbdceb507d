// Printing of sortd's enums for Boost.Test messages.
#pragma once

#include <ostream>

#include "events.h"
#include "model.h"

namespace sortd {
inline std::ostream& operator<<(std::ostream& o, ExceptionKind k) {
  return o << to_string(k);
}
inline std::ostream& operator<<(std::ostream& o, ParcelState s) {
  return o << to_string(s);
}
inline std::ostream& operator<<(std::ostream& o, OrderStatus s) {
  return o << to_string(s);
}
inline std::ostream& operator<<(std::ostream& o, ServiceLevel s) {
  return o << to_string(s);
}
inline std::ostream& operator<<(std::ostream& o, LaneKind k) {
  return o << to_string(k);
}
inline std::ostream& operator<<(std::ostream& o, DivertOutcome d) {
  return o << to_string(d);
}
inline std::ostream& operator<<(std::ostream& o, JobOutcome j) {
  return o << to_string(j);
}
}  // namespace sortd
