#include "scanner/framing.h"

#include <cstdio>

namespace sortd::dev::scanner {

namespace {

struct CtlName {
  const char* name;
  char c;
};
constexpr CtlName kControls[] = {
    {"NUL", '\x00'}, {"SOH", '\x01'}, {"STX", '\x02'}, {"ETX", '\x03'}, {"EOT", '\x04'},
    {"ENQ", '\x05'}, {"ACK", '\x06'}, {"BEL", '\x07'}, {"BS", '\x08'},  {"TAB", '\x09'},
    {"HT", '\x09'},  {"LF", '\x0a'},  {"VT", '\x0b'},  {"FF", '\x0c'},  {"CR", '\x0d'},
    {"SO", '\x0e'},  {"SI", '\x0f'},  {"DLE", '\x10'}, {"DC1", '\x11'}, {"DC2", '\x12'},
    {"DC3", '\x13'}, {"DC4", '\x14'}, {"NAK", '\x15'}, {"SYN", '\x16'}, {"ETB", '\x17'},
    {"CAN", '\x18'}, {"EM", '\x19'},  {"SUB", '\x1a'}, {"ESC", '\x1b'}, {"FS", '\x1c'},
    {"GS", '\x1d'},  {"RS", '\x1e'},  {"US", '\x1f'},  {"DEL", '\x7f'},
};

bool is_eol(char c) {
  return c == '\r' || c == '\n';
}

bool ends_with(const std::string& s, const std::string& tail) {
  return !tail.empty() && s.size() >= tail.size() &&
         s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

std::string printable(std::string_view bytes, std::size_t max) {
  std::string out;
  std::size_t n = bytes.size() < max ? bytes.size() : max;
  for (std::size_t i = 0; i < n; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    const char* name = nullptr;
    for (const auto& k : kControls)
      if (static_cast<unsigned char>(k.c) == c && std::string_view(k.name) != "HT") {
        name = k.name;
        break;
      }
    if (name) {
      out += '<';
      out += name;
      out += '>';
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    }
  }
  if (bytes.size() > n) out += "...";
  return out;
}

bool parse_escaped(std::string_view in, std::string& out, std::string& error) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '\\') {
      if (i + 1 >= in.size()) {
        error = "lone '\\' at the end (position " + std::to_string(i + 1) + ")";
        return false;
      }
      char e = in[++i];
      switch (e) {
        case 'r':
          out += '\r';
          break;
        case 'n':
          out += '\n';
          break;
        case 't':
          out += '\t';
          break;
        case '0':
          out += '\0';
          break;
        case '\\':
          out += '\\';
          break;
        case '<':
          out += '<';
          break;
        case 'x': {
          auto hexval = [](char h) -> int {
            if (h >= '0' && h <= '9') return h - '0';
            if (h >= 'a' && h <= 'f') return h - 'a' + 10;
            if (h >= 'A' && h <= 'F') return h - 'A' + 10;
            return -1;
          };
          if (i + 2 >= in.size() || hexval(in[i + 1]) < 0 || hexval(in[i + 2]) < 0) {
            error = "'\\x' needs two hex digits (position " + std::to_string(i) + ")";
            return false;
          }
          out += static_cast<char>(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
          i += 2;
          break;
        }
        default:
          error = std::string("unknown escape '\\") + e + "' at position " + std::to_string(i);
          return false;
      }
    } else if (c == '<') {
      auto close = in.find('>', i);
      if (close == std::string_view::npos) {
        error = "'<' without '>' at position " + std::to_string(i + 1) + " (write \\< for '<')";
        return false;
      }
      std::string name(in.substr(i + 1, close - i - 1));
      for (auto& ch : name)
        if (ch >= 'a' && ch <= 'z') ch = static_cast<char>(ch - 'a' + 'A');
      bool found = false;
      for (const auto& k : kControls)
        if (name == k.name) {
          out += k.c;
          found = true;
          break;
        }
      if (!found) {
        error = "unknown control name <" + name + "> at position " + std::to_string(i + 1);
        return false;
      }
      i = close;
    } else {
      out += c;
    }
  }
  return true;
}

FrameParser::FrameParser(FramingConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.max_frame == 0) cfg_.max_frame = 1;
  // A prefix made only of line ends would be skipped as whitespace while hunting: refuse it
  // quietly by treating it as no prefix (check_framing reports it as an option error).
  fail_.assign(cfg_.prefix.size(), 0);
  for (std::size_t i = 1, k = 0; i < cfg_.prefix.size(); ++i) {
    while (k > 0 && cfg_.prefix[i] != cfg_.prefix[k]) k = fail_[k - 1];
    if (cfg_.prefix[i] == cfg_.prefix[k]) ++k;
    fail_[i] = k;
  }
  state_ = start_state();
}

void FrameParser::reset() {
  state_ = start_state();
  match_ = 0;
  buf_.clear();
  tail_.clear();
  garbage_ = 0;
  garbage_sample_.clear();
}

void FrameParser::feed(std::string_view bytes, std::vector<FrameItem>& out) {
  for (char c : bytes) {
    switch (state_) {
      case State::Hunting:
        hunt(c, out);
        break;
      case State::InFrame:
        in_frame(c, out);
        break;
      case State::Discarding:
        discard(c, out);
        break;
    }
  }
}

