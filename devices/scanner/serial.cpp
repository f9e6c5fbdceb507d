// Serial scanners (/dev/ttyACM*, /dev/ttyUSB*, RS-232) through termios.
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "scanner/scanner.h"
#include "scanner/stream.h"

namespace sortd::dev::scanner {

unsigned serial_speed(int baud) {
  switch (baud) {
    case 1200:
      return B1200;
    case 2400:
      return B2400;
    case 4800:
      return B4800;
    case 9600:
      return B9600;
    case 19200:
      return B19200;
    case 38400:
      return B38400;
    case 57600:
      return B57600;
    case 115200:
      return B115200;
    case 230400:
      return B230400;
    case 460800:
      return B460800;
    case 921600:
      return B921600;
    default:
      return 0;
  }
}

SerialConfig read_serial_config(Options& o) {
  SerialConfig c;
  c.common = read_common(o);
  c.device = o.str("device", "");
  if (c.device.empty()) o.error("device", "missing: the serial device, e.g. /dev/ttyACM0");
  c.baud = static_cast<int>(o.integer("baud", 9600, 50, 4000000));
  if (serial_speed(c.baud) == 0)
    o.error("baud", std::to_string(c.baud) +
                        " is not a supported rate (1200 2400 4800 9600 19200 38400 57600 115200 "
                        "230400 460800 921600)");
  c.data_bits = static_cast<int>(o.integer("data_bits", 8, 5, 8));
  auto parity = o.choice("parity", "none", {"none", "even", "odd", "n", "e", "o"});
  c.parity = parity[0];
  c.stop_bits = static_cast<int>(o.integer("stop_bits", 1, 1, 2));
  c.flow = o.choice("flow", "none", {"none", "rtscts", "xonxoff"});
  return c;
}

namespace {

// Opens and configures the port; -1 with `why` on failure.
int open_serial(const SerialConfig& c, std::string& why) {
  int fd = ::open(c.device.c_str(), O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    why = "cannot open " + c.device + ": " + std::strerror(errno);
    return -1;
  }
  termios t{};
  if (::tcgetattr(fd, &t) != 0) {
    why = c.device + " is not a serial port: " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  ::cfmakeraw(&t);
  speed_t sp = serial_speed(c.baud);
  ::cfsetispeed(&t, sp);
  ::cfsetospeed(&t, sp);
  t.c_cflag &= ~static_cast<tcflag_t>(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
  t.c_cflag |= CLOCAL | CREAD;
  switch (c.data_bits) {
    case 5:
      t.c_cflag |= CS5;
      break;
    case 6:
      t.c_cflag |= CS6;
      break;
    case 7:
      t.c_cflag |= CS7;
      break;
    default:
      t.c_cflag |= CS8;
      break;
  }
  if (c.parity == 'e') t.c_cflag |= PARENB;
  if (c.parity == 'o') t.c_cflag |= PARENB | PARODD;
  if (c.parity != 'n') t.c_iflag |= INPCK;
  if (c.stop_bits == 2) t.c_cflag |= CSTOPB;
  t.c_iflag &= ~static_cast<tcflag_t>(IXON | IXOFF | IXANY);
  if (c.flow == "rtscts") t.c_cflag |= CRTSCTS;
  if (c.flow == "xonxoff") t.c_iflag |= IXON | IXOFF;
  t.c_cc[VMIN] = 0;
  t.c_cc[VTIME] = 0;
  if (::tcsetattr(fd, TCSANOW, &t) != 0) {
    why = "cannot configure " + c.device + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  ::tcflush(fd, TCIFLUSH);  // whatever sat in the buffer belongs to no current parcel
  return fd;
}

}  // namespace

void SerialScanner::run(Host& host, std::stop_token stop) {
  StatusReporter status(cfg_.common.name, host);
  ReadPipeline pipe(cfg_.common, host);
  Trigger trigger(cfg_.common);
  Backoff backoff(cfg_.common.retry_min_ms, cfg_.common.retry_max_ms);
  while (!stop.stop_requested()) {
    std::string why;
    int fd = open_serial(cfg_, why);
    if (fd < 0) {
      status.down(why);
      if (!backoff.wait(stop)) break;
      continue;
    }
    backoff.reset();
    status.up(cfg_.device + " open at " + std::to_string(cfg_.baud) + " baud");
    pipe.reset();
    why = stream_loop(fd, pipe, trigger, host, stop);
    pipe.idle();
    pipe.reset();
    ::close(fd);
    if (stop.stop_requested()) break;
    if (why == "the reader closed the connection") why = "end of file";
    status.down(cfg_.device + ": " + why);
    if (!backoff.wait(stop)) break;
  }
}

}  // namespace sortd::dev::scanner
