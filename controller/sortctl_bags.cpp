// sortctl: bags, manifests and handover (docs/bags.md). The subcommands are added to sortctl's
// app by add_bag_commands(); each builds one bus request and shows its result.
#include <iostream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

namespace sortctl_bags {

using nlohmann::json;
using Simple =
    std::function<void(CLI::App*, std::function<json()>, std::function<void(const json&)>)>;

namespace {

std::string cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  return v.dump();
}

void rows(const std::vector<std::string>& cols, const json& items) {
  std::vector<std::size_t> w;
  for (const auto& c : cols) w.push_back(c.size());
  for (const auto& r : items)
    for (std::size_t i = 0; i < cols.size(); ++i)
      w[i] = std::max(w[i], cell(r.value(cols[i], json())).size());
  auto line = [&](auto get) {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      const std::string s = get(i);
      std::cout << s << (i + 1 < cols.size() ? std::string(w[i] - s.size() + 2, ' ') : "");
    }
    std::cout << "\n";
  };
  line([&](std::size_t i) { return cols[i]; });
  for (const auto& r : items) line([&](std::size_t i) { return cell(r.value(cols[i], json())); });
}

struct Args {
  int lane = 0;
  std::int64_t manifest = 0;
  std::string state = "all", courier, bag, code;
  bool force = false, parcels = false;
};

}  // namespace

void add_bag_commands(CLI::App& app, const Simple& simple) {
  static Args a;

  auto* bag = app.add_subcommand("bag", "bags: close a lane's bag, list the open bags");
  bag->require_subcommand(1);
  auto* bag_close = bag->add_subcommand("close", "close the bag of a lane (prints its label)");
  bag_close->add_option("lane", a.lane, "lane id")->required();
  simple(
      bag_close,
      [] {
        return json{{"cmd", "bag.close"}, {"lane", a.lane}};
      },
      [](const json& r) {
        std::cout << "lane " << a.lane << ": bag " << cell(r["bag_id"]) << " closed, "
                  << cell(r["count"]) << " parcels, manifest " << cell(r["manifest_id"]) << "\n";
      });
  simple(
      bag->add_subcommand("list", "the open bag of every lane"),
      [] {
        return json{{"cmd", "bags"}};
      },
      [](const json& r) {
        rows({"lane", "bag_id", "courier", "count", "max_count", "grams", "max_g"}, r["bags"]);
      });

  auto* man = app.add_subcommand("manifest", "courier manifests: list, show, close");
  man->require_subcommand(1);
  auto* list = man->add_subcommand("list", "manifests, newest first");
  list->add_option("--state", a.state, "open, closed or all")->capture_default_str();
  list->add_option("--courier", a.courier, "only this courier");
  simple(
      list,
      [] {
        return json{{"cmd", "manifests"}, {"state", a.state}, {"courier", a.courier}};
      },
      [](const json& r) {
        json items = json::array();
        for (auto m : r["manifests"]) {
          m["picked_bags"] = m["picked_up"]["bags"];
          m["parcels"] = m["sorted"]["parcels"];
          items.push_back(m);
        }
        rows({"manifest_id", "courier", "wave", "cutoff", "state", "bags", "picked_bags", "parcels",
              "issues"},
             items);
      });
  auto* show = man->add_subcommand("show", "one manifest: bags sorted vs picked up, issues");
  show->add_option("id", a.manifest, "manifest id")->required();
  show->add_flag("--parcels", a.parcels, "list every parcel too");
  simple(
      show,
      [] {
        return json{{"cmd", "manifest"}, {"manifest_id", a.manifest}, {"parcels", a.parcels}};
      },
      [](const json& r) {
        const json& m = r["manifest"];
        std::cout << "manifest " << cell(m["manifest_id"]) << "  " << cell(m["courier"])
                  << "  wave " << cell(m["wave"]) << " " << cell(m["cutoff"]) << "  "
                  << cell(m["state"]) << "\n"
                  << "sorted " << cell(m["sorted"]["bags"]) << " bags / "
                  << cell(m["sorted"]["parcels"]) << " parcels; picked up "
                  << cell(m["picked_up"]["bags"]) << " bags / " << cell(m["picked_up"]["parcels"])
                  << " parcels\n\n";
        rows({"bag_id", "lane", "count", "grams", "picked_up", "picked_by", "reason"}, m["bags"]);
        if (!m["issues"].empty()) {
          std::cout << "\n";
          rows({"kind", "bag_id", "parcel_id", "detail"}, m["issues"]);
        }
        if (m.contains("parcels")) {
          std::cout << "\n";
          rows({"bag_id", "parcel_id", "order_id", "tracking_number", "weight_g", "diverted_at",
                "picked_up"},
               m["parcels"]);
        }
      });
  auto* close = man->add_subcommand(
      "close", "close a manifest: export CSV/JSON/sheet, publish parcel.shipped (supervisor)");
  close->add_option("id", a.manifest, "manifest id")->required();
  close->add_flag("--force", a.force, "close although bags of the courier are still open");
  simple(
      close,
      [] {
        return json{{"cmd", "manifest.close"}, {"manifest_id", a.manifest}, {"force", a.force}};
      },
      [](const json& r) {
        std::cout << "manifest " << cell(r["manifest_id"]) << " closed: " << cell(r["parcels"])
                  << " parcels shipped; picked up " << cell(r["picked_up"]["bags"]) << " of "
                  << cell(r["sorted"]["bags"]) << " bags\n";
        for (const auto& i : r["issues"])
          std::cout << "  " << cell(i["kind"]) << ": " << cell(i["detail"]) << "\n";
        for (const auto& [k, v] : r["files"].items())
          std::cout << "  " << k << " " << cell(v) << "\n";
      });

  auto* ho = app.add_subcommand("handover", "handover to a courier's picker: bag scans, missorts");
  ho->require_subcommand(1);
  auto* scan = ho->add_subcommand("scan", "a bag label scanned at handover");
  scan->add_option("bag", a.bag, "bag id (the bag label's barcode)")->required();
  scan->add_option("--courier", a.courier, "whose handover it is (flags other couriers' bags)");
  simple(
      scan,
      [] {
        return json{{"cmd", "handover.scan"}, {"bag_id", a.bag}, {"courier", a.courier}};
      },
      [](const json& r) {
        if (r.value("ok", false))
          std::cout << "bag " << cell(r["bag_id"]) << " picked up"
                    << (r.value("again", false) ? " (scanned again)" : "") << ", manifest "
                    << cell(r["manifest_id"]) << "\n";
        else
          std::cout << "FLAGGED " << cell(r["issue"]) << ": " << cell(r["detail"]) << "\n";
      });
  auto* ms = ho->add_subcommand("missort", "a parcel found in a bag of the wrong courier");
  ms->add_option("bag", a.bag, "bag id")->required();
  ms->add_option("code", a.code, "the parcel's barcode")->required();
  simple(
      ms,
      [] {
        return json{{"cmd", "handover.missort"}, {"bag_id", a.bag}, {"code", a.code}};
      },
      [](const json& r) {
        std::cout << "missort recorded: " << cell(r["code"]) << " in bag " << cell(r["bag_id"])
                  << "\n";
      });
}

}  // namespace sortctl_bags