void FrameParser::note_garbage(char c) {
  if (is_eol(c)) return;  // line ends between frames are not garbage (e.g. STX..ETX CR LF)
  ++garbage_;
  if (garbage_sample_.size() < 24) garbage_sample_ += c;
}

void FrameParser::flush_garbage(std::vector<FrameItem>& out, const char* where) {
  if (garbage_ > 0) {
    std::size_t shown = garbage_ < garbage_sample_.size() ? garbage_ : garbage_sample_.size();
    drop(std::to_string(garbage_) + " byte(s) of garbage " + where + ": " +
             printable(std::string_view(garbage_sample_).substr(0, shown)) +
             (garbage_ > shown ? "..." : ""),
         out);
  }
  garbage_ = 0;
  garbage_sample_.clear();
}

void FrameParser::hunt(char c, std::vector<FrameItem>& out) {
  const std::string& p = cfg_.prefix;
  note_garbage(c);
  while (match_ > 0 && c != p[match_]) match_ = fail_[match_ - 1];
  if (c == p[match_]) ++match_;
  if (match_ == p.size()) {
    // The prefix bytes were counted as garbage; they are the newest ones, so take them back.
    std::size_t pn = 0;
    for (char pc : p)
      if (!is_eol(pc)) ++pn;
    garbage_ = garbage_ >= pn ? garbage_ - pn : 0;
    flush_garbage(out, "before a frame start");
    match_ = 0;
    buf_.clear();
    state_ = State::InFrame;
    return;
  }
  if (garbage_ > cfg_.max_frame) flush_garbage(out, "while looking for a frame start");
}

void FrameParser::in_frame(char c, std::vector<FrameItem>& out) {
  buf_.push_back(c);
  if (cfg_.any_eol) {
    if (is_eol(c)) {
      buf_.pop_back();
      std::string payload;
      payload.swap(buf_);
      if (!cfg_.prefix.empty()) state_ = State::Hunting;
      if (!payload.empty() || !cfg_.prefix.empty()) emit_frame(std::move(payload), out);
      return;
    }
  } else if (!cfg_.suffix.empty() && ends_with(buf_, cfg_.suffix)) {
    buf_.resize(buf_.size() - cfg_.suffix.size());
    std::string payload;
    payload.swap(buf_);
    if (!cfg_.prefix.empty()) state_ = State::Hunting;
    if (!payload.empty() || !cfg_.prefix.empty()) emit_frame(std::move(payload), out);
    return;
  }
  if (!cfg_.prefix.empty() && ends_with(buf_, cfg_.prefix)) {
    buf_.resize(buf_.size() - cfg_.prefix.size());
    std::string payload;
    payload.swap(buf_);
    if (!has_terminator()) {
      if (!payload.empty()) emit_frame(std::move(payload), out);
    } else {
      drop("frame restarted before its end (" + std::to_string(payload.size()) +
               " byte(s) without a terminator): " + printable(payload, 24),
           out);
    }
    return;  // stay in the frame that just started
  }
  std::size_t slack = cfg_.any_eol ? 0 : (cfg_.suffix.empty() ? 0 : cfg_.suffix.size() - 1);
  if (!cfg_.prefix.empty() && cfg_.prefix.size() - 1 > slack) slack = cfg_.prefix.size() - 1;
  if (buf_.size() > cfg_.max_frame + slack) {
    drop("frame longer than " + std::to_string(cfg_.max_frame) +
             " bytes, dropped; skipping to the next frame: " + printable(buf_, 24),
         out);
    buf_.clear();
    tail_.clear();
    if (!cfg_.prefix.empty()) {
      state_ = State::Hunting;
      match_ = 0;
    } else {
      state_ = State::Discarding;
    }
  }
}

void FrameParser::discard(char c, std::vector<FrameItem>&) {
  if (cfg_.any_eol) {
    if (is_eol(c)) state_ = State::InFrame;
    return;
  }
  if (cfg_.suffix.empty()) return;  // until idle
  tail_.push_back(c);
  if (tail_.size() > cfg_.suffix.size()) tail_.erase(0, tail_.size() - cfg_.suffix.size());
  if (tail_ == cfg_.suffix) {
    tail_.clear();
    state_ = State::InFrame;
  }
}

void FrameParser::idle(std::vector<FrameItem>& out) {
  switch (state_) {
    case State::Hunting:
      flush_garbage(out, "with no frame start");
      match_ = 0;
      break;
    case State::InFrame:
      if (!buf_.empty()) {
        std::string payload;
        payload.swap(buf_);
        if (!has_terminator()) {
          emit_frame(std::move(payload), out);
        } else {
          bool blank = true;
          for (char c : payload)
            if (!is_eol(c) && c != ' ') blank = false;
          if (!blank)
            drop("incomplete frame, the line went idle before its terminator: " +
                     printable(payload, 24),
                 out);
        }
      }
      state_ = start_state();
      break;
    case State::Discarding:
      tail_.clear();
      state_ = start_state();
      break;
  }
}

void FrameParser::emit_frame(std::string payload, std::vector<FrameItem>& out) {
  ++frames_;
  out.push_back({true, std::move(payload)});
}

void FrameParser::drop(std::string reason, std::vector<FrameItem>& out) {
  ++dropped_;
  out.push_back({false, std::move(reason)});
}

}  // namespace sortd::dev::scanner
