#include "driver.h"

#include <spdlog/spdlog.h>

#include "codec.h"

namespace sortd::dev {

DriverIo::DriverIo(zmq::context_t& ctx, const std::string& events_endpoint,
                   const std::string& commands_endpoint)
    : events_(ctx, zmq::socket_type::push), commands_(ctx, zmq::socket_type::pull) {
  events_.set(zmq::sockopt::sndtimeo, 1000);
  events_.set(zmq::sockopt::linger, 0);
  events_.connect(events_endpoint);
  commands_.set(zmq::sockopt::linger, 0);
  commands_.connect(commands_endpoint);
}

void DriverIo::emit(const Event& e) {
  std::string text = encode_event(e);
  if (!events_.send(zmq::buffer(text), zmq::send_flags::none))
    spdlog::error("driver: core did not take an event within 1 s, dropped: {}", text);
}

std::optional<std::string> DriverIo::next_command(int timeout_ms) {
  zmq::pollitem_t item{commands_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, std::chrono::milliseconds(timeout_ms)) <= 0) return std::nullopt;
  zmq::message_t msg;
  if (!commands_.recv(msg, zmq::recv_flags::dontwait)) return std::nullopt;
  return msg.to_string();
}

}  // namespace sortd::dev
