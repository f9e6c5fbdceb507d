// The station core's handling of operator commands that come in over the bus (see
// docs/protocol.md): acknowledging an alarm, reprinting a label. Like every other event they are
// recorded, committed and published by the daemon.
#include "core.h"

namespace sortd {

using nlohmann::json;

void Core::on(const AlarmAck& e, TimeMs now, Effects& fx) {
  auto it = alarms_.find(e.key);
  if (it == alarms_.end()) return;  // cleared meanwhile: nothing to acknowledge
  json& a = it->second;
  a["acked"] = true;
  a["acked_by"] = e.user;
  fx.store.push_back(StoreAudit{e.user, "alarm.ack", e.key, now});
  fx.publish.push_back({"alarm", json{{"key", e.key},
                                      {"raised", true},
                                      {"acked", true},
                                      {"acked_by", e.user},
                                      {"severity", a.value("severity", "")},
                                      {"text", a.value("text", "")},
                                      {"time", now}}
                                     .dump()});
}

void Core::on(const LabelReprint& e, TimeMs now, Effects& fx) {
  if (e.parcel_id == 0 || e.courier.empty() || e.order.id.empty()) return;
  const std::uint64_t job_id =
      queue_label(e.parcel_id, e.courier, e.lane, e.order, e.weight_g, now, fx);
  fx.store.push_back(
      StoreAudit{e.user, "reprint",
                 "parcel " + std::to_string(e.parcel_id) + " job " + std::to_string(job_id), now});
  fx.publish.push_back({"label", json{{"job_id", job_id},
                                      {"outcome", "queued"},
                                      {"parcel_id", e.parcel_id},
                                      {"reprint", true},
                                      {"user", e.user},
                                      {"printer", ""},
                                      {"detail", "reprint"}}
                                     .dump()});
}

}  // namespace sortd
