// Names of the event and effect enums (controller/events.h).
#include "events.h"

namespace sortd {

const char* to_string(DivertOutcome o) {
  switch (o) {
    case DivertOutcome::Diverted:
      return "diverted";
    case DivertOutcome::Recirculated:
      return "recirculated";
    case DivertOutcome::Rejected:
      return "rejected";
    case DivertOutcome::Lost:
      return "lost";
  }
  return "unknown";
}
const char* to_string(DeviceKind k) {
  switch (k) {
    case DeviceKind::Scanner:
      return "scanner";
    case DeviceKind::Printer:
      return "printer";
    case DeviceKind::Sorter:
      return "sorter";
  }
  return "unknown";
}
const char* to_string(JobOutcome o) {
  switch (o) {
    case JobOutcome::Queued:
      return "queued";
    case JobOutcome::Printed:
      return "printed";
    case JobOutcome::Failed:
      return "failed";
    case JobOutcome::Held:
      return "held";
    case JobOutcome::Cancelled:
      return "cancelled";
  }
  return "unknown";
}
const char* to_string(ParcelState s) {
  switch (s) {
    case ParcelState::Decided:
      return "decided";
    case ParcelState::Commanded:
      return "commanded";
    case ParcelState::Diverted:
      return "diverted";
    case ParcelState::Exception:
      return "exception";
  }
  return "unknown";
}

void Effects::append(Effects&& more) {
  auto move_all = [](auto& into, auto& from) {
    if (into.empty()) {
      into = std::move(from);
    } else {
      into.insert(into.end(), std::make_move_iterator(from.begin()),
                  std::make_move_iterator(from.end()));
    }
  };
  move_all(store, more.store);
  move_all(sort, more.sort);
  move_all(print, more.print);
  move_all(publish, more.publish);
  move_all(log, more.log);
}

}  // namespace sortd
