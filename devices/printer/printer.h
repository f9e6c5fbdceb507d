// sortd printers: label printers over raw TCP (port 9100) and the USB printer class (libusb),
// ZPL II and TSPL, status polling, hold / resume, reprint, cancel and failover to a second
// printer. See docs/printers.md.
//
// The engine (PrinterEngine) is single-threaded and does no waiting of its own between steps:
// the driver thread (or PrinterWorker in tests and tools) calls step() and feeds it commands.
// A slow or absent printer therefore only ever blocks its own thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "driver.h"
#include "events.h"
#include "label.h"

namespace sortd::dev::printer {

enum class Language : std::uint8_t { Zpl, Tspl };
const char* to_string(Language l);
std::optional<Language> language_from(std::string_view s);

// What a printer says about itself.
struct PrinterStatus {
  bool paper_out = false, paused = false, head_open = false, ribbon_out = false;
  bool buffer_full = false, paper_jam = false, other_error = false;
  bool printing = false;      // TSPL: busy printing (not a fault)
  int formats_in_buffer = 0;  // ZPL: formats received but not printed yet
  bool ok() const {
    return !(paper_out || paused || head_open || ribbon_out || buffer_full || paper_jam ||
             other_error);
  }
  std::string detail() const;  // "paper out, head open", or "ready"
  bool operator==(const PrinterStatus&) const = default;
};

// A status reply that is not what the language defines; the message says what and where.
class StatusError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ZPL ~HS: three strings <STX>...<ETX><CR><LF>. String 1 (12 fields): aaa comm settings,
// b paper out, c pause, dddd label length, eee formats in buffer, f buffer full, g diagnostic
// mode, h partial format, iii unused, j corrupt RAM, k under temperature, l over temperature.
// String 2 (11 fields): mmm function settings, n unused, o head up, p ribbon out, q thermal
// transfer, r print mode, s print width mode, t label waiting, uuuuuuuu labels remaining,
// v format while printing, www graphics stored. String 3 (2 fields): xxxx password, y static RAM.
PrinterStatus parse_zpl_host_status(std::string_view reply);
std::string format_zpl_host_status(const PrinterStatus& s);  // what a Zebra answers (simulator)
// TSPL <ESC>!? answers one byte: bit 0 head opened, 1 paper jam, 2 out of paper, 3 out of
// ribbon, 4 pause, 5 printing, 7 other error.
PrinterStatus parse_tspl_status(std::uint8_t b);
std::uint8_t format_tspl_status(const PrinterStatus& s);
std::string status_request(Language l);  // "~HS" or "\x1b!?"
// Number of bytes of `buf` that form one complete status reply, or 0 when more must come.
std::size_t status_reply_length(Language l, std::string_view buf);

// A byte pipe to a printer. Owned and used by one thread.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual std::string describe() const = 0;  // "tcp 127.0.0.1:9100", "usb 0a5f:0164"
  virtual bool is_open() const = 0;
  virtual bool open(std::string& error) = 0;
  virtual void close() = 0;
  // Writes everything or fails (error set, connection closed).
  virtual bool write(std::string_view bytes, int timeout_ms, std::string& error) = 0;
  // Appends what arrives within timeout_ms (possibly nothing). False on a broken connection.
  virtual bool read_some(std::string& out, int timeout_ms, std::string& error) = 0;
};

std::unique_ptr<Transport> make_tcp_transport(std::string host, int port,
                                              int connect_timeout_ms = 2000);

// IEEE 1284 device id ("MFG:Zebra Technologies;CMD:ZPL;MDL:ZD421;") -> {"MFG": ..., ...}.
// Keys are upper-cased; the long forms MANUFACTURER / COMMAND SET / MODEL map to MFG/CMD/MDL.
std::map<std::string, std::string> parse_device_id(std::string_view id);
// The printer language from a device id's CMD list, if it names one we speak.
std::optional<Language> language_from_device_id(const std::map<std::string, std::string>& id);

