// sortd bus: the `label` query (docs/protocol.md section 5): a parcel's label as its printer is
// sent it, drawn to a PNG (the HMI's parcel search shows it) and as the printer's own language.
// The loop finds what the label is made of (the parcel's last decision, its order, the printer
// of its last label job); the bus worker fills the template and draws it, which takes tens of
// milliseconds the loop must not spend.
#include <sodium.h>
#include <sqlite3.h>

#include "daemon_bus.h"
#include "daemon_bus_ctx.h"
#include "daemon_bus_worker.h"
#include "printer/printer.h"
#include "store_query.h"

namespace sortd {

using nlohmann::json;
namespace printer = dev::printer;

namespace {

std::string base64(const std::string& bytes) {
  const auto* in = reinterpret_cast<const unsigned char*>(bytes.data());
  std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), in, bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

const StationConfig::Device* printer_named(const StationConfig& cfg, const std::string& name) {
  for (const auto& d : cfg.devices)
    if (d.kind == "printer" && (name.empty() || d.name == name)) return &d;
  return nullptr;
}

}  // namespace

json Bus::cmd_label(Ctx& c) {
  LabelReprint s = label_source(c);
  // The label job it was last printed as (its id is on the label) and that job's printer.
  std::int64_t job_id = 0;
  std::string printer_name;
  {
    Query q(d_.store().handle(),
            "SELECT id, printer FROM label_jobs WHERE parcel_id = ?1 AND kind = 'parcel' "
            "ORDER BY id DESC LIMIT 1");
    q.bind(1, static_cast<std::int64_t>(s.parcel_id));
    if (q.step()) {
      job_id = q.i64(0);
      printer_name = q.str(1);
    }
  }
  const StationConfig& cfg = d_.config();
  const StationConfig::Device* dev = nullptr;
  if (c.has("printer")) {
    const std::string want = c.nonempty("printer", "a printer device name");
    dev = printer_named(cfg, want);
    if (!dev) throw BusError("not_found", "the station has no printer '" + want + "'");
  } else {
    dev = printer_named(cfg, printer_name);  // the job's printer while it is configured
    if (!dev) dev = printer_named(cfg, "");  // else the station's first
  }
  PrintJob job;
  job.job_id = static_cast<std::uint64_t>(job_id);
  job.parcel_id = s.parcel_id;
  job.kind = "parcel";
  job.courier = s.courier;
  job.lane = s.lane;
  job.order = std::move(s.order);
  job.weight_g = s.weight_g;
  auto config = std::make_shared<const StationConfig>(cfg);
  // Drawn by the bus worker from copies. The printer's options and templates are read there,
  // from their folder each time, so an edited template shows at once (the printers read theirs
  // when they start).
  const std::string device = dev ? dev->name : "";
  return defer(c, "label", [job = std::move(job), config, device](WorkerDb&) {
    printer::LabelFormat format;  // no printer configured: ZPL, 100x150 mm, 203 dpi
    format.templates_dir = labels::TemplateSet::default_dir();
    try {
      if (!device.empty()) format = printer::label_format_of(*printer_named(*config, device));
    } catch (const std::invalid_argument& e) {
      throw BusError("config_error", e.what());
    }
    labels::Label label;
    try {
      label = printer::label_for_job(labels::TemplateSet::load_dir(format.templates_dir), job,
                                     config.get(), {}, format.size);
    } catch (const labels::TemplateError& e) {
      throw BusError("config_error", e.what());
    } catch (const labels::FillError& e) {
      throw BusError("conflict", std::string("the label cannot be printed: ") + e.what(),
                     {{"problems", e.problems()}});
    }
    return json{{"parcel_id", job.parcel_id},
                {"job_id", job.job_id},
                {"courier", job.courier},
                {"lane", job.lane},
                {"template", label.template_name},
                {"printer", format.printer},
                {"language", printer::to_string(format.language)},
                {"width_mm", format.size.width_mm},
                {"height_mm", format.size.height_mm},
                {"dpi", format.size.dpi},
                {"png", base64(labels::to_png(label))},
                {"source", format.language == printer::Language::Zpl ? labels::to_zpl(label)
                                                                     : labels::to_tspl(label)}};
  });
}

}  // namespace sortd
