// The TCP printer driver (PrinterEngine on its own thread, raw TCP) against `sort-sim printer`
// running as a child process on a free port: jobs arrive byte for byte (ZPL and TSPL), faults
// hold the queue, recovery prints the held jobs exactly once, reprint, cancel, failover to a
// second printer, silence and an absent printer detected, unprintable jobs refused.
#define BOOST_TEST_MODULE printer_tcp
#include <boost/test/unit_test.hpp>

#include <thread>

#include "labels/cases.h"
#include "labels/printer_harness.h"
#include "printer/printer.h"

using namespace sortd;
using namespace sortd::dev::printer;
using namespace sortd::test;
namespace fs = std::filesystem;

namespace {

const StationConfig& station() {
  static const StationConfig s = label_station();
  return s;
}

std::shared_ptr<const labels::TemplateSet> templates() {
  static auto t = std::make_shared<const labels::TemplateSet>(
      labels::TemplateSet::load_dir(labels::TemplateSet::default_dir()));
  return t;
}

EngineOptions fast() {
  EngineOptions o;
  o.poll_ms = 50;
  o.status_timeout_ms = 300;
  o.failover_after_ms = 300;
  return o;
}

PrinterSpec tcp_spec(const std::string& name, int port, Language lang = Language::Zpl) {
  PrinterSpec s;
  s.name = name;
  s.language = lang;
  s.size = {100, 150, 203};
  s.transport = make_tcp_transport("127.0.0.1", port, 1000);
  return s;
}

std::string dir(const std::string& name) {
  return (fs::path(SORTD_BINARY_DIR) / "printer-test" / name).string();
}

Command print(const LabelCase& c, std::uint64_t id) {
  Command cmd;
  cmd.job = c.job;
  cmd.job.job_id = id;
  cmd.extra = c.extra;
  return cmd;
}

Command by_id(Command::Type t, std::uint64_t id) {
  Command c;
  c.type = t;
  c.job_id = id;
  return c;
}

struct Rig {
  Events events;
  std::unique_ptr<PrinterWorker> worker;
  PrinterEngine* engine = nullptr;
  Rig(PrinterSpec primary, std::optional<PrinterSpec> backup = std::nullopt,
      EngineOptions o = fast()) {
    auto e =
        std::make_unique<PrinterEngine>(o, templates(), &station(), std::move(primary),
                                        std::move(backup), [this](const Event& ev) { events(ev); });
    engine = e.get();
    worker = std::make_unique<PrinterWorker>(std::move(e));
  }
  bool wait_outcome(std::uint64_t id, JobOutcome o, int n = 1) {
    return events.wait([&](auto& ev) { return Events::count(ev, id, o) >= n; });
  }
  bool wait_status(bool up, const std::string& part = "") {
    return events.wait([&](auto& ev) { return Events::last_status_is(ev, up, part); });
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(jobs_arrive_byte_for_byte_zpl_and_tspl) {
  for (Language lang : {Language::Zpl, Language::Tspl}) {
    BOOST_TEST_CONTEXT(to_string(lang)) {
      SimPrinterProcess sim(SORT_SIM, dir(std::string("bytes-") + to_string(lang)));
      Rig rig(tcp_spec("zebra1", sim.port(), lang));
      auto cases = label_cases();
      std::uint64_t id = 100;
      std::vector<std::string> expected;
      for (auto& c : cases) {
        rig.worker->post(print(c, ++id));
        expected.push_back(rig.engine->render(print(c, id).job, c.extra, lang, {100, 150, 203}));
      }
      for (std::uint64_t j = 101; j <= id; ++j)
        BOOST_REQUIRE(rig.wait_outcome(j, JobOutcome::Printed));
      BOOST_REQUIRE(sim.wait_jobs(cases.size()));
      auto files = sim.job_files();
      BOOST_REQUIRE_EQUAL(files.size(), cases.size());
      for (std::size_t i = 0; i < files.size(); ++i) {
        BOOST_TEST(files[i].extension() == (lang == Language::Zpl ? ".zpl" : ".tspl"));
        BOOST_TEST(slurp_file(files[i]) == expected[i]);  // byte for byte, in order
      }
      auto f = rig.events.finished(101);
      BOOST_TEST(f.back().printer == "zebra1");
      BOOST_TEST(rig.events.statuses().front().up);
      BOOST_TEST(rig.events.statuses().front().detail == "ready");
      if (lang == Language::Zpl)  // the simulator drew a preview of each job
        BOOST_TEST(fs::exists(fs::path(sim.dir()) / "job-0001.png"));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_fault_holds_the_queue_and_recovery_prints_each_job_once) {
  SimPrinterProcess sim(SORT_SIM, dir("hold"));
  Rig rig(tcp_spec("zebra1", sim.port()));
  BOOST_REQUIRE(rig.wait_status(true, "ready"));
  BOOST_TEST(sim.command("paper-out") == "ok paper out");
  BOOST_REQUIRE(rig.wait_status(false, "paper out"));
  auto c = label_cases()[0];
  rig.worker->post(print(c, 1));
  rig.worker->post(print(c, 2));
  BOOST_REQUIRE(rig.wait_outcome(1, JobOutcome::Held));
  BOOST_REQUIRE(rig.wait_outcome(2, JobOutcome::Held));
  BOOST_TEST(rig.events.finished(1).front().detail == "held: paper out");
  // More faults on top: still held, reported once per job.
  BOOST_TEST(sim.command("head-open") == "ok paper out, head open");
  BOOST_REQUIRE(rig.wait_status(false, "paper out, head open"));
  BOOST_TEST(sim.job_files().empty());  // nothing was sent to a faulted printer
  BOOST_TEST(sim.command("ok") == "ok ready");
  BOOST_REQUIRE(rig.wait_outcome(1, JobOutcome::Printed));
  BOOST_REQUIRE(rig.wait_outcome(2, JobOutcome::Printed));
  BOOST_TEST(Events::last_status_is({rig.events.statuses().back()}, true, "ready"));
  BOOST_REQUIRE(sim.wait_jobs(2));
  // Let a few more status polls go by: nothing is printed twice.
  std::string before = sim.command("jobs");
  BOOST_REQUIRE(rig.events.wait([&](auto&) { return false; }, 400) == false);
  BOOST_TEST(sim.command("jobs") == before);
  BOOST_TEST(sim.job_files().size() == 2u);
  BOOST_TEST(rig.events.finished(1).size() == 2u);  // Held, Printed
  BOOST_TEST(sim.jobs_log().find("state=paper out") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(pause_and_ribbon_out_are_faults_with_their_names) {
  SimPrinterProcess sim(SORT_SIM, dir("pause"));
  Rig rig(tcp_spec("tsc1", sim.port(), Language::Tspl));  // status over <ESC>!?
  BOOST_REQUIRE(rig.wait_status(true, "ready"));
  sim.command("pause");
  BOOST_REQUIRE(rig.wait_status(false, "paused"));
  sim.command("resume");
  BOOST_REQUIRE(rig.wait_status(true, "ready"));
  sim.command("ribbon-out");
  BOOST_REQUIRE(rig.wait_status(false, "ribbon out"));
  sim.command("ok");
  BOOST_REQUIRE(rig.wait_status(true, "ready"));
}

BOOST_AUTO_TEST_CASE(silence_is_a_fault) {
  SimPrinterProcess sim(SORT_SIM, dir("silent"));
  Rig rig(tcp_spec("zebra1", sim.port()));
  BOOST_REQUIRE(rig.wait_status(true, "ready"));
  sim.command("silent");
  BOOST_REQUIRE(rig.wait_status(false, "no answer to the status request (~HS) within 300 ms"));
  auto c = label_cases()[3];
  rig.worker->post(print(c, 7));
  BOOST_REQUIRE(rig.wait_outcome(7, JobOutcome::Held));
  sim.command("answer");
  BOOST_REQUIRE(rig.wait_outcome(7, JobOutcome::Printed));
  BOOST_REQUIRE(sim.wait_jobs(1));
  BOOST_TEST(sim.job_files().size() == 1u);
}

BOOST_AUTO_TEST_CASE(reprint_and_cancel) {
  SimPrinterProcess sim(SORT_SIM, dir("reprint"));
  Rig rig(tcp_spec("zebra1", sim.port()));
  auto c = label_cases()[1];
  rig.worker->post(print(c, 40));
  BOOST_REQUIRE(rig.wait_outcome(40, JobOutcome::Printed));
  rig.worker->post(by_id(Command::Type::Reprint, 40));
  BOOST_REQUIRE(rig.wait_outcome(40, JobOutcome::Printed, 2));
  BOOST_REQUIRE(sim.wait_jobs(2));
  auto files = sim.job_files();
  BOOST_REQUIRE_EQUAL(files.size(), 2u);
  BOOST_TEST(slurp_file(files[0]) == slurp_file(files[1]));
  rig.worker->post(by_id(Command::Type::Reprint, 999));
  BOOST_REQUIRE(rig.wait_outcome(999, JobOutcome::Failed));
  BOOST_TEST(rig.events.finished(999).front().detail.find("reprint: job 999 is not among") == 0u);
  // Cancel a held job: it never prints.
  sim.command("paper-out");
  BOOST_REQUIRE(rig.wait_status(false, "paper out"));
  rig.worker->post(print(c, 41));
  BOOST_REQUIRE(rig.wait_outcome(41, JobOutcome::Held));
  rig.worker->post(by_id(Command::Type::Cancel, 41));
  BOOST_REQUIRE(rig.wait_outcome(41, JobOutcome::Cancelled));
  sim.command("ok");
  BOOST_REQUIRE(rig.wait_status(true, "ready"));
  rig.worker->post(print(c, 42));
  BOOST_REQUIRE(rig.wait_outcome(42, JobOutcome::Printed));
  BOOST_REQUIRE(sim.wait_jobs(3));
  BOOST_TEST(sim.job_files().size() == 3u);  // 40, reprint of 40, 42
  BOOST_TEST(Events::count({}, 41, JobOutcome::Printed) == 0);
  BOOST_TEST(rig.events.finished(41).size() == 2u);  // Held, Cancelled
}

BOOST_AUTO_TEST_CASE(failover_to_the_second_printer) {
  SimPrinterProcess a(SORT_SIM, dir("failover-a"));
  SimPrinterProcess b(SORT_SIM, dir("failover-b"));
  Rig rig(tcp_spec("zebra1", a.port()), tcp_spec("zebra2", b.port()));
  BOOST_REQUIRE(rig.wait_status(true, "ready"));
  a.command("head-open");
  BOOST_REQUIRE(rig.wait_status(false, "head open"));
  auto c = label_cases()[0];
  rig.worker->post(print(c, 60));
  rig.worker->post(print(c, 61));
  BOOST_REQUIRE(rig.wait_outcome(60, JobOutcome::Printed));
  BOOST_REQUIRE(rig.wait_outcome(61, JobOutcome::Printed));
  auto f = rig.events.finished(60);
  BOOST_TEST((f.front().outcome == JobOutcome::Held));  // held first, while the fault was young
  BOOST_TEST(f.back().printer == "zebra2");
  BOOST_TEST(f.back().detail == "failover from zebra1 (head open)");
  BOOST_REQUIRE(b.wait_jobs(2));
  BOOST_TEST(a.job_files().empty());
  BOOST_TEST(b.job_files().size() == 2u);
  // The primary is back: new jobs go to it again.
  a.command("ok");
  BOOST_REQUIRE(rig.wait_status(true, "ready"));
  rig.worker->post(print(c, 62));
  BOOST_REQUIRE(rig.wait_outcome(62, JobOutcome::Printed));
  BOOST_TEST(rig.events.finished(62).back().printer == "zebra1");
  BOOST_REQUIRE(a.wait_jobs(1));
  BOOST_TEST(a.job_files().size() == 1u);
}

BOOST_AUTO_TEST_CASE(an_absent_printer_is_down_and_jobs_wait) {
  int port;
  {  // a port nobody listens on
    SimPrinterProcess gone(SORT_SIM, dir("absent"));
    port = gone.port();
  }
  Rig rig(tcp_spec("zebra9", port));
  BOOST_REQUIRE(rig.wait_status(false, "connect to tcp 127.0.0.1:" + std::to_string(port)));
  rig.worker->post(print(label_cases()[3], 80));
  BOOST_REQUIRE(rig.wait_outcome(80, JobOutcome::Held));
}

BOOST_AUTO_TEST_CASE(a_job_that_cannot_be_filled_fails_with_the_reason) {
  SimPrinterProcess sim(SORT_SIM, dir("refused"));
  Rig rig(tcp_spec("zebra1", sim.port()));
  auto c = label_cases()[4];  // bag
  c.extra.erase("weight_kg");
  rig.worker->post(print(c, 90));
  BOOST_REQUIRE(rig.wait_outcome(90, JobOutcome::Failed));
  BOOST_TEST(rig.events.finished(90).front().detail ==
             "label refused: weight_kg: required on every bag label, missing; weight_kg: used by "
             "elements[7] (weight), missing");
  PrintJob unknown = label_cases()[0].job;
  unknown.kind = "manifest";
  Command cmd;
  cmd.job = unknown;
  cmd.job.job_id = 91;
  rig.worker->post(cmd);
  BOOST_REQUIRE(rig.wait_outcome(91, JobOutcome::Failed));
  BOOST_TEST(rig.events.finished(91).front().detail ==
             "no manifest label template for courier 'yto'");
  BOOST_TEST(sim.job_files().empty());
}

BOOST_AUTO_TEST_CASE(commands_from_the_core) {
  auto c = command_from_json(
      R"({"type":"print_job","job_id":5,"kind":"bag","courier":"sf","lane":7,"fields":{"bag_id":"B1"}})");
  BOOST_TEST(static_cast<int>(c.type) == static_cast<int>(Command::Type::Print));
  BOOST_TEST(c.job.job_id == 5u);
  BOOST_TEST(c.extra.at("bag_id") == "B1");
  BOOST_TEST(command_from_json(R"({"type":"reprint","job_id":9})").job_id == 9u);
  auto fails = [](const std::string& text, const std::string& what) {
    try {
      command_from_json(text);
    } catch (const std::exception& e) {
      BOOST_TEST(std::string(e.what()).find(what) != std::string::npos, e.what());
      return;
    }
    BOOST_FAIL("accepted: " + text);
  };
  fails("{", "printer command: not JSON");
  fails(R"({"job_id":1})", "with a string \"type\"");
  fails(R"({"type":"reprint","job_id":-1})", "reprint: \"job_id\" must be a job number");
  fails(R"({"type":"explode"})", "unknown type 'explode'");
  fails(R"({"type":"print_job","job_id":1,"fields":{"a":1}})", "fields.a must be a string");
}

BOOST_AUTO_TEST_CASE(device_options_are_checked) {
  StationConfig::Device d;
  d.name = "p1";
  d.kind = "printer";
  d.driver = "tcp";
  d.options = {{"host", "127.0.0.1"},
               {"port", "9100"},
               {"language", "tspl"},
               {"size", "76x130"},
               {"dpi", "300"}};
  BOOST_TEST(check_options(d).empty());
  auto spec = spec_from_device(d);
  BOOST_TEST(spec.size.width_mm == 76);
  BOOST_TEST(spec.size.dpi == 300);
  BOOST_TEST(spec.transport->describe() == "tcp 127.0.0.1:9100");
  d.options = {
      {"port", "99999"}, {"language", "epl"}, {"dpi", "600"}, {"size", "big"}, {"colour", "red"}};
  auto p = check_options(d);
  BOOST_TEST(p.size() == 6u);
  std::string all;
  for (auto& s : p) all += s + "\n";
  for (const char* want : {"colour: unknown option", "host: required", "port: must be 1..65535",
                           "language: must be zpl or tspl, got 'epl'", "dpi: must be 203 or 300",
                           "size: must be <width>x<height>"})
    BOOST_TEST(all.find(want) != std::string::npos, want);
}
