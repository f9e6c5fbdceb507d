// sortd scanners: the one incremental framing parser every scanner transport uses (USB HID text,
// serial bytes, TCP bytes). Feed it bytes as they come; it yields whole frames, and reports what
// it had to throw away (garbage between frames, over-long frames, a frame restarted before its
// end) with a reason. It never blocks, never throws on input, and its buffer is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sortd::dev::scanner {

struct FramingConfig {
  std::string prefix;            // bytes that open a frame (e.g. STX); empty = none
  std::string suffix = "\r\n";   // bytes that close a frame (e.g. ETX, CR, CRLF); see any_eol
  bool any_eol = false;          // CR, LF or CRLF each close a frame (suffix is then unused)
  std::size_t max_frame = 4096;  // longest payload kept; longer frames are dropped
  // With no suffix (and any_eol false) a frame ends at the next prefix or when the line goes
  // idle (FrameParser::idle).
};

// One item out of the parser, in stream order.
struct FrameItem {
  bool ok = true;    // true: `text` is a frame payload; false: `text` says what was dropped, why
  std::string text;  // payload without prefix/suffix, or the reason
};

class FrameParser {
 public:
  explicit FrameParser(FramingConfig cfg);

  // Consume bytes; append complete frames and drop reports to `out`.
  void feed(std::string_view bytes, std::vector<FrameItem>& out);
  // The line has been idle: a pending partial frame ends here (a frame when the framing has no
  // terminator, else dropped as incomplete). Garbage counted so far is reported.
  void idle(std::vector<FrameItem>& out);
  // Forget everything pending (e.g. after a reconnect), reporting nothing.
  void reset();
  bool pending() const { return !buf_.empty() || match_ > 0 || garbage_ > 0; }

  const FramingConfig& config() const { return cfg_; }
  std::uint64_t frames() const { return frames_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  enum class State { Hunting, InFrame, Discarding };
  void hunt(char c, std::vector<FrameItem>& out);
  void in_frame(char c, std::vector<FrameItem>& out);
  void discard(char c, std::vector<FrameItem>& out);
  void emit_frame(std::string payload, std::vector<FrameItem>& out);
  void drop(std::string reason, std::vector<FrameItem>& out);
  void note_garbage(char c);
  void flush_garbage(std::vector<FrameItem>& out, const char* where);
  State start_state() const { return cfg_.prefix.empty() ? State::InFrame : State::Hunting; }
  bool has_terminator() const { return cfg_.any_eol || !cfg_.suffix.empty(); }

  FramingConfig cfg_;
  std::vector<std::size_t> fail_;  // KMP failure function of the prefix
  State state_;
  std::size_t match_ = 0;  // prefix bytes matched while hunting
  std::string buf_;        // payload being collected (may end with a partial suffix)
  std::string tail_;       // last bytes seen while discarding (to spot the suffix)
  std::size_t garbage_ = 0;
  std::string garbage_sample_;
  std::uint64_t frames_ = 0, dropped_ = 0;
};

// Printable rendering of bytes for log lines: printable ASCII as is, the rest as <CR>, <GS>,
// \xHH. At most `max` input bytes are shown ("..." after).
std::string printable(std::string_view bytes, std::size_t max = 64);

// Parses an option value that holds bytes: C escapes (\r \n \t \\ \xHH) and control names in
// angle brackets (<STX> <ETX> <CR> <LF> <GS> <RS> <EOT> <ESC> <TAB> <NUL> <FS> <US> <SOH> <ACK>
// <NAK> <SYN>). Returns false with `error` saying what and where.
bool parse_escaped(std::string_view in, std::string& out, std::string& error);

}  // namespace sortd::dev::scanner