// USB printer class (interface class 7) through libusb: finds the device by vendor/product id
// (and serial number when given), detaches the kernel's usblp, claims the interface, writes to
// the bulk OUT endpoint and reads status from bulk IN (bidirectional printers).
class UsbTransport : public Transport {
 public:
  UsbTransport(std::uint16_t vid, std::uint16_t pid, std::string serial = {});
  ~UsbTransport() override;
  std::string describe() const override;
  bool is_open() const override;
  bool open(std::string& error) override;
  void close() override;
  bool write(std::string_view bytes, int timeout_ms, std::string& error) override;
  bool read_some(std::string& out, int timeout_ms, std::string& error) override;
  // The IEEE 1284 device id read with the class request GET_DEVICE_ID at open().
  const std::string& device_id() const { return device_id_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::uint16_t vid_, pid_;
  std::string serial_, device_id_;
};

// One printer the engine can print on.
struct PrinterSpec {
  std::string name;  // configured device name
  Language language = Language::Zpl;
  labels::LabelSize size;
  std::unique_ptr<Transport> transport;
};

struct EngineOptions {
  int poll_ms = 2000;            // status poll period while idle
  int status_timeout_ms = 1000;  // no complete status reply within this = fault ("silent")
  int write_timeout_ms = 5000;
  int failover_after_ms = 30000;  // a primary fault lasting longer moves jobs to the backup
  std::size_t history = 512;      // printed jobs kept for reprint
};

// Builds a printer spec from a configured device's options (docs/printers.md): driver tcp
// (host, port) or usb (vid, pid, serial); language, size, dpi. Returns one message per problem.
std::vector<std::string> check_options(const StationConfig::Device& d);
PrinterSpec spec_from_device(const StationConfig::Device& d);  // throws std::invalid_argument
EngineOptions engine_options_from_device(const StationConfig::Device& d);

// What a configured printer's labels look like: its language, its label size and resolution,
// and the folder its templates are read from (the `templates` option, or the default folder).
struct LabelFormat {
  std::string printer;  // device name
  Language language = Language::Zpl;
  labels::LabelSize size;
  std::string templates_dir;
};
LabelFormat label_format_of(const StationConfig::Device& d);  // throws std::invalid_argument

// A job filled into its template, as every printer of it is sent it (and as previews draw it):
// the courier's own template of the job's kind, or the "*" one. Throws labels::TemplateError
// when there is none, labels::FillError when the job cannot be printed.
labels::Label label_for_job(const labels::TemplateSet& templates, const PrintJob& job,
                            const StationConfig* config,
                            const std::map<std::string, std::string>& extra,
                            const labels::LabelSize& size);

// What a driver thread is asked to do.
struct Command {
  enum class Type { Print, Reprint, Cancel } type = Type::Print;
  PrintJob job;                              // Print
  std::map<std::string, std::string> extra;  // Print: fields beyond the job (bag labels)
  std::uint64_t job_id = 0;                  // Reprint, Cancel
};
// {"type":"print_job", ...PrintJob, "fields":{...}} | {"type":"reprint","job_id":n} |
// {"type":"cancel","job_id":n}. Throws std::invalid_argument / CodecError naming the problem.
Command command_from_json(std::string_view text);

class PrinterEngine {
 public:
  using Clock = std::chrono::steady_clock;
  using Sink = std::function<void(const Event&)>;  // PrintFinished and DeviceStatus events

  PrinterEngine(EngineOptions options, std::shared_ptr<const labels::TemplateSet> templates,
                const StationConfig* config, PrinterSpec primary, std::optional<PrinterSpec> backup,
                Sink sink);
  ~PrinterEngine();

  void handle(const Command& c, Clock::time_point now);
  // Does what is due (status polls, sending jobs) and returns the ms until it wants to run again.
  int step(Clock::time_point now);

  // The exact bytes a job is sent as to a printer of this language and size (tests).
  std::string render(const PrintJob& job, const std::map<std::string, std::string>& extra,
                     Language language, const labels::LabelSize& size) const;
  std::size_t queued() const { return queue_.size(); }
  bool primary_up() const;

 private:
  struct Job {
    PrintJob job;
    std::map<std::string, std::string> extra;
    bool held_reported = false;
  };
  struct Printer {
    PrinterSpec spec;
    std::optional<bool> up;  // unknown until the first poll
    std::string detail;
    Clock::time_point next_poll{}, fault_since{};
  };
  bool poll(Printer& p, Clock::time_point now);
  bool send(Printer& p, Job& j, std::string& error);
  void finish(const Job& j, JobOutcome o, const std::string& printer, const std::string& detail);
  void set_state(Printer& p, bool up, const std::string& detail, Clock::time_point now);

  EngineOptions opt_;
  std::shared_ptr<const labels::TemplateSet> templates_;
  const StationConfig* config_;
  Printer primary_;
  std::optional<Printer> backup_;
  Sink sink_;
  std::deque<Job> queue_;
  std::deque<Job> history_;
};

// The engine on a thread of its own, fed through a mutex-protected inbox (tests, tools). The
// station's driver uses the same loop with its ZeroMQ command socket instead (printer_driver.cpp).
class PrinterWorker {
 public:
  explicit PrinterWorker(std::unique_ptr<PrinterEngine> engine);
  ~PrinterWorker();
  void post(Command c);  // never blocks on the printer

 private:
  std::unique_ptr<PrinterEngine> engine_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Command> inbox_;
  std::jthread thread_;
};

// Runs an engine until stop: step(), then wait for the next command up to the time step() asked.
void run_engine(PrinterEngine& engine, const std::function<std::optional<Command>(int)>& next,
                std::stop_token stop);

// The registry's entries for this family: printer/tcp and printer/usb.
std::vector<DriverInfo> printer_drivers();

}  // namespace sortd::dev::printer
