// sortd: JSON encoding of events and device commands. Used on the inproc sockets between the
// driver threads and the core, for the recorded event log (record / replay), and on the bus.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "events.h"
#include "routing.h"

namespace sortd {

class CodecError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// {"type":"scan_read", ...fields}. decode_* throw CodecError naming the bad field.
nlohmann::json to_json(const Event& e);
Event event_from_json(const nlohmann::json& j);
std::string encode_event(const Event& e);
Event decode_event(std::string_view text);

nlohmann::json to_json(const Order& o);
Order order_from_json(const nlohmann::json& j);  // the JSON order format of docs/orders.md

nlohmann::json to_json(const SortCommand& c);
SortCommand sort_command_from_json(const nlohmann::json& j);
nlohmann::json to_json(const PrintJob& p);
PrintJob print_job_from_json(const nlohmann::json& j);

// Ranked candidates and exclusions: what the HMI shows for "why lane 7?".
nlohmann::json to_json(const Decision& d);

}  // namespace sortd
