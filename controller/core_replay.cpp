#include "core_replay.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "codec.h"
#include "config.h"
#include "core.h"
#include "orders.h"
#include "store.h"

namespace sortd {

using nlohmann::json;

Recorder::Recorder(const std::string& path, const json& header) {
  f_ = std::fopen(path.c_str(), "w");
  if (!f_) throw std::runtime_error("cannot write the event record " + path);
  std::string h = header.dump() + "\n";
  std::fwrite(h.data(), 1, h.size(), f_);
  std::fflush(f_);
}

Recorder::~Recorder() {
  if (f_) std::fclose(f_);
}

void Recorder::write(TimeMs now, const Event& e) {
  std::string line = json{{"t", now}, {"event", to_json(e)}}.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), f_);
  std::fflush(f_);  // a crash keeps every event handed to the core before it
}

namespace {
struct Describe {
  std::vector<std::string>& out;
  void operator()(const StoreDecision& d) const {
    std::ostringstream s;
    s << "decide parcel=" << d.parcel_id << " order=" << (d.order_id.empty() ? "-" : d.order_id)
      << " tracking=" << d.tracking_id << " attempt=" << d.attempt
      << " courier=" << (d.courier.empty() ? "-" : d.courier) << " lane=" << d.lane
      << " chute=" << d.chute << " exception=" << to_string(d.exception);
    out.push_back(s.str());
  }
  void operator()(const StoreParcelState& p) const {
    if (p.state != ParcelState::Diverted && p.state != ParcelState::Exception) return;
    std::ostringstream s;
    s << "final parcel=" << p.parcel_id << " state=" << to_string(p.state) << " lane=" << p.lane
      << " exception=" << to_string(p.exception);
    out.push_back(s.str());
  }
  void operator()(const StoreCapacity& c) const {
    std::ostringstream s;
    s << "capacity day=" << c.day << " courier=" << c.courier << " parcels=" << c.parcels
      << " grams=" << c.grams;
    out.push_back(s.str());
  }
  template <typename T>
  void operator()(const T&) const {}
};
}  // namespace

void describe_effects(const Effects& fx, std::vector<std::string>& out) {
  for (const auto& op : fx.store) std::visit(Describe{out}, op);
  for (const auto& c : fx.sort)
    out.push_back("sort seq=" + std::to_string(c.seq) + " tracking=" +
                  std::to_string(c.tracking_id) + " chute=" + std::to_string(c.chute));
}

ReplayResult replay(std::istream& in, const ReplayOptions& opt) {
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error("record: empty");
  json header = json::parse(line, nullptr, false);
  if (header.is_discarded() || !header.contains("sortd_record"))
    throw std::runtime_error("record:1: not a sortd event record (no header)");
  auto resolve = [&](const std::string& p) {
    std::filesystem::path path(p);
    if (path.is_relative() && !opt.base_dir.empty()) path = std::filesystem::path(opt.base_dir) / p;
    return path.string();
  };
  const std::string config_path = !opt.config_override.empty()
                                      ? opt.config_override
                                      : resolve(header.value("config", std::string()));
  StationConfig cfg = load_config_file(config_path);

  OrderBook book;
  const json orders = header.value("orders", json::object());
  if (orders.contains("demo")) {
    for (auto& o : make_demo_orders(orders.at("demo").get<std::size_t>(),
                                    orders.value("seed", std::uint64_t{42})))
      book.upsert(o);
  }
  if (orders.contains("store")) {
    Store store(resolve(orders.at("store").get<std::string>()));
    store.for_each_order([&](Order&& o) { book.upsert(o); });
  }
  for (const auto& f : orders.value("files", json::array())) {
    ImportResult r = load_orders_file(resolve(f.get<std::string>()));
    for (auto& o : r.orders) book.upsert(o);
  }

  Core core(cfg, book, RecoveredState{});
  ReplayResult result;
  int n = 1;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("t") || !j.contains("event"))
      throw std::runtime_error("record:" + std::to_string(n) + ": not an event line");
    Event e;
    try {
      e = event_from_json(j.at("event"));
    } catch (const CodecError& err) {
      throw std::runtime_error("record:" + std::to_string(n) + ": " + err.what());
    }
    Effects fx = core.handle(e, j.at("t").get<TimeMs>());
    ++result.events;
    describe_effects(fx, result.lines);
  }
  result.parcels = core.stats().decided;
  result.exceptions = core.stats().exceptions;
  return result;
}

}  // namespace sortd
