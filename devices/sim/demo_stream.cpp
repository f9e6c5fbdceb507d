#include "demo_stream.h"

#include <algorithm>

#include "orders.h"

namespace sortd::dev {

DemoStream::DemoStream(const DemoStreamOptions& o) : o_(o), rng_(o.seed) {
  auto orders = make_demo_orders(o.orders, o.seed);
  codes_.reserve(orders.size());
  for (auto& order : orders) codes_.push_back(std::move(order.codes));
  std::shuffle(codes_.begin(), codes_.end(), rng_);
}

std::vector<std::string> DemoStream::next() {
  std::uniform_real_distribution<double> u(0, 1);
  const double r = u(rng_);
  if (r < o_.no_read) return {};
  if (r < o_.no_read + o_.unknown) return {"PX" + std::to_string(900000000 + (rng_() % 99999999))};
  if (r < o_.no_read + o_.unknown + o_.multi && codes_.size() > 2) {
    std::vector<std::string> two{codes_[cursor_ % codes_.size()][0],
                                 codes_[(cursor_ + 1) % codes_.size()][0]};
    cursor_ += 2;
    return two;
  }
  if (r < o_.no_read + o_.unknown + o_.multi + o_.duplicate && !used_.empty())
    return used_[rng_() % used_.size()];
  if (codes_.empty()) return {};
  std::vector<std::string> c = codes_[cursor_++ % codes_.size()];
  used_.push_back(c);
  if (used_.size() > 500) used_.erase(used_.begin());
  return c;
}

}  // namespace sortd::dev
